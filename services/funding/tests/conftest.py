import pytest

from tests.infrastructure import applications


@pytest.fixture
def app(tmp_path):
    """The funding application on the embedded SQLite event store, in the test's directory."""
    with applications("funding", tmp_path) as make:
        yield make()


@pytest.fixture
def replicas(tmp_path, postgres_db):
    """A factory of funding applications on one fresh PostgreSQL schema: replicas of the service."""
    with applications("funding", tmp_path, postgres_db) as make:
        yield make
