import pytest

from kernel import eventstore
from services.awards.application import AwardsApplication
from tests.infrastructure import settings_for


@pytest.fixture
def app(tmp_path):
    """The awards application on the embedded SQLite event store, in the test's directory."""
    application = AwardsApplication(env=eventstore.application_env(settings_for(tmp_path), "awards"))
    yield application
    application.close()


@pytest.fixture
def two_replicas(tmp_path, postgres_db):
    """Two awards applications on one fresh PostgreSQL schema: two replicas of the service."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={postgres_db}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS awards CASCADE")
    settings = settings_for(tmp_path, event_store="postgres", postgres_db=postgres_db)
    apps = [AwardsApplication(env=eventstore.application_env(settings, "awards")) for _ in range(2)]
    yield apps
    for application in apps:
        application.close()
