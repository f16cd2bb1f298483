"""The registry's erasures, applied by the other services whose events name the same experts
(funding's payments, awards' nominations and commendations): each destroys its own data key of
the person (kernel.personal) and records that it did, in one write.

Two ways bring an erasure in, both idempotent (an erasure applied already is not applied again):
- the bus: the registry's ``ExpertErased`` (a durable queue per service on RabbitMQ, so one
  published while the service was down is delivered when it is back);
- a sweep, when the process starts and then every ``ERASURE_SWEEP_SECONDS``: the registry lists
  the experts whose key it destroyed (RPC ``erased_experts``, from its key table's tombstones),
  and each one not yet applied here is applied. A sweep the registry did not answer (not running
  yet, its views being built at a first start on a long log) is made again after
  ``RETRY_SECONDS``, then twice that, and so on up to the full interval. It catches what the
  bus cannot promise: an event published before this service's queue first existed, one lost
  with the in-process bus of a crashed embedded process, a handler that failed.
The recorded event names no one (the person's id only) and lets the service's projection show
``erased`` in its views; replaying the log shows the same, as the sealed fields no longer open.
"""

import logging
import os
import time
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import eventlet
from eventsourcing.domain import Aggregate
from nameko.events import event_handler
from nameko.exceptions import MethodNotFound, RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from kernel.errors import DomainError

# nameko fixes a timer's interval when the class is defined, so this one setting is read here.
SWEEP_SECONDS = float(os.environ.get("ERASURE_SWEEP_SECONDS", "300"))
# The timer ticks this often; a tick sweeps only when the schedule says a sweep is due.
RETRY_SECONDS = min(5.0, SWEEP_SECONDS)
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


class SweepSchedule:
    """When the next sweep is due: at once (the sweep at start), then ``every`` seconds after a
    sweep the registry answered, or sooner after one it did not: ``first_retry`` seconds, twice
    that after another, and so on up to ``every``."""

    def __init__(self, every=SWEEP_SECONDS, first_retry=RETRY_SECONDS, clock=time.monotonic):
        self.every, self.first_retry, self.clock = every, first_retry, clock
        self.due, self.retry = clock(), first_retry

    def is_due(self):
        return self.clock() >= self.due

    def answered(self):
        self.due, self.retry = self.clock() + self.every, self.first_retry

    def unanswered(self):
        """Schedule the retry; return the seconds until it."""
        wait, self.retry = self.retry, min(2 * self.retry, self.every)
        self.due = self.clock() + wait
        return wait


class Sweeps(DependencyProvider):
    """The service container's one ``SweepSchedule`` (a worker lives for one call)."""

    def setup(self):
        self.schedule = SweepSchedule()

    def get_dependency(self, worker_ctx):
        return self.schedule


class AppliesErasures:
    """Mixed into the nameko class of a service whose events name the registry's experts; the
    class asks the registry through its ``registry`` proxy (kernel.acting.PeerRpcProxy)."""

    parts: Any
    registry: Any
    sweeps = Sweeps()

    @event_handler("registry", "ExpertErased")
    def expert_erased(self, envelope):
        self.parts.app.erase_person(envelope["originator_id"], "registry")

    @timer(interval=RETRY_SECONDS, eager=True)
    def sweep_erasures(self):
        """When a sweep is due, apply every erasure the registry has made and this service has
        not."""
        if not self.sweeps.is_due():
            return
        app = self.parts.app
        after, applied = "", 0
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
                # Not running yet, an older replica, views being built, or no answer: asked again
                # soon (what this sweep applied before the failure stays applied).
                log.warning(
                    "the registry did not list its erasures (%s); asking again in %.0f s",
                    type(error).__name__,
                    self.sweeps.unanswered(),
                )
                return
            for person_id in app.not_erased(page["ids"]):
                app.erase_person(person_id, "registry")
                applied += 1
            if page["next"] is None:
                break
            after = page["next"]
        self.sweeps.answered()
        if applied:
            log.info("applied %d erasures the registry listed and the bus had not brought", applied)
