"""Envelope encryption of the fields that name a person, so that a person can be erased while the
log — and so the hash chain, the Merkle tree and every proof over its stored bytes — stays as it is.

Each person (an expert, a household: the registry's record id) has its own random 256-bit data
key in each service whose events name them. Before an event is encoded, the fields that name the
person are sealed under that key (AES-GCM; the person's id and the field name are the associated
data, so a sealed value cannot be moved to another person or field); the event store then
encrypts the whole state with the service's cipher, as before. Which events name whom, and in
which fields, each service declares (``Naming``): the registry's records name themselves; a
payment names the expert paid, a nomination the expert nominated (kernel.erasure applies the
registry's erasures there).

The data keys live outside the log, in the service's event-store database (table ``person_keys``:
record id, wrapped key), each wrapped — AES-GCM with the record id as associated data, so a wrapped
key cannot be moved to another row — under a key derived from CIPHER_KEY by HKDF for this one use
(RFC 3394 key wrap would do as well, but costs ten times as much per key in a 100k-row import).
Erasing a person replaces the wrapped key with NULL: a tombstone, so that
readers tell "erased" from "recorded before envelopes existed", and so that no new key is made
for them (their events must not name them again). Their sealed fields can never be opened again;
every other field, and the keyed hashes that dedup ID numbers, still read.

Decoding gives the clear value, or ``ERASED`` where the key is gone. Events recorded before this
scheme hold clear values: they load as they are, and show ``ERASED`` once the person is erased.
"""

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import EventStore, IntegrityError, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from kernel.errors import RuleViolation

ERASED = "erased"
SEALED = "$person"  # a sealed value in an event: {"$person": base64(nonce ‖ ciphertext)}
NONCE_BYTES = 12
NO_ROW = object()  # no key was ever made for this record (its events are in clear, or it has none)


@dataclass(frozen=True)
class Naming:
    """Where the events of one class name a person: ``fields`` at the top of the event, or inside
    the dicts named ``within``; ``person`` finds whom from the event's state (their id, or None:
    the event names no one), by default the event's own record (the registry's)."""

    fields: tuple
    within: tuple = ("changes",)
    person: Callable[[dict], str | None] | None = None
    named_by: str = "id"  # the field of a request that names the person: a refusal names it

    def whom(self, state):
        """The id of the person ``state`` names in these fields (None: it names no one)."""
        if not self.holds_value(state):
            return None
        found = self.person(state) if self.person else state["originator_id"]
        return None if found is None else str(found)

    def holds_value(self, state):
        """Does this event state hold a value of a personal field (at the top or ``within``)?"""
        if any(state.get(name) is not None for name in self.fields):
            return True
        for part in self.within:
            inner = state.get(part)
            if isinstance(inner, dict) and any(inner.get(n) is not None for n in self.fields):
                return True
        return False

    def rewrite(self, state, change):
        """``state`` with each personal value ``v`` of field ``k`` replaced by ``change(k, v)``
        (at the top in place; the dicts ``within`` copied: the caller's event may share them)."""
        for name in self.fields:
            value = state.get(name)
            if value is not None:
                state[name] = change(name, value)
        for part in self.within:
            inner = state.get(part)
            if isinstance(inner, dict) and any(inner.get(n) is not None for n in self.fields):
                state[part] = {
                    k: change(k, v) if k in self.fields and v is not None else v
                    for k, v in inner.items()
                }
        return state


class KeyTable:
    """The ``person_keys`` table in a service's event-store database (SQLite or PostgreSQL)."""

    def __init__(self, recorder, create=True):
        self.datastore = recorder.datastore
        self.postgres = type(recorder).__module__.startswith("eventsourcing.postgres")
        schema = (getattr(self.datastore, "schema", "") or "") if self.postgres else ""
        self.table = f'"{schema}".person_keys' if schema else "person_keys"
        if create:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (id TEXT PRIMARY KEY, wrapped TEXT)"
                )
                # The tombstones in id order (``erased``), however many keys there are.
                curs.execute(
                    f"CREATE INDEX IF NOT EXISTS person_keys_erased ON {self.table} (id) "
                    "WHERE wrapped IS NULL"
                )

    def _sql(self, statement):
        return statement.replace("?", "%s") if self.postgres else statement

    def insert_with(self, cursor, rows):
        """Insert ``(id, wrapped)`` rows in the transaction of ``cursor`` (the events' own: the
        keys are stored exactly when the events sealed under them are). A row already there is an
        IntegrityError, as a second registration of the record is."""
        if self.postgres:  # one statement and one parameter for the batch: cheap to send and adapt
            cursor.execute(
                f"INSERT INTO {self.table} (id, wrapped) SELECT key, value FROM json_each_text(%s::json)",
                (json.dumps(dict(rows)),),
            )
        else:
            cursor.executemany(f"INSERT INTO {self.table} (id, wrapped) VALUES (?, ?)", rows)

    def hook(self, recorder):
        """Make ``recorder`` insert the ``person_keys`` rows given to ``insert_events`` with the events."""
        if getattr(self.datastore, "enable_db_functions", False):  # that path skips _insert_events
            raise RuntimeError("person keys need POSTGRES_ENABLE_DB_FUNCTIONS off")
        insert_events = recorder._insert_events

        def _insert_events(cursor, stored_events, **kwargs):
            rows = kwargs.get("person_keys")
            if rows:
                self.insert_with(cursor, rows)
            for person_id in kwargs.get("erased_persons") or ():
                cursor.execute(self._sql(self.TOMBSTONE.format(table=self.table)), (person_id,))
            return insert_events(cursor, stored_events, **kwargs)

        recorder._insert_events = _insert_events

    def insert(self, rows):
        """Insert ``(id, wrapped)`` rows, leaving any row already there as it is; True if all went in."""
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(
                self._sql(
                    f"INSERT INTO {self.table} (id, wrapped) VALUES (?, ?) ON CONFLICT (id) DO NOTHING"
                ),
                rows,
            )
            raw = getattr(
                curs, "sqlite_cursor", curs
            )  # eventsourcing's SQLite cursor hides rowcount
            return raw.rowcount == len(rows)

    def select(self, ids):
        """``{id: wrapped or None (erased)}`` for the ids that have a row."""
        ids = sorted(ids)
        found: dict[str, Any] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(
                    self._sql(
                        f"SELECT id, wrapped FROM {self.table} WHERE id IN ({', '.join('?' * len(chunk))})"
                    ),
                    chunk,
                )
                found.update((row["id"], row["wrapped"]) for row in curs.fetchall())
        return found

    TOMBSTONE = (
        "INSERT INTO {table} (id, wrapped) VALUES (?, NULL) "
        "ON CONFLICT (id) DO UPDATE SET wrapped = NULL"
    )

    def tombstone(self, person_id):
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql(self.TOMBSTONE.format(table=self.table)), (person_id,))

    def erased(self, after="", limit=1000):
        """The ids of the erased, in id order after ``after`` (a page of the tombstones)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    f"SELECT id FROM {self.table} WHERE wrapped IS NULL AND id > ? "
                    "ORDER BY id LIMIT ?"
                ),
                (after, limit),
            )
            return [row["id"] for row in curs.fetchall()]

    def export(self):
        """Every row, for an export (the wrapped keys are as useless without CIPHER_KEY as the events)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT id, wrapped FROM {self.table} ORDER BY id")
            return {row["id"]: row["wrapped"] for row in curs.fetchall()}


class MemoryKeyTable:
    """Keys held in memory: an auditor's copy (from a store or an export), or an in-memory app's."""

    def __init__(self, rows=None):
        self.rows = dict(rows or {})

    def insert(self, rows):
        fresh = [(i, w) for i, w in rows if i not in self.rows]
        self.rows.update(fresh)
        return len(fresh) == len(rows)

    def select(self, ids):
        return {i: self.rows[i] for i in ids if i in self.rows}

    def tombstone(self, person_id):
        self.rows[person_id] = None

    def erased(self, after="", limit=1000):
        return sorted(i for i, w in self.rows.items() if w is None and i > after)[:limit]

    def export(self):
        return dict(sorted(self.rows.items()))


class KeyRing:
    """Data keys by record id: made, wrapped and stored in batches, unwrapped once and held in
    memory for ``ttl`` seconds (so that a replica forgets an erased person's key by itself)."""

    def __init__(self, cipher_key, table, ttl=300.0, maxsize=200_000):
        self._kek = AESGCM(
            HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"kjfp person keys v1"
            ).derive(cipher_key.encode())
        )
        self.table, self.ttl, self.maxsize = table, ttl, maxsize
        self._held = {}  # id → (expires, AESGCM | None (erased) | NO_ROW)

    def lookup(self, person_id):
        """The record's AEAD, None if it was erased, NO_ROW if it never had a key."""
        held = self._held.get(person_id)
        if held is None or held[0] < time.monotonic():
            self.load([person_id])
            held = self._held[person_id]
        return held[1]

    def load(self, ids):
        """Read the keys of ``ids`` not held yet, in one query."""
        now = time.monotonic()
        missing = [i for i in ids if i not in self._held or self._held[i][0] < now]
        if not missing:
            return
        found = self.table.select(missing)
        for person_id in missing:
            wrapped = found.get(person_id, NO_ROW)
            self._hold(person_id, NO_ROW if wrapped is NO_ROW else self._unwrap(person_id, wrapped))

    def prepare(self, ids, new=(), named_by=None):
        """A key for each of ``ids``: held, read, or made. Returns the rows of the keys made, for
        the caller to store with the events sealed under them (``forget`` them if that fails).
        ``new``: those of ``ids`` whose records are being created — not looked up first (an
        import's batch costs no read); if one has a row after all, the record exists, and storing
        the rows fails as the record's second registration does. An erased record cannot get a
        new key: its events must not name the person again (refused naming the field
        ``named_by(person id)`` gives, else ``id``)."""
        self.load([i for i in ids if i not in new])
        now = time.monotonic()
        fresh = [
            i
            for i in ids
            if (i in new and (i not in self._held or self._held[i][0] < now))
            or self._held[i][1] is NO_ROW
        ]
        rows = []
        for person_id in fresh:
            key = os.urandom(32)
            rows.append((person_id, self._wrap(person_id, key)))
            self._hold(person_id, AESGCM(key))
        erased = sorted(i for i in ids if self._held[i][1] is None)
        if erased and set(erased) <= set(new):
            raise IntegrityError(f"record {erased[0]} exists (and was erased)")
        if erased:
            raise RuleViolation(
                f"record {erased[0]} was erased: its personal fields cannot be set again",
                {named_by(erased[0]) if named_by else "id": ["personal data erased"]},
            )
        return rows

    def forget(self, ids):
        for person_id in ids:
            self._held.pop(person_id, None)

    def ensure(self, ids, new=()):
        """``prepare``, storing the keys made at once (for events encoded outside a save)."""
        rows = self.prepare(ids, new)
        if rows and not self.table.insert(rows):  # some have keys already: use those
            self.forget([i for i, _ in rows])
            self.load([i for i, _ in rows])

    def erase(self, person_id):
        self.table.tombstone(person_id)
        self.erased(person_id)

    def erased(self, person_id):
        """The person's key was destroyed (by this process): forget it now, not at ``ttl``."""
        self._hold(person_id, None)

    def _wrap(self, person_id, key):
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._kek.encrypt(nonce, key, person_id.encode())).decode()

    def _unwrap(self, person_id, wrapped):
        if wrapped is None:
            return None
        raw = base64.b64decode(wrapped)
        return AESGCM(self._kek.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], person_id.encode()))

    def _hold(self, person_id, value):
        if len(self._held) >= self.maxsize:
            for stale in list(self._held)[: self.maxsize // 10]:  # the oldest tenth
                del self._held[stale]
        self._held[person_id] = (time.monotonic() + self.ttl, value)


class PersonalMapper(Mapper):
    """The application's mapper, sealing the personal fields of ``sealed`` events (event class
    name → a ``Naming``, or the tuple of fields of one naming its own record) under the data key
    of the person they name, and opening them (or showing ``ERASED``) when decoding."""

    def __init__(self, mapper, ring, sealed):
        super().__init__(mapper.transcoder, mapper.compressor, mapper.cipher)
        self.ring = ring
        self.sealed = {
            name: spec if isinstance(spec, Naming) else Naming(tuple(spec))
            for name, spec in sealed.items()
        }

    def persons(self, events):
        """The ids of the persons ``events`` name (each needs a data key to be written), and
        those of them the events create (a record naming itself, at its first version)."""
        ids, new = set(), set()
        for e in events:
            naming = self.sealed.get(type(e).__name__)
            person = naming.whom(vars(e)) if naming is not None else None
            if naming is not None and person is not None:
                ids.add(person)
                if naming.person is None and e.originator_version == 1:
                    new.add(person)
        return ids, new

    def named_by(self, events, person_id):
        """The request field that names ``person_id`` in ``events`` (for a refusal)."""
        for e in events:
            naming = self.sealed.get(type(e).__name__)
            if naming is not None and naming.whom(vars(e)) == person_id:
                return naming.named_by
        return "id"

    def to_stored_event(self, domain_event):
        cls = type(domain_event)
        naming = self.sealed.get(cls.__name__)
        if naming is None:
            return super().to_stored_event(domain_event)
        # Mapper.to_stored_event, with the fields sealed in the state it encodes (the bulk import
        # writes 10^5 of these: one copy of the state, no second event object).
        state = dict(vars(domain_event))
        person = naming.whom(state)
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if person is not None:
            aead = self._writing_key(person)
            naming.rewrite(state, lambda name, value: _seal(aead, person, name, value))
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored_state = self.transcoder.encode(state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(cls),
            state=stored_state,
        )

    def _writing_key(self, person):
        aead = self.ring.lookup(person)
        if not isinstance(aead, AESGCM):  # encoded outside the event store's put(): one key now
            self.ring.ensure([person])
            aead = self.ring.lookup(person)
        return aead

    def to_domain_event(self, stored_event):
        event = super().to_domain_event(stored_event)
        naming = self.sealed.get(type(event).__name__)
        if naming is None:
            return event
        state = vars(event)  # just decoded, held by no one else: opened in place
        person = naming.whom(state)
        if person is None:
            return event
        aead = self.ring.lookup(person)
        naming.rewrite(state, lambda name, value: _open(aead, person, name, value))
        return event

    def prefetch(self, notifications):
        """Load, in one query, the keys that decoding these stored events will need (of the
        events that name their own record: whom the others name is known once decoded)."""
        names = tuple(f".{name}" for name, naming in self.sealed.items() if naming.person is None)
        if names:
            self.ring.load({str(n.originator_id) for n in notifications if n.topic.endswith(names)})


def _seal(aead, person, field, value):
    nonce = os.urandom(NONCE_BYTES)
    return {
        SEALED: base64.b64encode(
            nonce + aead.encrypt(nonce, value.encode(), f"{person}:{field}".encode())
        ).decode()
    }


def _open(aead, person, field, value):
    if aead is None:  # erased: sealed or (recorded before envelopes) clear, it is gone
        return ERASED
    if not (isinstance(value, dict) and set(value) == {SEALED}):
        return value  # recorded in clear before envelopes, and not erased
    if aead is NO_ROW:
        return ERASED  # sealed, but its key is not in this copy of the keys
    raw = base64.b64decode(value[SEALED])
    return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{person}:{field}".encode()).decode()


def prefetch(mapper, notifications):
    """Before decoding a batch of stored events: their person keys in one query (any mapper)."""
    if isinstance(mapper, PersonalMapper):
        mapper.prefetch(notifications)


class PersonalEventStore(EventStore):
    """Stores the data keys a batch of events needs in the same transaction as the events (one
    statement more for the batch; in-memory stores: just before), and the tombstones of
    ``erased_persons`` likewise: an erasure and the event that records it are one write."""

    mapper: "PersonalMapper"

    def put(self, domain_events, *, erased_persons=(), **kwargs):
        persons, new = self.mapper.persons(domain_events)
        if not persons and not erased_persons:
            return super().put(domain_events, **kwargs)
        ring = self.mapper.ring
        rows = ring.prepare(
            persons, new, lambda person: self.mapper.named_by(domain_events, person)
        )
        if not isinstance(ring.table, KeyTable):
            if rows:
                ring.table.insert(rows)
            for person_id in erased_persons:
                ring.table.tombstone(person_id)
            rows, stored_erasures = [], ()
        else:
            stored_erasures = tuple(erased_persons)
        try:
            recordings = super().put(
                domain_events, **kwargs, person_keys=rows, erased_persons=stored_erasures
            )
        except Exception:
            ring.forget([i for i, _ in rows])  # not stored: made again by the next attempt
            raise
        for person_id in erased_persons:
            ring.erased(person_id)
        return recordings
