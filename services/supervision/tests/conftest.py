import pytest

from tests.infrastructure import applications


@pytest.fixture
def app(tmp_path):
    """The supervision application on the embedded SQLite event store, in the test's directory."""
    with applications("supervision", tmp_path) as make:
        yield make()
