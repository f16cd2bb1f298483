"""Tamper evidence: a hash chain over a service's event log in notification order.

    h(n) = SHA-256(h(n-1) ‖ canonical(position, originator id, version, topic, stored state))

The stored state is hashed as stored (encrypted), so an auditor verifies without the key.
The ledger keeps, in the service's own event-store database beside the log it covers: the
chain's head (the last position hashed and published), every event's link (its position and
chain hash, as published on the bus), and checkpoints (position, hash, time) at the end of each
publication batch. The links let an auditor name the first position where a tampered log
breaks; the checkpoints are the anchors to copy out and keep elsewhere.
"""

import hashlib
import json
from datetime import UTC, datetime

GENESIS = "0" * 64


def event_bytes(notification):
    """The canonical bytes of one stored event: a 4-byte big-endian length, the JSON
    ``[position, originator id, version, topic]`` of that length (no spaces, ``","`` between
    items, non-ASCII escaped as ``\\uXXXX``: Python's ``json.dumps(..., separators=(",", ":"))``),
    then the stored (encrypted) state bytes. The chain hashes them after the previous hash;
    they are also the event's leaf input in the log's Merkle tree (kernel/tree.py)."""
    canonical = json.dumps(
        [
            notification.id,
            str(notification.originator_id),
            notification.originator_version,
            notification.topic,
        ],
        separators=(",", ":"),
    ).encode()
    return len(canonical).to_bytes(4, "big") + canonical + bytes(notification.state)


def link(previous_hash, notification, data=None):
    """The chain hash after ``previous_hash``; ``data``: the event's bytes, if made already."""
    if data is None:
        data = event_bytes(notification)
    return hashlib.sha256(bytes.fromhex(previous_hash) + data).hexdigest()


class ChainLedger:
    """Head and checkpoints of one service's chain, in that service's event-store database."""

    def __init__(self, recorder, name, create=True):
        self.datastore = recorder.datastore
        self.name = name
        self.postgres = type(recorder).__module__.startswith("eventsourcing.postgres")
        self.schema = (getattr(self.datastore, "schema", "") or "") if self.postgres else ""
        prefix = f'"{self.schema}".' if self.schema else ""
        self.head_table = f"{prefix}chain_head"
        self.checkpoint_table = f"{prefix}chain_checkpoints"
        self.link_table = f"{prefix}chain_links"
        if create:
            self._create_tables()

    def _sql(self, statement):
        return statement.replace("?", "%s") if self.postgres else statement

    def _create_tables(self):
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self.head_table} "
                "(name TEXT PRIMARY KEY, position BIGINT NOT NULL, hash TEXT NOT NULL)"
            )
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self.checkpoint_table} "
                "(name TEXT NOT NULL, position BIGINT NOT NULL, hash TEXT NOT NULL, "
                "recorded_at TEXT NOT NULL, PRIMARY KEY (name, position))"
            )
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self.link_table} "
                "(name TEXT NOT NULL, position BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (name, position))"
            )

    def head(self):
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(f"SELECT position, hash FROM {self.head_table} WHERE name = ?"),
                (self.name,),
            )
            row = curs.fetchone()
        if row is None:
            return 0, GENESIS
        return (row["position"], row["hash"]) if isinstance(row, dict) else (row[0], row[1])

    def advance(self, links):
        """Record a published batch's ``(position, hash)`` links and a checkpoint at its last,
        and move the head there (never back: a slower replica cannot rewind it)."""
        position, chain_hash = links[-1]
        now = datetime.now(UTC).isoformat()
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(
                self._sql(
                    f"INSERT INTO {self.link_table} (name, position, hash) VALUES (?, ?, ?) "
                    "ON CONFLICT (name, position) DO NOTHING"
                ),
                [(self.name, p, h) for p, h in links],
            )
            curs.execute(
                self._sql(
                    f"INSERT INTO {self.head_table} (name, position, hash) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET position = excluded.position, hash = excluded.hash "
                    f"WHERE {self.head_table}.position < excluded.position"
                ),
                (self.name, position, chain_hash),
            )
            curs.execute(
                self._sql(
                    f"INSERT INTO {self.checkpoint_table} (name, position, hash, recorded_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (name, position) DO NOTHING"
                ),
                (self.name, position, chain_hash, now),
            )

    def checkpoint_at_or_before(self, position):
        """(position, hash) of the last checkpoint at or before ``position``; genesis if none."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    f"SELECT position, hash FROM {self.checkpoint_table} WHERE name = ? AND position <= ? "
                    "ORDER BY position DESC LIMIT 1"
                ),
                (self.name, position),
            )
            row = curs.fetchone()
        if row is None:
            return 0, GENESIS
        return (row["position"], row["hash"]) if isinstance(row, dict) else (row[0], row[1])

    def checkpoints(self):
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    f"SELECT position, hash, recorded_at FROM {self.checkpoint_table} "
                    "WHERE name = ? ORDER BY position"
                ),
                (self.name,),
            )
            rows = curs.fetchall()
        return [
            dict(row)
            if isinstance(row, dict)
            else {"position": row[0], "hash": row[1], "recorded_at": row[2]}
            for row in rows
        ]

    def links(self, after=0, stop=None):
        """``(position, hash)`` of every published event after ``after`` (up to ``stop``)."""
        query = f"SELECT position, hash FROM {self.link_table} WHERE name = ? AND position > ?"
        params = [self.name, after]
        if stop is not None:
            query += " AND position <= ?"
            params.append(stop)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(query + " ORDER BY position"), params)
            rows = curs.fetchall()
        return [
            (row["position"], row["hash"]) if isinstance(row, dict) else (row[0], row[1])
            for row in rows
        ]
