"""Dated sums: figures kept as dated changes, so that "as of D" is an indexed read of a handful
of small documents whatever the size of what is counted (ARCHITECTURE.md: reads never scan a
register).

One document per (key, year): ``t_<metric>`` is the year's total change, ``d_<metric>_<MMDD>`` each
day's (ASCII field names; the key — e.g. a unit — is a value). As of D: the totals of the years
before D's, plus D's year's days up to D. Writes are absolute (the new values of the touched
fields, computed from the stored ones), so a projection can journal and re-apply them; zero
fields and empty documents are left out, so a replay gives the same documents as a live run.

Dated changes are not idempotent, so a projection keeping them writes each batch through a
journal (``apply_once``): every write of the batch, absolute, saved in one document first, then
applied (``$set``, replace, delete: idempotent), then the journal deleted; its ``applied``
document records the batch's last position. A run first re-applies a journal a crash left and
skips events at or before the applied position: a redelivered batch never counts twice.
A build from scratch into empty views may go without the journal (``journaled=False``): its
runner restarts a build that was cut off from scratch instead (kernel.projection).
"""

import time
import uuid
from typing import Any

import bson
import orjson
from pymongo import ASCENDING, DeleteOne, IndexModel, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError

from kernel import views as view_store

INDEXES = [IndexModel([("key", ASCENDING), ("year", ASCENDING)])]
ATTEMPTS = 50
EVER = "9999-12-31"  # as of: everything recorded


def day_field(metric, day):
    return f"d_{metric}_{day[5:7]}{day[8:10]}"


def folded(views, collection, changes):
    """``{(key, metric, day): change}`` folded into the stored documents: the writes
    ``(collection, "replace"|"delete", document id, fields)`` that make them so."""
    buckets: dict[str, Any] = {}
    for (key, metric, day), change in changes.items():
        if change:
            fields = buckets.setdefault(f"{key}|{day[:4]}", {})
            for name in (f"t_{metric}", day_field(metric, day)):
                fields[name] = fields.get(name, 0) + change
    stored = (
        {doc["_id"]: doc for doc in views[collection].find({"_id": {"$in": sorted(buckets)}})}
        if buckets
        else {}
    )
    writes = []
    for bucket_id, fields in sorted(buckets.items()):
        doc = stored.get(bucket_id, {})
        for name, change in fields.items():
            doc[name] = doc.get(name, 0) + change
        figures = {name: value for name, value in doc.items() if name[:2] in ("t_", "d_") and value}
        key, _, year = bucket_id.rpartition("|")
        writes.append(
            (collection, "replace", bucket_id, {"key": key, "year": int(year), **figures})
            if figures
            else (collection, "delete", bucket_id, None)
        )
    return writes


def read(views, collection, key, as_of, metrics):
    """Each metric's sum of changes dated up to ``as_of`` (None: everything) for ``key``."""
    as_of = as_of or EVER
    year = int(as_of[:4])
    sums = dict.fromkeys(metrics, 0)
    for doc in views[collection].find(
        {"key": key, "year": {"$lt": year}}, {f"t_{m}": 1 for m in metrics}
    ):
        for metric in metrics:
            sums[metric] += doc.get(f"t_{metric}", 0)
    this_year = views[collection].find_one({"_id": f"{key}|{year}"}) or {}
    for metric in metrics:
        last = day_field(metric, as_of)
        prefix = last[:-4]
        sums[metric] += sum(
            v for name, v in this_year.items() if name.startswith(prefix) and name <= last
        )
    return sums


def apply_once(views, journal, events, compute, journaled=True):
    """Apply a batch of ``(position, event)`` once: ``compute(fresh)`` returns the absolute writes
    (``(collection, "set"|"replace"|"delete", id, fields)``) of the events not yet applied.

    The writes are journaled first, so that a crash anywhere leaves them all or none applied.
    The journal is also a claim: while one process's journal is pending another does not write,
    and a batch computed before someone else's was applied is computed again (so two replicas
    applying the same log never count a change twice)."""
    for attempt in range(ATTEMPTS):
        applied = applied_position(views, journal)
        fresh = [(position, e) for position, e in events if position > applied]
        if not fresh:
            return
        writes = [*compute(fresh), (journal, "replace", "applied", {"position": fresh[-1][0]})]
        if not journaled:  # a failed write makes the runner build again, journaled: no check first
            _write(views, journal, writes, None)
            return
        _storable(writes)
        nonce = uuid.uuid4().hex
        try:
            views[journal].bulk_write(
                [
                    InsertOne(
                        {
                            "_id": "pending",
                            "nonce": nonce,
                            "position": fresh[-1][0],
                            "writes": orjson.dumps(writes).decode(),
                        }
                    )
                ]
            )
        except BulkWriteError:  # another process's batch is pending: let it finish
            time.sleep(0.02 * (attempt + 1))
            continue
        if _applied(views, journal) != applied:  # another batch got in first: ours is stale
            views[journal].bulk_write([DeleteOne({"_id": "pending", "nonce": nonce})])
            continue
        _write(views, journal, writes, nonce)
        return
    raise RuntimeError(f"{journal}: other processes kept applying the same log; try again")


def _storable(writes):
    """Refuse, before journaling them, writes the view store cannot hold (an integer beyond 64
    bits): journaled, they would fail at every re-application, before any later batch, and hide
    the event that caused them; refused here, the projection runner stops at that event."""
    for _, _, _, fields in writes:
        if fields:
            bson.encode(fields)


def applied_position(views, journal):
    """Re-apply a journal a crash left, then the last position whose changes are in."""
    pending = views[journal].find_one({"_id": "pending"})
    if pending is not None:
        _write(views, journal, orjson.loads(pending["writes"]), pending["nonce"])
    return _applied(views, journal)


def _applied(views, journal):
    return (views[journal].find_one({"_id": "applied"}) or {}).get("position", 0)


def _write(views, journal, writes, nonce):
    """Each collection's writes in one bulk write, in order. Where they are all absolute (replace,
    delete: by far the most) only the last of each key matters, and the store is handed them as
    such (``kernel.views.write_absolute``)."""
    ops: dict[str, list[Any]] = {}
    for write in writes:
        ops.setdefault(write[0], []).append(write)
    for collection, batch in ops.items():
        if all(kind != "set" for _, kind, _, _ in batch):
            view_store.write_absolute(
                views[collection],
                {key: fields if kind == "replace" else None for _, kind, key, fields in batch},
            )
            continue
        views[collection].bulk_write(
            [
                DeleteOne({"_id": key})
                if kind == "delete"
                else view_store.replace_by_id(key, fields)
                if kind == "replace"
                else UpdateOne({"_id": key}, {"$set": fields}, upsert=True)
                for _, kind, key, fields in batch
            ],
            ordered=True,
        )
    if nonce is not None:
        views[journal].bulk_write([DeleteOne({"_id": "pending", "nonce": nonce})])
