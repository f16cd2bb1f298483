"""A service's log as an auditor reads it: straight from its event store (PostgreSQL or the
embedded SQLite file) with no service running, or from an export. Either way the events come
as stored (state bytes encrypted), with the chain links and checkpoints recorded beside them.

Export format (JSON Lines, one file per service): a header line, one line per stored event
(position, originator id, version, topic, base64 state, the chain hash it was published with),
and a closing line with the chain's checkpoints and the signed Merkle checkpoints (``signed``)
of the events written, and the persons' wrapped data keys (``person_keys``, kernel.personal: an
erased person's is null, and an export made before an erasure still holds the key — keep exports
as the stores are kept). Nothing in it depends on when it was written, so the same log (and keys)
always exports to the same bytes; an export may stop at a position (e.g. the last a signed
checkpoint holds).
"""

import base64
import bisect
import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import Notification

from kernel.chain import ChainLedger
from kernel.personal import KeyTable, MemoryKeyTable
from kernel.service_parts import stored_form
from kernel.tree import LogTree
from kjfp.bootstrap import declarations

FORMAT = "kjfp-event-log/1"
BATCH = 5000


class StoreLog:
    """A service's log in its event store, read without the key and without writing."""

    def __init__(self, settings, service_log):
        self.service = service_log.name
        self.service_log = service_log
        self.recorder = service_log.recorder(settings)
        try:
            self.recorder.max_notification_id()
        except Exception as missing:  # the driver's own "no such table" errors differ
            self.recorder.datastore.close()
            where = (
                settings.postgres_db if settings.event_store == "postgres" else settings.data_dir
            )
            raise FileNotFoundError(
                f"no event store for {self.service} here ({where})"
            ) from missing
        self.ledger = ChainLedger(self.recorder, self.service, create=False)
        try:
            self.ledger.head()
        except Exception:  # nothing was ever published from this store: no chain tables yet
            self.ledger = None
        self.tree = LogTree(self.ledger, create=False) if self.ledger else None
        try:
            if self.tree:
                self.tree.last()
        except Exception:  # published before the Merkle tree was introduced, not since
            self.tree = None

    def last_position(self):
        return self.recorder.max_notification_id() or 0

    def batches(self, after=0, stop=None, size=BATCH):
        """The stored events after ``after`` (up to ``stop``), in notification order, in lists."""
        while stop is None or after < stop:
            batch = self.recorder.select_notifications(start=after + 1, limit=size, stop=stop)
            if not batch:
                return
            yield batch
            after = batch[-1].id

    def links(self, after=0, stop=None):
        return self.ledger.links(after, stop) if self.ledger else []

    def checkpoints(self):
        return self.ledger.checkpoints() if self.ledger else []

    def signed(self):
        """Every signed Merkle checkpoint, oldest first."""
        return self.tree.signed(limit=2**62) if self.tree else []

    def person_keys(self):
        """The wrapped data keys of the persons this log names (kernel.personal), as stored now."""
        try:
            return MemoryKeyTable(KeyTable(self.recorder, create=False).export())
        except Exception:  # noqa: BLE001 - a store written before person keys existed has no table
            return MemoryKeyTable()

    def scratch(self, cipher_key):
        """The service's Application in memory, decoding this log's events (kernel.declaration)."""
        return self.service_log.scratch(cipher_key, self.person_keys())

    def close(self):
        self.recorder.datastore.close()


class ExportLog:
    """A service's log from an export file, streamed (the links are held: the verifier asks
    for them by range)."""

    def __init__(self, path, service_log=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no export at {self.path}")
        self._links, self._checkpoints, self._signed, self._last = [], [], [], 0
        self._person_keys = {}
        for item in self._items():
            if "checkpoints" in item:
                self._checkpoints, self._signed = item["checkpoints"], item.get("signed", [])
                self._person_keys = item.get("person_keys", {})
            else:
                self._last = item["position"]
                if item["chain_hash"] is not None:
                    self._links.append((item["position"], item["chain_hash"]))
        self._positions = [p for p, _ in self._links]
        self.service_log = service_log or declarations()[self.service]

    def _items(self):
        with self.path.open(encoding="utf-8") as lines:
            header = json.loads(next(lines, "{}"))
            if header.get("format") != FORMAT:
                raise ValueError(f"{self.path} is not an event-log export ({FORMAT})")
            self.service = header["service"]
            for line in lines:
                yield json.loads(line)

    def last_position(self):
        return self._last

    def batches(self, after=0, stop=None, size=BATCH):
        batch = []
        for item in self._items():
            if "checkpoints" in item or item["position"] <= after:
                continue
            if stop is not None and item["position"] > stop:
                break
            batch.append(notification(item))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def links(self, after=0, stop=None):
        end = len(self._positions) if stop is None else bisect.bisect_right(self._positions, stop)
        return self._links[bisect.bisect_right(self._positions, after) : end]

    def checkpoints(self):
        return self._checkpoints

    def signed(self):
        return self._signed

    def person_keys(self):
        return MemoryKeyTable(self._person_keys)

    def scratch(self, cipher_key):
        return self.service_log.scratch(cipher_key, self.person_keys())

    def close(self):
        pass


def notification(item):
    """A stored event from its export line (or the audit API's form of it)."""
    return Notification(
        id=item["position"],
        originator_id=_originator(item["originator_id"]),
        originator_version=item["version"],
        topic=item["topic"],
        state=base64.b64decode(item["state"]),
    )


def _originator(text):
    try:
        return UUID(text)
    except ValueError:
        return text


def export(log, path, stop=None):
    """Write ``log`` (up to position ``stop``: default, all of it) to ``path``, with the
    checkpoints, chained and signed, of the events written (none of a later tree: a service may
    sign one while the export runs); returns the number of events written."""
    count = last = 0
    links_after = 0
    with Path(path).open("w", encoding="utf-8") as out:
        out.write(_line({"format": FORMAT, "service": log.service}))
        for batch in log.batches(0, stop):
            links = dict(log.links(links_after, batch[-1].id))
            links_after = last = batch[-1].id
            for notification in batch:
                out.write(_line(stored_form(notification, links.get(notification.id))))
            count += len(batch)
        checkpoints = [item for item in log.checkpoints() if item["position"] <= last]
        out.write(
            _line(
                {
                    "checkpoints": checkpoints,
                    "final_checkpoint": checkpoints[-1] if checkpoints else None,
                    "signed": [item for item in log.signed() if item["position"] <= last],
                    "person_keys": log.person_keys().export(),
                }
            )
        )
    return count


def _line(item):
    return json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n"


def open_logs(settings, services=None, exports=None, optional=()):
    """The logs named, from the stores or from ``exports`` (a directory of ``<service>.jsonl``
    files). A named log must be there, except those also ``optional``; with none named, every
    service's log that is there."""
    declared = declarations()
    names = list(services or declared) + [name for name in optional if name not in (services or ())]
    unknown = [name for name in names if name not in declared]
    if unknown:
        raise KeyError(f"no service {', '.join(unknown)}; one of {', '.join(declared)}")
    logs = {}
    for name in names:
        try:
            logs[name] = (
                ExportLog(Path(exports) / f"{name}.jsonl", declared[name])
                if exports is not None
                else StoreLog(settings, declared[name])
            )
        except FileNotFoundError:
            if services and name in services:
                for log in logs.values():
                    log.close()
                raise
    if not logs:
        raise FileNotFoundError("no event log found there")
    return logs
