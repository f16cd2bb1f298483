import pytest

from kernel import eventstore
from services.funding.application import FundingApplication
from tests.infrastructure import settings_for


@pytest.fixture
def app(tmp_path):
    """The funding application on the embedded SQLite event store, in the test's directory."""
    application = FundingApplication(
        env=eventstore.application_env(settings_for(tmp_path), "funding"), pii_hash_key="test-key")
    yield application
    application.close()


@pytest.fixture
def replicas(tmp_path, postgres_db):
    """A factory of funding applications on one fresh PostgreSQL schema: replicas of the service."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={postgres_db}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS funding CASCADE")
    settings = settings_for(tmp_path, event_store="postgres", postgres_db=postgres_db)
    made = []

    def make():
        made.append(FundingApplication(env=eventstore.application_env(settings, "funding"), pii_hash_key="test-key"))
        return made[-1]

    yield make
    for application in made:
        application.close()
