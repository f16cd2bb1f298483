"""Replay a service's log through its projections into a scratch view store, and diff the result
with the live views. The live views are compared at the position their projection has tracked,
so a running system can be audited: if a projection moves on while its views are being read, or
they are mid-batch (a ``writing`` mark: kernel/projection.py), the replay follows it there and
reads again, and says so if they never stand still."""

import time
from dataclasses import dataclass, field

from kernel import personal
from kernel.projection import TRACKING, no_cyclic_gc
from kjfp.audit.scratch import ScratchViews

ATTEMPTS = 5
SETTLE_SECONDS = 0.5  # between attempts while a batch is being written


class Replayer:
    """Feeds one log through every projection of its service, into ``views``."""

    def __init__(self, log, mapper, views, projections=None, progress=None):
        self.log = log
        self.mapper = mapper
        self.views = views
        self.projections = [p() for p in projections or log.service_log.projections]
        for projection in self.projections:
            projection.create_indexes(views)
        self.position = 0
        self.progress = progress

    def run_to(self, stop=None):
        with no_cyclic_gc():
            self._run_to(stop)
        return self.position

    def _run_to(self, stop):
        for batch in self.log.batches(self.position, stop):
            personal.prefetch(self.mapper, batch)
            events = [(n.id, self.mapper.to_domain_event(n)) for n in batch]
            for projection in self.projections:
                projection.apply(self.views, events)
            self.position = batch[-1].id
            if self.progress:
                self.progress(len(batch))
        if stop is not None:
            self.position = max(self.position, stop)


@dataclass
class Comparison:
    service: str
    positions: dict = field(default_factory=dict)  # projection name → position compared at
    differences: list = field(default_factory=list)
    unsettled: list = field(default_factory=list)  # kept moving, or mid-batch, while read

    def lines(self):
        at = ", ".join(f"{name} at {position}" for name, position in self.positions.items())
        if self.unsettled:
            names = ", ".join(self.unsettled)
            at += f"; {names} kept moving or stood mid-batch while read: compare again when quiet"
        if not self.differences:
            return [f"{self.service}: views equal the replay ({at})"]
        return [f"{self.service}: {len(self.differences)} differences ({at})"] + [
            f"  {line}" for line in self.differences
        ]


def replay_and_compare(log, mapper, live, progress=None):
    """Replay ``log`` and compare each of its projections' collections with ``live``."""
    comparison = Comparison(log.service)
    for projection in log.service_log.projections:
        replayer = Replayer(log, mapper, ScratchViews(), (projection,), progress)
        for _ in range(ATTEMPTS):
            position, writing = _tracked(live, projection.name)
            replayer.run_to(position)
            snapshot = {name: _documents(live[name]) for name in projection.collections}
            if not writing and _tracked(live, projection.name) == (position, None):
                break
            if writing:  # a batch being written (or its holder killed while writing it)
                time.sleep(SETTLE_SECONDS)
        else:
            comparison.unsettled.append(projection.name)
        comparison.positions[projection.name] = position
        for name in projection.collections:
            comparison.differences += diff(name, snapshot[name], _documents(replayer.views[name]))
    return comparison


def _tracked(views, name):
    """The tracked position, and the ``writing`` mark of a batch being written beyond it."""
    doc = views[TRACKING].find_one({"_id": name}) or {}
    return doc.get("position", 0), doc.get("writing")


def _documents(collection):
    return {doc["_id"]: doc for doc in collection.find({})}


def diff(collection, live, replayed):
    """Readable lines, one per document or field that differs."""
    lines = []
    for key in sorted(live.keys() | replayed.keys(), key=str):
        if key not in replayed:
            lines.append(f"{collection} {key}: in the live views only")
        elif key not in live:
            lines.append(f"{collection} {key}: missing from the live views")
        else:
            mine, theirs = live[key], replayed[key]
            for name in sorted(mine.keys() | theirs.keys()):
                if mine.get(name, _ABSENT) != theirs.get(name, _ABSENT):
                    lines.append(
                        f"{collection} {key}: {name}: live {_show(mine.get(name, _ABSENT))}, "
                        f"replayed {_show(theirs.get(name, _ABSENT))}"
                    )
    return lines


class _Absent:
    def __repr__(self):
        return "(absent)"


_ABSENT = _Absent()


def _show(value):
    return repr(value) if len(repr(value)) <= 200 else repr(value)[:197] + "..."
