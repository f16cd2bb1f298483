import pytest

from kernel import eventstore
from services.supervision.application import SupervisionApplication
from tests.infrastructure import settings_for


@pytest.fixture
def app(tmp_path):
    """The supervision application on the embedded SQLite event store, in the test's directory."""
    application = SupervisionApplication(env=eventstore.application_env(settings_for(tmp_path), "supervision"))
    yield application
    application.close()
