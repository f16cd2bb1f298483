import pytest

from tests.infrastructure import applications


@pytest.fixture
def app(tmp_path):
    """The awards application on the embedded SQLite event store, in the test's directory."""
    with applications("awards", tmp_path) as make:
        yield make()


@pytest.fixture
def two_replicas(tmp_path, postgres_db):
    """Two awards applications on one fresh PostgreSQL schema: two replicas of the service."""
    with applications("awards", tmp_path, postgres_db) as make:
        yield [make(), make()]
