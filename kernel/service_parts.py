"""What every service process holds and answers alike, built from the service's ``Declaration``:
its Application, view store, outbox and projections (``ServiceParts``, given to the nameko
class as its ``parts``), and in ``LogService`` the actor each call is made for (``actor``,
kernel/acting.py) and the RPCs and timer that concern the log rather than the domain:
notifications for consumers, checkpoints and stored events for auditors, readiness, the pump
that publishes and projects, and a log line per call."""

import base64
import functools
import os
import time
from contextlib import contextmanager

import eventlet
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from kernel import config, views
from kernel.acting import CurrentActor
from kernel.bus import BatchDispatcher
from kernel.call_log import CallLog
from kernel.decoding import DecodedAhead, RecentlyDecoded
from kernel.errors import ViewsBuilding
from kernel.idempotency import from_request
from kernel.outbox import Outbox
from kernel.projection import ProjectionRunner
from kernel.sealed import rpc
from kernel.tree import checkpoint_signer

# nameko fixes a timer's interval when the class is defined, so this one setting is read here.
POLL_SECONDS = float(os.environ.get("POLL_INTERVAL", "0.2"))
MAX_PAGE = 1000
EMBEDDED_BATCH = 500
# A bulk import comes as batches, one call each (``importing``). Publishing and projecting
# between them made the upload's answer wait for work no one had asked for yet: 36-47% of the
# application's import rate over HTTP, 50-63% with the pump held until the last batch
# (benchmarks/README.md), and the views no later up to date than when the two took turns.
# Meanwhile a read catches the views up itself (kernel/projection.py ``read``), and one that
# finds them too far behind for that right after an import waits for the pump, up to
# AFTER_BULK_WAIT_SECONDS, rather than answer 503. A hold ends with the import's last batch, or
# BULK_QUIET_SECONDS after a batch if no other comes (a client gone mid-upload), and never lasts
# more than BULK_HOLD_MAX_SECONDS at a stretch: an endless stream of imports still gets its
# views built.
BULK_QUIET_SECONDS = 1.0
BULK_HOLD_MAX_SECONDS = 60.0
AFTER_BULK_WAIT_SECONDS = 30.0


class ServiceParts:
    clock = staticmethod(time.monotonic)

    def __init__(self, settings, log):
        self.settings = settings
        self.log = log
        self._held: tuple[float, float] | None = None  # (since, until): an import holds the pump
        self._bulk_backlog = False  # an import's events the pump has not yet taken in
        self.app = log.open(settings)
        if settings.embedded and not settings.mongo_uri:
            views.hold_data_dir(settings)  # one process serves a data directory's views
        self.views = views.connect(settings)
        # Embedded, one eventlet hub serves every request and the event and view stores block it:
        # batches (a pause after each) let other requests in between. 500 events hold the hub
        # ~50 ms, as long as one batch of a bulk import; at 50, a batch's commits and signed
        # checkpoint cost more than its events.
        batch = {"batch_size": EMBEDDED_BATCH} if settings.embedded else {}
        decode = RecentlyDecoded(self.app.mapper)
        self.app.recorded = decode.remember
        self.outbox = Outbox(
            log.name,
            self.app,
            log.personal_fields,
            signer=checkpoint_signer(settings, log.name),
            decode=decode,
            **batch,
        )
        # Embedded, this process is the only one applying (it holds the data directory), so a
        # lease left by a process that crashed is taken over at once rather than waited out.
        self.runners = tuple(
            ProjectionRunner(
                self.app,
                self.views,
                p(),
                take_over=settings.embedded,
                decode=decode,
                decode_ahead=functools.partial(DecodedAhead, log, settings),
                **batch,
            )
            for p in log.projections
        )
        for runner in self.runners:
            runner.projection.create_indexes(self.views)

    def read(self, query):
        """``(position, query(views))`` from the service's (first) projection, caught up. If the
        projection is stopped at an event it cannot apply, the answer comes from the views as they
        stand and, when it is a dict, says so: ``stale`` names the projection, the position and
        the error (``ViewsBuilding`` while the views are being built, or too far behind after a
        bulk import: right after its last batch a read waits for the pump, up to
        AFTER_BULK_WAIT_SECONDS)."""
        runner = self.runners[0]
        deadline = self.clock() + AFTER_BULK_WAIT_SECONDS
        while True:
            try:
                position, answer = runner.read(query)
                break
            except ViewsBuilding as building:
                if not self._bulk_backlog:
                    raise
                if self._held or self.clock() >= deadline:
                    raise _after_import(building) from None
                eventlet.sleep(0.1)  # the pump takes the import's rows in: ~6-12 s for 100,000
        stopped = runner.stopped()
        if stopped and isinstance(answer, dict):
            answer = {
                **answer,
                "stale": {"projection": runner.name, "position": position, "error": stopped},
            }
        return position, answer

    def checkpoint(self, position, publish):
        """The signed checkpoint a figure computed at log ``position`` names (kernel/tree.py
        ``vouch``): one whose tree holds every event up to ``position``, never one short of it.
        A read may have projected events the outbox has not yet published (the pump publishes
        every POLL_SECONDS): then they are published now, as the pump would, and the checkpoint
        signed at the end of that publication (or one signed at ``position``) is the one. None
        for the empty log (position 0)."""
        if not position:
            return None
        found = self.outbox.tree.vouch(position)
        if found is None:
            self.outbox.publish_pending(publish)
            found = self.outbox.tree.vouch(position)
        if found is None:
            raise LookupError(
                f"the {self.log.name} tree does not reach position {position} after publishing"
            )
        return found

    @contextmanager
    def importing(self, last):
        """One batch of a bulk import: the pump waits for the next batch (BULK_QUIET_SECONDS from
        this one's end) or, after the ``last``, goes on at its next tick."""
        self._hold_pump()
        try:
            yield
        finally:
            if last:
                self._held = None
            else:
                self._hold_pump()

    def _hold_pump(self):
        now = self.clock()
        self._held = (self._held[0] if self._held else now, now + BULK_QUIET_SECONDS)
        self._bulk_backlog = True

    def pump(self, publish):
        """Publish newly recorded events, then bring the views up to date; False while a bulk
        import holds it back."""
        if self._held:
            since, until = self._held
            now = self.clock()
            if now < until and now - since < BULK_HOLD_MAX_SECONDS:
                return False
            self._held = None
        self.outbox.publish_pending(publish)
        for runner in self.runners:
            runner.run()
        if self._held is None:  # no import began meanwhile
            self._bulk_backlog = False
        return True

    def projections(self):
        """Each projection's state for readiness: name, position, log head, state, error, whether
        its views are being built (more than BUILDING_LAG behind), and whether a bulk import's
        rows are still being taken in (``after_import``: the lag is the import's)."""
        head = self.app.recorder.max_notification_id() or 0
        found = []
        for runner in self.runners:
            tracking = runner.tracking()
            found.append(
                {
                    "projection": runner.name,
                    "position": tracking["position"],
                    "head": head,
                    "state": tracking.get("state") or "running",
                    "error": tracking.get("error"),
                    "building": runner.building(head) is not None,
                    "after_import": self._bulk_backlog,
                }
            )
        return found

    def rebuild(self):
        """Drop every view of this service and replay the log into them: ``{projection: position}``."""
        return {runner.name: runner.rebuild() for runner in self.runners}

    def close(self):
        for runner in self.runners:
            try:
                runner.release()
            except Exception:  # noqa: BLE001 - a lease left behind expires by itself
                pass
        self.app.close()
        if self.settings.mongo_uri:  # the embedded store lives as long as the process
            self.views.client.close()


class PartsProvider(DependencyProvider):
    def __init__(self, log):
        self.log = log

    def setup(self):
        self.parts = ServiceParts(config.from_container(self.container), self.log)

    def stop(self):
        self.parts.close()

    def get_dependency(self, worker_ctx):
        return self.parts


class LogService:
    """The base of every service's nameko class: ``class RegistryService(LogService,
    serves=SERVICE)`` names the nameko service as its declaration and gives it its ``parts``."""

    name: str  # the nameko service's name
    parts: ServiceParts  # what nameko gives each worker from the PartsProvider

    actor = CurrentActor()
    publish = BatchDispatcher()
    calls = CallLog()

    def __init_subclass__(cls, serves=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if serves is not None:
            cls.name = serves.name
            cls.parts = PartsProvider(serves)

    @rpc
    def notifications(self, after=0, limit=100):
        """The published form of the log (masked), for consumers catching up."""
        return self.parts.outbox.read(after, min(limit, MAX_PAGE))

    @rpc
    def checkpoints(self):
        """The chain's checkpoints: (position, hash, time), oldest first."""
        return self.parts.outbox.ledger.checkpoints()

    @rpc
    def signed_checkpoints(self, limit=10):
        """The latest signed Merkle checkpoints (oldest first) and the verifier keys, the
        current one first and then every earlier one (issue 16)."""
        tree = self.parts.outbox.tree
        return {
            "signed": tree.signed(min(limit, MAX_PAGE)),
            "verifier_key": tree.signer.verifier_key,
            "verifier_keys": [tree.signer.verifier_key]
            + [key for key in reversed(tree.verifier_keys()) if key != tree.signer.verifier_key],
        }

    @rpc
    def inclusion_proof(self, position, tree_size=None):
        return self.parts.outbox.tree.inclusion(position, tree_size)

    @rpc
    def consistency_proof(self, first, second=None):
        return self.parts.outbox.tree.consistency(first, second)

    @rpc
    def stored_events(self, after=0, limit=100):
        """The log as stored, for auditors: state bytes as stored (encrypted, base64), with the
        chain hash each event was published with (None while not yet published)."""
        parts = self.parts
        notifications = parts.app.recorder.select_notifications(
            start=after + 1, limit=min(limit, MAX_PAGE)
        )
        links = (
            dict(parts.outbox.ledger.links(after, notifications[-1].id)) if notifications else {}
        )
        return [stored_form(n, links.get(n.id)) for n in notifications]

    @rpc
    def ready(self):
        """``{ready, projections}``: not ready while a projection is stopped at an event it
        cannot apply or its views are being built (reads answer meanwhile, from the views as
        they stand, or 503 while building)."""
        self.parts.views.command("ping")
        projections = self.parts.projections()
        ready = all(p["state"] == "running" and not p["building"] for p in projections)
        return {"ready": ready, "projections": projections}

    @timer(interval=POLL_SECONDS)
    def pump(self):
        """Publish newly recorded events, then bring the views up to date."""
        self.parts.pump(self.publish)

    def _checkpoint(self, position):
        """This service's signed checkpoint for a figure computed at ``position``."""
        return self.parts.checkpoint(position, self.publish)

    def _keyed(self, request):
        """The write's Idempotency-Key as the gateway passed it on, bound to the requester."""
        return from_request(self.name, self.actor, request)


def stored_form(notification, chain_hash):
    """One event as an export line and the audit API carry it."""
    return {
        "position": notification.id,
        "originator_id": str(notification.originator_id),
        "version": notification.originator_version,
        "topic": notification.topic,
        "state": base64.b64encode(bytes(notification.state)).decode(),
        "chain_hash": chain_hash,
    }


def _after_import(building):
    """The 503 of views a bulk import has left behind, said as such: not a first build or a
    rebuild, and over once the pump has taken the import's rows in."""
    details = building.details
    return ViewsBuilding(
        f"the views of {details['projection'][0]} are being brought up to date after a bulk "
        f"import: position {details['position'][0]} of {details['head'][0]}; try again shortly",
        details,
    )
