"""The Merkle tree over a service's published events, kept beside its log and chain.

Leaf ``i`` is the ``i``-th published event in notification order (positions may have gaps, so
the leaf index is not the position); its leaf input is the event's canonical bytes, the ones the
chain hashes (kernel/chain.py ``event_bytes``). Three tables in the service's event-store
database (SQLite or PostgreSQL, like the chain's):

- ``merkle_leaves``: leaf index ↔ position;
- ``merkle_nodes``: the hash of every complete subtree, ``(level, index)`` (kernel/merkle.py),
  written as leaves are appended, so a proof reads O(log n) rows in one query;
- ``signed_checkpoints``: the signed note published at the end of each publication batch, and
  those signed on demand for a figure (``vouch``): tree size, root, the last position it covers
  (indexed: the checkpoint covering a position is one lookup), the verifier key that signs it,
  and the time it carries (kernel/note.py: a signed ``time`` line).

Appending is deterministic and idempotent: replicas publishing the same batch write the same
rows (``ON CONFLICT DO NOTHING``); two notes for one size differ only in their time, and the
first one stored is kept.
"""

import base64
import hashlib
import hmac

from kernel import merkle
from kernel.chain import event_bytes
from kernel.errors import NotFound, RuleViolation
from kernel.note import Checkpoint, NoteSigner, now


def checkpoint_signer(settings, service):
    """The service's checkpoint signer. Its key name, also the checkpoints' origin, is
    ``<CHECKPOINT_ORIGIN>/<service>``; its Ed25519 seed is HMAC-SHA256(CHECKPOINT_SIGNING_KEY,
    service name), so every service signs with a key of its own although the deployment hands
    them one secret (kernel/config.py refuses the development one in distributed mode)."""
    secret = base64.b64decode(settings.checkpoint_signing_key)
    seed = hmac.new(secret, service.encode(), hashlib.sha256).digest()
    return NoteSigner(f"{settings.checkpoint_origin}/{service}", seed)


def _value(row, key, index):
    return row[key] if isinstance(row, dict) else row[index]


def b64(data):
    return base64.b64encode(data).decode()


def leaf(notification, data=None):
    """``(position, leaf hash)`` of a stored event; ``data``: its bytes, if made already."""
    return notification.id, merkle.leaf_hash(event_bytes(notification) if data is None else data)


class LogTree:
    def __init__(self, ledger, signer=None, create=True):
        """On the database of ``ledger`` (a kernel.chain.ChainLedger); ``signer`` (a
        kernel.note.NoteSigner) signs the checkpoints, none for a reader."""
        self.datastore, self.name, self._sql = ledger.datastore, ledger.name, ledger._sql
        prefix = f'"{ledger.schema}".' if ledger.schema else ""
        self.leaf_table = f"{prefix}merkle_leaves"
        self.node_table = f"{prefix}merkle_nodes"
        self.note_table = f"{prefix}signed_checkpoints"
        self.signer = signer
        # A figure's readers ask for the same position until the next write: a checkpoint that
        # covers it stays valid once stored, so the last one found is remembered (and named again,
        # even if another replica has since stored a smaller one).
        self._vouched = (None, None)
        if create:
            blob = "BYTEA" if ledger.postgres else "BLOB"
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.leaf_table} (name TEXT NOT NULL, "
                    "leaf_index BIGINT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (name, leaf_index))"
                )
                curs.execute(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS merkle_leaves_position "
                    f"ON {self.leaf_table} (name, position)"
                )
                curs.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.node_table} (name TEXT NOT NULL, "
                    f"level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL, "
                    "PRIMARY KEY (name, level, idx))"
                )
                curs.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.note_table} (name TEXT NOT NULL, "
                    "tree_size BIGINT NOT NULL, root_hash TEXT NOT NULL, position BIGINT NOT NULL, "
                    "note TEXT NOT NULL, "
                    "verifier_key TEXT NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (name, tree_size))"
                )
                curs.execute(
                    f"CREATE INDEX IF NOT EXISTS signed_checkpoints_position "
                    f"ON {self.note_table} (name, position)"
                )

    # -- growing -------------------------------------------------------------------------------

    def last(self, curs=None):
        """``(tree size, last position in it)``."""
        if curs is None:
            with self.datastore.transaction(commit=False) as curs:
                return self.last(curs)
        curs.execute(
            self._sql(
                f"SELECT leaf_index, position FROM {self.leaf_table} WHERE name = ? "
                "ORDER BY leaf_index DESC LIMIT 1"
            ),
            (self.name,),
        )
        row = curs.fetchone()
        return (
            (0, 0)
            if row is None
            else (_value(row, "leaf_index", 0) + 1, _value(row, "position", 1))
        )

    def grow(self, leaves, recorder, after):
        """Append the published events' ``(position, leaf hash)`` ``leaves`` (read after position
        ``after``; ``leaf``), first catching up from ``recorder`` on any published before them
        that the tree lacks (a crash between the chain's advance and this, or a log published
        before the tree existed); then sign a checkpoint at the new size. Returns the signed
        note or None."""
        size, last = self.last()
        while last < after:
            missing = recorder.select_notifications(start=last + 1, limit=5000, stop=after)
            if not missing:
                break
            size, _, last = self._append([leaf(n) for n in missing])
        leaves = [(position, hash_) for position, hash_ in leaves if position > last]
        if not leaves:
            return None
        return self.sign(*self._append(leaves))

    def _append(self, leaves):
        """Append ``(position, leaf hash)`` pairs after the tree's last position (others are
        there already): ``(size, root, last position)``."""
        with self.datastore.transaction(commit=True) as curs:
            size, last = self.last(curs)
            leaves = [(p, h) for p, h in leaves if p > last]
            stack = list(zip(merkle.root_plan(size), self._read(curs, merkle.root_plan(size))))
            rows, leaf_rows = [], []
            for offset, (position, hash_) in enumerate(leaves):
                index = size + offset
                leaf_rows.append((self.name, index, position))
                stack.append(((0, index), hash_))
                rows.append((self.name, 0, index, hash_))
                while len(stack) > 1 and stack[-1][0][0] == stack[-2][0][0]:
                    (level, right_index), right = stack.pop()
                    _, left = stack.pop()
                    node = (level + 1, right_index >> 1)
                    stack.append((node, merkle.node_hash(left, right)))
                    rows.append((self.name, node[0], node[1], stack[-1][1]))
            self._insert(curs, f"{self.leaf_table} (name, leaf_index, position)", leaf_rows)
            self._insert(curs, f"{self.node_table} (name, level, idx, hash)", rows)
        if not leaves:
            return size, merkle.fold([h for _, h in stack]) if stack else None, last
        return size + len(leaves), merkle.fold([h for _, h in stack]), leaves[-1][0]

    def _insert(self, curs, into, rows, chunk=200):
        """Multi-row INSERTs (executemany row by row is slow in psycopg's pure-Python build);
        200 rows keep the parameters under SQLite's and PostgreSQL's limits."""
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join(["(" + ", ".join(["?"] * len(part[0])) + ")"] * len(part))
            curs.execute(
                self._sql(f"INSERT INTO {into} VALUES {values} ON CONFLICT DO NOTHING"),
                [value for row in part for value in row],
            )

    def sign(self, size, root, position):
        """Sign and store the checkpoint of the first ``size`` leaves (the last at ``position``)."""
        if self.signer is None or not size:
            return None
        time = now()
        note = self.signer.sign(Checkpoint(self.signer.name, size, root, time).text())
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._sql(
                    f"INSERT INTO {self.note_table} (name, tree_size, root_hash, position, note, verifier_key, "
                    "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                (self.name, size, b64(root), position, note, self.signer.verifier_key, time),
            )
        return note

    def vouch(self, position):
        """The signed checkpoint a figure computed at log ``position`` names: the smallest stored
        one whose tree holds every event up to ``position`` (``covering``), else, when the tree
        holds them but none is signed yet, one signed now over exactly those events; None while
        the tree does not reach ``position``. Asked again for the last position, the same one
        (remembered). Indexed lookups only."""
        if self._vouched[0] == position:
            return self._vouched[1]
        found = self.covering(position)
        if found is None and self.signer is not None:
            with self.datastore.transaction(commit=False) as curs:
                if self.last(curs)[1] < position:
                    return None
                curs.execute(
                    self._sql(
                        f"SELECT leaf_index, position FROM {self.leaf_table} WHERE name = ? AND position <= ? "
                        "ORDER BY position DESC LIMIT 1"
                    ),
                    (self.name, position),
                )
                row = curs.fetchone()
            size, last = _value(row, "leaf_index", 0) + 1, _value(row, "position", 1)
            self.sign(size, self.root(size), last)
            found = self.covering(last)  # ours, or the one another replica stored first
        if found is not None:
            self._vouched = (position, found)
        return found

    # -- reading -------------------------------------------------------------------------------

    def _read(self, curs, nodes):
        """The hashes of ``nodes`` (a list of (level, index)), in one query."""
        if not nodes:
            return []
        wanted = sorted(set(nodes))
        # One primary-key lookup per node, in one statement (an OR of pairs makes SQLite scan).
        point = f"SELECT level, idx, hash FROM {self.node_table} WHERE name = ? AND level = ? AND idx = ?"
        curs.execute(
            self._sql(" UNION ALL ".join([point] * len(wanted))),
            [value for node in wanted for value in (self.name, *node)],
        )
        found = {
            (_value(r, "level", 0), _value(r, "idx", 1)): bytes(_value(r, "hash", 2))
            for r in curs.fetchall()
        }
        if len(found) != len(wanted):
            raise LookupError(
                f"the {self.name} tree lacks nodes {sorted(set(wanted) - set(found))[:5]}"
            )
        return [found[node] for node in nodes]

    def nodes(self, nodes):
        """A mapping of the stored nodes asked for (see kernel/merkle.py ``hashes``)."""
        with self.datastore.transaction(commit=False) as curs:
            return dict(zip(nodes, self._read(curs, nodes)))

    def root(self, size):
        return merkle.fold(list(self.nodes(merkle.root_plan(size)).values())) if size else None

    def leaf(self, position):
        """``(leaf index, leaf hash)`` of the event at ``position``, or None if not in the tree."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    f"SELECT leaf_index FROM {self.leaf_table} WHERE name = ? AND position = ?"
                ),
                (self.name, position),
            )
            row = curs.fetchone()
            if row is None:
                return None
            index = _value(row, "leaf_index", 0)
            return index, self._read(curs, [(0, index)])[0]

    def signed(self, limit=10):
        """The latest signed checkpoints, oldest first."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT tree_size, root_hash, position, note, verifier_key, recorded_at "
                    f"FROM {self.note_table} WHERE name = ? ORDER BY tree_size DESC LIMIT ?"
                ),
                (self.name, limit),
            )
            rows = curs.fetchall()
        keys = ("tree_size", "root_hash", "position", "note", "verifier_key", "recorded_at")
        return [{k: _value(row, k, i) for i, k in enumerate(keys)} for row in reversed(rows)]

    def covering(self, position):
        """The smallest stored signed checkpoint whose tree holds every event up to ``position``:
        ``{tree_size, root_hash, position, note}`` (``position``: the last it holds), or None."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    f"SELECT tree_size, root_hash, position, note FROM {self.note_table} "
                    "WHERE name = ? AND position >= ? ORDER BY position LIMIT 1"
                ),
                (self.name, position),
            )
            row = curs.fetchone()
        keys = ("tree_size", "root_hash", "position", "note")
        return None if row is None else {k: _value(row, k, i) for i, k in enumerate(keys)}

    def signed_at(self, size):
        """The signed note stored for ``size``, or None."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(f"SELECT note FROM {self.note_table} WHERE name = ? AND tree_size = ?"),
                (self.name, size),
            )
            row = curs.fetchone()
        return None if row is None else _value(row, "note", 0)

    def verifier_keys(self):
        """Every verifier key that signed a stored checkpoint, the current one last."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    f"SELECT verifier_key, MAX(tree_size) AS upto FROM {self.note_table} "
                    "WHERE name = ? GROUP BY verifier_key ORDER BY upto"
                ),
                (self.name,),
            )
            return [_value(row, "verifier_key", 0) for row in curs.fetchall()]

    # -- proofs --------------------------------------------------------------------------------

    def checkpoint_note(self, size):
        """The signed note for ``size``: the stored one, else (a signer here) one signed now."""
        note = self.signed_at(size)
        if note is None and self.signer is not None:
            note = self.signer.sign(
                Checkpoint(self.signer.name, size, self.root(size), now()).text()
            )
        return note

    def _size(self, tree_size, field, least=1):
        size, _ = self.last()
        if tree_size is None:
            return size
        if not least <= tree_size <= size:
            raise RuleViolation(
                f"the {self.name} tree has {size} leaves",
                {field: [f"must be from {least} to {size}, the tree's size now"]},
            )
        return tree_size

    def inclusion(self, position, tree_size=None):
        """The inclusion proof of the event at ``position`` in the tree of ``tree_size`` leaves
        (default: all of them), with the signed checkpoint for that size."""
        found = self.leaf(position)
        if found is None:
            raise NotFound(
                f"no published {self.name} event at position {position}",
                {"position": ["not an event in the tree (never recorded, or not yet published)"]},
            )
        index, leaf_hash = found
        size = self._size(tree_size, "tree_size", index + 1)
        plan, root_plan = merkle.inclusion_plan(index, size), merkle.root_plan(size)
        nodes = self.nodes(merkle.needed(plan, [root_plan]))
        return {
            "service": self.name,
            "position": position,
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": b64(leaf_hash),
            "proof": [b64(h) for h in merkle.hashes(plan, nodes)],
            "root_hash": b64(merkle.hashes([root_plan], nodes)[0]),
            "checkpoint": self.checkpoint_note(size),
        }

    def consistency(self, first, second=None):
        """The consistency proof from the tree of ``first`` leaves to the one of ``second``
        (default: all of them), with the signed checkpoints for both sizes."""
        second = self._size(second, "second")
        if not 1 <= first <= second:
            raise RuleViolation(
                f"no consistency proof from {first} to {second} leaves",
                {"first": [f"must be from 1 to second ({second})"]},
            )
        plan = merkle.consistency_plan(first, second)
        roots = [merkle.root_plan(first), merkle.root_plan(second)]
        nodes = self.nodes(merkle.needed(plan, roots))
        first_root, second_root = merkle.hashes(roots, nodes)
        return {
            "service": self.name,
            "first": first,
            "second": second,
            "proof": [b64(h) for h in merkle.hashes(plan, nodes)],
            "first_root": b64(first_root),
            "second_root": b64(second_root),
            "first_checkpoint": self.checkpoint_note(first),
            "second_checkpoint": self.checkpoint_note(second),
        }
