"""Idempotency-Key: a retried write returns the first result and records nothing new.

The key is recorded as an aggregate whose id derives from (service, requester, key), saved in
the same atomic ``save()`` as the command's own aggregates. A retry that races the original
therefore conflicts in the event store rather than recording twice; once the original is
stored, the retry finds the record and answers with the resource it names.
"""

import hmac
import json
from dataclasses import dataclass
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from kernel.errors import Conflict


def fingerprint(key, body):
    """A keyed hash of the request: it is stored in an event that goes on the bus, and an
    unkeyed hash of a form holding an ID number could be reversed by trying candidates."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(key.encode(), canonical, "sha256").hexdigest()


@dataclass
class IdempotencyRecord(Aggregate, created_event_name="IdempotencyKeyUsed"):
    service: str
    requester: str
    key: str
    fingerprint: str
    result_id: str

    @staticmethod
    def create_id(service, requester, key):
        return uuid5(NAMESPACE_URL, f"kjfp:idempotency:{service}:{requester}:{key}")


class Idempotency:
    """One write request's key, as the application sees it (None when the client sent none)."""

    def __init__(self, service, requester, key, request_fingerprint):
        self.service, self.requester, self.key = service, requester, key
        self.fingerprint = request_fingerprint

    @property
    def record_id(self):
        return IdempotencyRecord.create_id(self.service, self.requester, self.key)

    def earlier_result(self, application):
        """The id of the resource the first request with this key created, if any."""
        if not application.recorder.select_events(self.record_id, limit=1):
            return None
        record = application.repository.get(self.record_id)
        if record.fingerprint != self.fingerprint:
            raise Conflict(
                "this Idempotency-Key was already used for a different request",
                {"Idempotency-Key": ["already used for a different request"]},
            )
        return record.result_id

    def record(self, result_id):
        return IdempotencyRecord(
            service=self.service,
            requester=self.requester,
            key=self.key,
            fingerprint=self.fingerprint,
            result_id=str(result_id),
        )


class KeyedRequest:
    """A write the client sent with an ``Idempotency-Key``, as the gateway received it: the
    fingerprint covers the method, the path and the JSON body as sent, so what the server fills
    in (a defaulted ``effective_date``) never makes the same retry a different request."""

    def __init__(self, key, method, path, body):
        self.key, self.method, self.path, self.body = key, method, path, body

    def wire(self, hash_key):
        """What travels to the service: the key and a keyed fingerprint (never the body again)."""
        request = {"method": self.method, "path": self.path, "body": self.body}
        return {"key": self.key, "fingerprint": fingerprint(hash_key, request)}


def from_request(service, actor, request):
    """The key the gateway passed on (``KeyedRequest.wire``; None without one), bound to the requester."""
    if not request:
        return None
    return Idempotency(service, actor.subject, request["key"], request["fingerprint"])
