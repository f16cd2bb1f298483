import pytest

from tests.infrastructure import applications


@pytest.fixture
def app(tmp_path):
    """The registry application on the embedded SQLite event store, in the test's directory."""
    with applications("registry", tmp_path) as make:
        yield make()


@pytest.fixture
def two_replicas(tmp_path, postgres_db):
    """Two registry applications on one fresh PostgreSQL schema: two replicas of the service."""
    with applications("registry", tmp_path, postgres_db) as make:
        yield [make(), make()]
