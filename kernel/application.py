"""The base of every service's eventsourcing Application: lookups that answer in the error contract."""
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from kernel.errors import NotFound


class ServiceApplication(Application):
    def __init__(self, env=None, pii_hash_key=""):
        super().__init__(env=env)
        self.pii_hash_key = pii_hash_key  # keys the hashes that dedup personal numbers

    def _get(self, aggregate_id, cls, what):
        """The aggregate of type ``cls`` with this id, or NotFound naming ``{what}_id``."""
        try:
            aggregate = self.repository.get(UUID(str(aggregate_id)))
        except (ValueError, AggregateNotFoundError):
            aggregate = None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} with id {aggregate_id}", {f"{what}_id": ["not found"]})
        return aggregate

    def _exists(self, aggregate_id):
        return bool(self.recorder.select_events(aggregate_id, limit=1))
