"""The registry's erasures, applied by the other services whose events name the same experts
(funding's payments, awards' nominations and commendations): each destroys its own data key of
the person (kernel.personal) and records that it did, in one write.

Two ways bring an erasure in, both idempotent (an erasure applied already is not applied again):
- the bus: the registry's ``ExpertErased`` (a durable queue per service on RabbitMQ, so one
  published while the service was down is delivered when it is back);
- a sweep, when the process starts and then every ``ERASURE_SWEEP_SECONDS``: the registry lists
  the experts whose key it destroyed (RPC ``erased_experts``, from its key table's tombstones),
  and each one not yet applied here is applied. It catches what the bus cannot promise: an
  event published before this service's queue first existed, one lost with the in-process bus
  of a crashed embedded process, a handler that failed.
The recorded event names no one (the person's id only) and lets the service's projection show
``erased`` in its views; replaying the log shows the same, as the sealed fields no longer open.
"""

import logging
import os
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import eventlet
from eventsourcing.domain import Aggregate
from nameko.events import event_handler
from nameko.exceptions import MethodNotFound, RemoteError, UnknownService
from nameko.timer import timer

from kernel.errors import DomainError

# nameko fixes a timer's interval when the class is defined, so this one setting is read here.
SWEEP_SECONDS = float(os.environ.get("ERASURE_SWEEP_SECONDS", "300"))
CALL_TIMEOUT_SECONDS = 10
PAGE = 1000
log = logging.getLogger("kjfp.erasure")


@dataclass
class Erasure(Aggregate, created_event_name="PersonErased"):
    """The erasure of one person's data in this service (their key here destroyed with it)."""

    person_id: str
    source: str  # the service that erased the person first (the registry)

    @staticmethod
    def create_id(person_id) -> UUID:
        return uuid5(NAMESPACE_URL, f"kjfp:erasure:{person_id}")


class AppliesErasures:
    """Mixed into the nameko class of a service whose events name the registry's experts; the
    class asks the registry through its ``registry`` proxy (kernel.acting.PeerRpcProxy)."""

    parts: Any
    registry: Any

    @event_handler("registry", "ExpertErased")
    def expert_erased(self, envelope):
        self.parts.app.erase_person(envelope["originator_id"], "registry")

    @timer(interval=SWEEP_SECONDS, eager=True)
    def sweep_erasures(self):
        """Apply every erasure the registry has made and this service has not."""
        app = self.parts.app
        after = ""
        while True:
            try:
                with eventlet.Timeout(CALL_TIMEOUT_SECONDS):
                    page = self.registry.erased_experts(after, PAGE)
            except (
                UnknownService,
                MethodNotFound,
                RemoteError,
                DomainError,
                eventlet.Timeout,
            ) as error:
                # Not running, an older replica, views being built, or no answer: asked again.
                log.warning("the registry did not list its erasures (%s)", type(error).__name__)
                return
            for person_id in app.not_erased(page["ids"]):
                app.erase_person(person_id, "registry")
            if page["next"] is None:
                return
            after = page["next"]
