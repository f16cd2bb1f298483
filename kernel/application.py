"""The base of every service's eventsourcing Application, and ``@command``: the one place where a
write is retried after a lost race and a repeated Idempotency-Key is answered with the first
result; lookups that answer in the error contract."""

import contextvars
import functools
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Recording

from kernel import personal
from kernel.concurrency import retrying
from kernel.erasure import Erasure
from kernel.errors import DomainError, NotFound

# The key of the command running in this greenthread, until its save() records it.
_pending_key = contextvars.ContextVar("kjfp_pending_idempotency", default=None)


def command(method=None, *, reread=None):
    """Mark an Application method as a command (a write). It takes ``idempotency`` (a
    kernel.idempotency.Idempotency, or None) beside its own arguments:
    - a key already used for the same request answers ``reread(app, result_id)`` at once and
      records nothing; for another request, 409 naming ``Idempotency-Key``;
    - otherwise the command runs, and its ``save()`` records the key with its aggregates in the
      same atomic write, naming the first object saved as the result (or ``save(..., result_id=)``);
    - a save that lost an optimistic-concurrency race re-runs the whole, key check included, and
      a refusal is checked against the key again (a racing twin with the key may have won).
    ``reread`` defaults to the aggregate the result id names."""
    if method is None:
        return functools.partial(command, reread=reread)

    @functools.wraps(method)
    def run(app, *args, idempotency=None, **kwargs):
        def first_result():
            earlier = idempotency.earlier_result(app) if idempotency is not None else None
            return (
                None if earlier is None else (reread or ServiceApplication.aggregate)(app, earlier)
            )

        def attempt():
            answered = first_result()
            if answered is not None:
                return answered
            token = _pending_key.set(idempotency)
            try:
                return method(app, *args, **kwargs)
            except DomainError:
                # A twin request with the same key may have been recorded since the check above
                # (and made this one a duplicate): its result is this request's answer too.
                answered = first_result()
                if answered is None:
                    raise
                return answered
            finally:
                _pending_key.reset(token)

        return retrying(attempt)

    return run


class ServiceApplication(Application):
    # Event class name → the fields that name a person, sealed under the record's own data key
    # (kernel.personal) so that the person can be erased; none by default.
    sealed_events: dict[Any, Any] = {}

    def __init__(self, env=None, pii_hash_key="", person_keys=None):
        """``person_keys``: where the data keys are (default: the event store's own database)."""
        self._person_keys = person_keys
        super().__init__(env=env)
        self.pii_hash_key = pii_hash_key  # keys the hashes that dedup personal numbers

    def construct_mapper(self):
        mapper = super().construct_mapper()
        return (
            personal.PersonalMapper(mapper, None, self.sealed_events)
            if self.sealed_events
            else mapper
        )

    def construct_event_store(self):
        if not isinstance(self.mapper, personal.PersonalMapper):
            return super().construct_event_store()
        table = self._person_keys
        if table is None and getattr(self.recorder, "datastore", None) is not None:
            table = personal.KeyTable(self.recorder)
            table.hook(self.recorder)  # the keys go into the events' own transaction
        elif table is None:
            table = personal.MemoryKeyTable()
        self.mapper.ring = personal.KeyRing(self.env.get("CIPHER_KEY") or "", table)
        return personal.PersonalEventStore(mapper=self.mapper, recorder=self.recorder)

    # Given each save's Recordings once they are stored (a service process: its
    # kernel.decoding.RecentlyDecoded, shared by its outbox and projections).
    recorded: Callable[[list[Recording]], None] | None = None

    def _notify(self, recordings):
        if self.recorded is not None:
            self.recorded(recordings)

    def save(self, *objects, result_id=None, **kwargs):
        """Save, adding the running command's idempotency record to the same atomic write."""
        idempotency = _pending_key.get()
        if idempotency is not None:
            _pending_key.set(None)  # one record per command
            first = objects[0]
            result_id = result_id or getattr(first, "id", None) or first.originator_id
            objects += (idempotency.record(result_id),)
        return super().save(*objects, **kwargs)

    @command
    def erase_person(self, person_id, source):
        """Apply another service's erasure of a person this service's events name: destroy the
        person's key here and record it (kernel.erasure), in one write; once only."""
        if not self.not_erased([person_id]):
            return None
        erasure = Erasure(person_id=person_id, source=source)
        self.save(erasure, erased_persons=[person_id])
        return erasure

    def not_erased(self, person_ids):
        """Those of ``person_ids`` whose erasure this service has not applied (nor recorded)."""
        assert isinstance(self.mapper, personal.PersonalMapper), "its events name no one"
        ring = self.mapper.ring
        ring.forget(person_ids)  # as stored now, not as this process held them
        ring.load(person_ids)
        return [i for i in person_ids if ring.lookup(i) is not None]

    def aggregate(self, aggregate_id):
        return self.repository.get(UUID(str(aggregate_id)))

    def _get(self, aggregate_id, cls, what):
        """The aggregate of type ``cls`` with this id, or NotFound naming ``{what}_id``."""
        try:
            aggregate = self.aggregate(aggregate_id)
        except (ValueError, AggregateNotFoundError):
            aggregate = None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} with id {aggregate_id}", {f"{what}_id": ["not found"]})
        return aggregate

    def _exists(self, aggregate_id):
        return bool(self.recorder.select_events(aggregate_id, limit=1))
