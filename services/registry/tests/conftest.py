import pytest

from kernel import eventstore
from services.registry.application import RegistryApplication
from tests.infrastructure import settings_for


@pytest.fixture
def app(tmp_path):
    """The registry application on the embedded SQLite event store, in the test's directory."""
    application = RegistryApplication(
        env=eventstore.application_env(settings_for(tmp_path), "registry"), pii_hash_key="test-key")
    yield application
    application.close()
