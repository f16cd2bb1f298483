"""Pull-based projection runner: catch a view up with a service's notification log.

It reads notifications after its tracking position, lets the projection write upserts keyed by
natural keys, then records the new tracking position. A crash between the two writes makes the
next run re-apply the same events, which rewrites the same documents: no double count. Driven
by explicit pulls (a timer, or a read that wants fresh figures), because eventsourcing's
subscribe() runners break under eventlet.

The tracking document (collection ``tracking``, ``_id`` the projection's name) holds:
  ``position``     the last event applied;
  ``state``        ``running``, or ``stopped`` when an event could not be applied, with
  ``error``        ``{position, event, type, message, since}`` of that event (the message with
                   long digit runs masked: no personal numbers);
  ``lease_owner`` / ``lease_until``  which process applies the projection, until when (epoch s);
  ``writing``      while a batch is being written, the last position it (or a batch cut off
                   before it) reaches; None once the position is tracked there.

The lease: only the process holding it applies events, renewing it while it works, so two
replicas never apply one projection at once. Another replica reads the views only when they stand
at a tracked position: no ``writing`` mark before its query and the same position and no mark
after it (a seqlock); views mid-batch for longer than READ_WAIT_SECONDS (their holder killed while
writing, until its lease is taken over) answer 503 rather than a figure half a batch made.
A projection whose writes are not idempotent
(``$inc`` deltas) relies on this; it must also keep each event's writes in one ``bulk_write``
per collection, because a batch that fails is re-applied one event at a time to find the event
that cannot be applied (on MongoDB a failed ordered ``bulk_write`` may have applied a prefix;
the embedded store's is all or nothing). Handlers run before anything is written, so an error
in a handler never leaves a batch half written.

A projection that cannot apply an event stops there: the views stay as they stand (readers get
them with their position, never an error), the state is recorded, one line is logged, and the
event is retried with exponential backoff (1 s doubling to 5 min; at once after a restart, so a
deployed fix resumes it). See deploy/OPERATIONS.md.
"""

import gc
import logging
import os
import re
import socket
import time
import traceback
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

import eventlet
import eventlet.semaphore
from pymongo.errors import DuplicateKeyError

from kernel import personal
from kernel import views as view_store
from kernel.concurrency import pause
from kernel.errors import ViewsBuilding

TRACKING = "tracking"
LEASE_SECONDS = float(os.environ.get("PROJECTION_LEASE_SECONDS", "30"))
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 300.0
READ_WAIT_SECONDS = 2.0  # how long a read waits for another replica to catch its views up
CATCH_UP_BATCH = 10_000  # events per batch when far behind (a rebuild, a restart after a long stop)
# Batches decoded here while a second process starts to decode the rest (a new interpreter: about
# a second, three batches' work here; waiting for it instead cost a tenth of a cold build).
AHEAD_AFTER = 3
BUILDING_LAG = 50_000  # events behind beyond which reads answer 503 while the pump builds (~5 s)
BUILD_PAUSE_SECONDS = 0.005  # between those batches in a serving process: HTTP answers meanwhile
log = logging.getLogger("kjfp.projection")
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # who holds a lease


def ended(owner):
    """Whether a lease's ``owner`` (``host:pid:nonce``) is a process of this host that no longer
    runs: one killed (SIGKILL, a crash) would otherwise hold every other process off for up to
    ``LEASE_SECONDS``, its last batch perhaps half written meanwhile. On this host, with this
    process's pid and another nonce, it is this container's previous run (a container's process
    keeps its pid across restarts). Another host's, or a pid in use, is left to its lease."""
    host, _, rest = owner.partition(":")
    pid, _, _nonce = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return owner != PROCESS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def event_name(topic):
    """``services.registry.domain:Target.TargetsSet`` → ``TargetsSet``."""
    return topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]


def clean_message(error):
    """The error's message for the tracking document and logs: one line, at most 300 characters,
    runs of 6 or more digits (an ID number, an account) replaced by their length."""
    text = " ".join(str(error).split())
    text = re.sub(r"\d{6,}[\dXx]*", lambda m: f"<{len(m.group())} digits>", text)
    return text[:300]


@contextmanager
def no_cyclic_gc():
    """Building views makes millions of small dicts that never form cycles; the cyclic
    collector's full passes over them cost more than the build itself past a few hundred
    thousand documents (measured: a cold rebuild at half the rate). Reference counting still
    frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def describe(error):
    """One line for a stopped projection's error record."""
    return (
        f"cannot apply log position {error['position']} ({error['event']}): {error['type']}: "
        f"{error['message']} (since {error['since']})"
    )


class ProjectionRunner:
    def __init__(
        self,
        application,
        views,
        projection,
        batch_size=1000,
        owner=None,
        take_over=False,
        clock=time.time,
        decode=None,
        decode_ahead=None,
    ):
        """``decode`` turns a notification into its domain event (default: the application's
        mapper; a service process shares one kernel.decoding.RecentlyDecoded with its outbox).
        ``decode_ahead(start, stop, size)``, if given, starts a kernel.decoding.DecodedAhead:
        far behind, the events are decoded in a second process, pipelined with applying them."""
        self.application = application
        self.decode = decode or application.mapper.to_domain_event
        self.decode_ahead = decode_ahead
        self.views = views
        self.projection = projection
        self.batch_size = batch_size
        self.owner = owner or PROCESS
        self.clock = clock
        self.progress = None  # (position, head) while catching up from far behind
        self.pause = BUILD_PAUSE_SECONDS  # 0 where nothing else runs (kjfp rebuild-views)
        self.on_batch = None  # called with the position after each batch (a progress bar)
        self._take_over = (
            take_over  # the first lease ignores another holder (embedded: one process)
        )
        self._lease_until = 0.0
        self._retry_at = 0.0
        self._delay = 0.0
        self._stopped_here = None  # the failing position this process has logged
        self._mark = 0  # the ``writing`` mark to clear once the tracked position reaches it
        self._lock = eventlet.semaphore.Semaphore()

    @property
    def name(self):
        return self.projection.name

    # -- the tracking document ---------------------------------------------------------------
    def tracking(self):
        return self.views[TRACKING].find_one({"_id": self.name}) or {
            "_id": self.name,
            "position": 0,
        }

    def position(self):
        return self.tracking()["position"]

    def stopped(self):
        """The error the projection is stopped at (None: running)."""
        doc = self.tracking()
        return doc.get("error") if doc.get("state") == "stopped" else None

    def _hold_lease(self):
        now = self.clock()
        if self._lease_until - now > LEASE_SECONDS / 2:
            return True
        tracking = self.views[TRACKING]
        doc = tracking.find_one({"_id": self.name})
        if doc is None:
            doc = {
                "_id": self.name,
                "position": 0,
                "state": "running",
                "error": None,
                "lease_owner": "",
                "lease_until": 0,
                "version": self.projection.version,
            }
            try:
                tracking.insert_one(dict(doc))
            except DuplicateKeyError:
                pass
        holder = doc.get("lease_owner") or ""
        left = holder != self.owner and ended(holder)
        held_elsewhere = holder != self.owner and doc.get("lease_until", 0) >= now and not left
        if held_elsewhere and not self._take_over:
            self._lease_until = 0.0
            return False
        free = [{"lease_owner": self.owner}, {"lease_until": {"$lt": now}}]
        if left:  # its batch may be half written: the journal it left is applied first
            free.append({"lease_owner": holder})
        if (
            self._take_over or "lease_until" not in doc
        ):  # embedded start, a rebuild; or tracked before leases
            free.append({"_id": self.name})
        taken = tracking.update_one(
            {"$and": [{"_id": self.name}, {"$or": free}]},
            {"$set": {"lease_owner": self.owner, "lease_until": now + LEASE_SECONDS}},
        )
        self._take_over = False
        self._lease_until = now + LEASE_SECONDS if taken.matched_count else 0.0
        return bool(taken.matched_count)

    def release(self):
        """Give the lease up (a stopping process), so a successor applies at once."""
        if self._lease_until:
            self.views[TRACKING].update_one(
                {"_id": self.name, "lease_owner": self.owner}, {"$set": {"lease_until": 0}}
            )
            self._lease_until = 0.0

    def _writing(self, last):
        """Mark the views mid-batch up to ``last`` before writing them (or up to where a batch
        cut off before reached, if further: its journal is finished by this one)."""
        self._mark = max(self._mark, last)
        self.views[TRACKING].update_one(
            {"_id": self.name, "lease_owner": self.owner}, {"$set": {"writing": self._mark}}
        )

    def _track(self, position):
        # Conditional on the lease and on moving forward: a replica that lost its lease, or a
        # slower one, never moves the tracking position back.
        mine_and_behind = {
            "$and": [
                {"_id": self.name},
                {"lease_owner": self.owner},
                {"position": {"$lt": position}},
            ]
        }
        settled = position >= self._mark
        self.views[TRACKING].update_one(
            mine_and_behind,
            {"$set": {"position": position, "writing": None if settled else self._mark}},
        )
        if settled:
            self._mark = 0

    # -- applying ------------------------------------------------------------------------------
    def run(self, stop=None):
        """Process everything up to ``stop`` (default: the log's end), if this process holds the
        lease and the projection is not waiting out a backoff; return the tracked position."""
        with self._lock:
            return self._catch_up(stop)

    def _catch_up(self, stop, head=None):
        if not self._hold_lease():
            return self.position()
        tracking = self.tracking()
        position, stopped = tracking["position"], tracking.get("state") == "stopped"
        if stopped and self.clock() < self._retry_at:
            return position
        self._mark = tracking.get("writing") or 0  # a batch cut off while written
        if head is None:
            head = self._head()
        if stop is not None:
            head = min(head, stop)
        builder = tracking.get("from_scratch")
        outdated = tracking.get("version", 1) != self.projection.version
        scratch = (
            (builder and builder != self.owner)
            or (not builder and not stopped and position == 0 and head > BUILDING_LAG)
            or (outdated and position)
        )
        far = head - (0 if scratch else position) > BUILDING_LAG
        try:
            with (
                no_cyclic_gc() if far else nullcontext(),
                view_store.building(self.views)
                if scratch or builder == self.owner
                else nullcontext(),
            ):
                if scratch:
                    # a first build, one that was cut off, or views an older version wrote
                    position = self._start_over(scratch=True)
                else:
                    self.projection.from_scratch = builder == self.owner
                position = self._catch_up_to(position, head, far, stopped)
            if self.projection.from_scratch and position >= head:
                # Built: marked so only now that the build's writes are on the disk (the
                # embedded store writes them without syncing until the build ends).
                self.views[TRACKING].update_one(
                    {"_id": self.name, "from_scratch": self.owner}, {"$set": {"from_scratch": None}}
                )
                self.projection.from_scratch = False
            return position
        finally:
            self.progress = None

    def _catch_up_to(self, position, head, far, stopped):
        started: list = []  # the second process decoding ahead, once started
        try:
            return self._apply_batches(position, head, far, stopped, started)
        finally:
            for ahead in started:
                ahead.close()

    def _ahead(self, position, head, started):
        """Far behind: the events after ``position`` decoded by a second process (None: none)."""
        if self.decode_ahead is None or started or position >= head:
            return None
        try:
            started.append(
                self.decode_ahead(position, head, CATCH_UP_BATCH, reads=self.projection.reads)
            )
        except Exception as error:  # noqa: BLE001 - decoded here instead, only slower
            log.warning("projection %s: no second process to decode in (%s)", self.name, error)
            return None
        return started[-1]

    def _apply_batches(self, position, head, far, stopped, started):
        recorder = self.application.recorder
        batch = CATCH_UP_BATCH if far else self.batch_size
        # Far behind, a second process decodes from a few batches on; those before, this one
        # decodes while it starts. Done or failed, it leaves the rest to this one.
        ahead_from = position + AHEAD_AFTER * batch
        ahead = self._ahead(ahead_from, head, started) if far else None
        while position < head:
            self.progress = (position, head) if far else None
            events = ahead.next() if ahead is not None and position >= ahead_from else None
            if events and events[0][0] <= position:
                events = None  # not the stretch asked for: decoded here instead
            if events:
                last, count = events[-1][0], len(events)
                # those the projection does not read came undecoded (None)
                events = [(at, event) for at, event in events if event is not None]
            else:
                events = None
                if position >= ahead_from:
                    ahead = None
                stop = head if ahead is None else ahead_from
                notifications = recorder.select_notifications(
                    start=position + 1, limit=batch, stop=stop
                )
                if not notifications:
                    if stop < head:  # nothing recorded up to where the second process starts
                        position = stop
                        continue
                    break
                last = notifications[-1].id
            self._writing(last)
            try:
                if events is not None:
                    if events:
                        self.projection.apply(self.views, events)
                else:
                    # Far behind, the outbox is not reading these events: no use keeping them
                    # decoded.
                    self._apply(
                        notifications,
                        self.application.mapper.to_domain_event if far else self.decode,
                    )
            except Exception:  # noqa: BLE001 - find the event, record it, keep the views readable
                if (
                    self.projection.from_scratch
                ):  # its writes may be half done: build again, with care
                    log.warning(
                        "projection %s: a batch of its build from scratch failed at positions %s-%s; "
                        "building again, journaled",
                        self.name,
                        position + 1,
                        last,
                    )
                    if ahead is not None:
                        ahead.close()
                    return self._catch_up_to(self._start_over(scratch=False), head, far, stopped)
                if events is not None:
                    notifications = recorder.select_notifications(
                        start=position + 1, limit=count, stop=last
                    )
                return self._one_by_one(notifications, position, stopped)
            position = last
            self._track(position)
            if self.on_batch:
                self.on_batch(position)
            if stopped:
                self._resumed(position)
                stopped = False
            if not self._hold_lease():
                break
            if far and self.pause:
                eventlet.sleep(self.pause)  # let HTTP answer (503 with the progress) while building
            elif not far:
                pause()  # a long catch-up (after a bulk import) must not hold up every other request
        return position

    def _start_over(self, scratch):
        """Drop the views and apply the log from its beginning. A build from scratch (``scratch``)
        lets the projection skip its crash journal (``from_scratch``): the tracking document
        names the process building, so that if the build is cut off whoever runs next builds
        again from scratch instead of resuming on half-written batches."""
        self.projection.drop(self.views)
        self.projection.create_indexes(self.views)
        self.views[TRACKING].update_one(
            {"_id": self.name},
            {
                "$set": {
                    "position": 0,
                    "state": "running",
                    "error": None,
                    "version": self.projection.version,
                    "from_scratch": self.owner if scratch else None,
                    "writing": None,
                }
            },
        )
        self._mark = 0
        self.projection.from_scratch = scratch
        return 0

    def _apply(self, notifications, decode=None):
        decode = decode or self.decode
        personal.prefetch(self.application.mapper, notifications)
        events = [(n.id, decode(n)) for n in notifications]
        self.projection.apply(self.views, events)

    def _one_by_one(self, notifications, position, stopped):
        for notification in notifications:
            try:
                self._apply([notification])
            except Exception as error:  # noqa: BLE001 - recorded and logged by _stop
                self._stop(notification, error)
                return position
            position = notification.id
            self._track(position)
            if stopped:
                self._resumed(position)
                stopped = False
        return position

    def _stop(self, notification, error):
        now = self.clock()
        previous = self.tracking().get("error") or {}
        since = previous.get("since") if previous.get("position") == notification.id else None
        record = {
            "position": notification.id,
            "event": event_name(notification.topic),
            "type": type(error).__name__,
            "message": clean_message(error),
            "since": since or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        }
        # Stopped, the views are read as they stand at the position before this event (its own
        # writes failed: on MongoDB, a failed bulk write may have left a prefix of one collection's).
        self.views[TRACKING].update_one(
            {"_id": self.name}, {"$set": {"state": "stopped", "error": record, "writing": None}}
        )
        self._mark = 0
        self._delay = min(BACKOFF_CAP, self._delay * 2) if self._delay else BACKOFF_FIRST
        self._retry_at = now + self._delay
        self.progress = None
        if self._stopped_here != notification.id:
            self._stopped_here = notification.id
            where = " < ".join(
                f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
                for frame in reversed(traceback.extract_tb(error.__traceback__)[-6:])
            )
            log.error(
                "projection %s stopped at log position %s (%s): %s: %s; views stay readable at "
                "position %s; retrying with backoff; at %s",
                self.name,
                notification.id,
                record["event"],
                record["type"],
                record["message"],
                notification.id - 1,
                where,
            )
        else:
            log.warning(
                "projection %s still stopped at log position %s (%s: %s); next retry in %.0f s",
                self.name,
                notification.id,
                record["type"],
                record["message"],
                self._delay,
            )

    def _resumed(self, position):
        self.views[TRACKING].update_one(
            {"_id": self.name, "lease_owner": self.owner},
            {"$set": {"state": "running", "error": None}},
        )
        log.warning(
            "projection %s resumed: applied the event it had stopped at; now at position %s",
            self.name,
            position,
        )
        self._delay, self._retry_at, self._stopped_here = 0.0, 0.0, None

    # -- reading -------------------------------------------------------------------------------
    def _head(self):
        return self.application.recorder.max_notification_id() or 0

    def building(self, head=None):
        """``{projection, position, head}`` while the views are far behind their log and being
        built (a first start on an existing log, a rebuild), else None. A stopped projection is
        not building: it answers from its views as they stand."""
        progress = self.progress
        if progress is None:
            tracking = self.tracking()
            head = self._head() if head is None else head
            if tracking.get("state") == "stopped" or head - tracking["position"] <= BUILDING_LAG:
                return None
            progress = (tracking["position"], head)
        return {"projection": self.name, "position": progress[0], "head": progress[1]}

    def read(self, query):
        """Catch up (or, if another replica holds the lease, wait a little for it to), then run
        ``query(views)``: ``(position, answer)``. A stopped projection answers from its views as
        they stand, with the position they stand at. Views far behind are being built by the
        pump, not by a read: ``ViewsBuilding`` (503) says how far it has got. The log's head is
        asked once (a round trip to the event store in the distributed mode): what was recorded
        before the read began is in its answer."""
        head = self._head()
        building = self.building(head)
        if building:
            raise ViewsBuilding(
                f"the views of {self.name} are being built: position {building['position']} "
                f"of {building['head']}; try again shortly",
                {
                    "projection": [building["projection"]],
                    "position": [str(building["position"])],
                    "head": [str(building["head"])],
                },
            )
        with self._lock:
            position = self._catch_up(None, head)
            if self._lease_until:
                return position, query(self.views)
        return self._read_beside_holder(query, head)

    def _read_beside_holder(self, query, head):
        """Another process holds the lease: wait a little for it to catch up, then read the
        views where they stand at a tracked position (see the module's docstring)."""
        deadline = self.clock() + READ_WAIT_SECONDS
        while True:
            before = self.tracking()
            late = self.clock() >= deadline
            caught_up = before["position"] >= head or before.get("state") == "stopped"
            if not before.get("writing") and (caught_up or late):
                answer = query(self.views)
                after = self.tracking()
                if after["position"] == before["position"] and not after.get("writing"):
                    return before["position"], answer
            if late:
                raise ViewsBuilding(
                    f"the views of {self.name} are being written by another process: positions "
                    f"{before['position'] + 1} to {before.get('writing') or head}; try again shortly",
                    {
                        "projection": [self.name],
                        "position": [str(before["position"])],
                        "head": [str(head)],
                    },
                )
            eventlet.sleep(0.02)

    def rebuild(self):
        """Drop the views and replay the whole log into them (the caller holds no other
        process's lease: stop the services first)."""
        with self._lock, view_store.building(self.views):  # dropping the old views is part of it
            self._take_over = True
            self._hold_lease()
            self._start_over(scratch=False)
            self._retry_at = 0.0
        pause, self.pause = self.pause, 0
        try:
            return self.run()
        finally:
            self.pause = pause


def facts(event, *names):
    """The event's attributes of these names, under the same names: what a view row copies."""
    return {name: getattr(event, name) for name in names}


class Projection:
    """A projection's shape: ``on_<EventName>(position, event)`` handlers yield ``(collection,
    write)`` pairs; a batch of events becomes one ordered bulk write per collection, written
    once every handler of the batch has run.

    ``indexes`` declares what its queries need, created at start on either store:
    ``{collection: [pymongo.IndexModel([("field", ASCENDING), ...]), ...]}``. On the embedded
    store an indexed field must hold scalars (no arrays), and the fields a query compares with
    equality, ranges or ``$in`` are answered through the index whose leading fields they are."""

    name = ""
    version = 1  # of the views' shape: views an older version wrote are built again from the log
    collections: tuple[str, ...] = ()
    indexes: dict[str, list] = {}
    from_scratch = (
        False  # set by the runner while it builds the views from scratch (see _start_over)
    )
    # The names of the events ``apply`` reads (None: every event). A far catch-up has a second
    # process leave the others undecoded: a fifth of the registry's log, which costs the
    # building process nothing then.
    reads: frozenset[str] | None = None

    def apply(self, views, events):
        writes: dict[str, list] = {name: [] for name in self.collections}
        for position, e in events:
            handler = getattr(self, "on_" + type(e).__name__, None)
            if handler:
                for collection, op in handler(position, e):
                    writes[collection].append(op)
        for collection, ops in writes.items():
            if ops:
                views[collection].bulk_write(ops, ordered=True)

    def create_indexes(self, views):
        for collection, models in self.indexes.items():
            if models:
                views[collection].create_indexes(list(models))

    def drop(self, views):
        for name in self.collections:
            views[name].drop()
