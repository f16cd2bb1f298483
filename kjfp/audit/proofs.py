"""Merkle proofs for auditors (issue 16): made from the stores or an export, checked offline
with only the services' public verifier keys, and witnessed over time.

- ``tree_of(log)``: the log's tree, as the service keeps it in its store, or rebuilt in memory
  from an export's published events; either answers the same inclusion and consistency proofs
  as ``GET /api/v1/audit/proofs/…``.
- ``check_inclusion`` / ``check_consistency``: a proof (the HTTP answer or ``kjfp audit prove``'s)
  against signed checkpoints, every signature checked with the verifier keys given.
- ``Witness``: the last checkpoint seen per service, kept in a state file; a new one is taken
  only if its signature verifies and a consistency proof shows it extends the one kept.
"""

import base64
import binascii
import json
import os
from pathlib import Path

from kernel import merkle
from kernel.chain import event_bytes
from kernel.merkle import ProofError
from kernel.note import open_checkpoint
from kernel.tree import LogTree, b64


class ExportTree(LogTree):
    """The tree over an export's published events (those with a chain hash), in memory."""

    def __init__(self, log):
        self.name, self.signer = log.service, None
        positions, leaves, done = [], [], 0
        for batch in log.batches():
            linked = dict(log.links(done, batch[-1].id))
            done = batch[-1].id
            for notification in batch:
                if notification.id in linked:
                    positions.append(notification.id)
                    leaves.append(merkle.leaf_hash(event_bytes(notification)))
        self._positions, self._index = positions, {p: i for i, p in enumerate(positions)}
        self._nodes = merkle.complete_nodes(leaves)
        self._signed = log.signed()

    def last(self, curs=None):
        return len(self._positions), (self._positions[-1] if self._positions else 0)

    def nodes(self, nodes):
        return {node: self._nodes[node] for node in nodes}

    def leaf(self, position):
        index = self._index.get(position)
        return None if index is None else (index, self._nodes[(0, index)])

    def signed(self, limit=10):
        return self._signed[-limit:]

    def signed_at(self, size):
        return next((item["note"] for item in self._signed if item["tree_size"] == size), None)


def tree_of(log):
    """The Merkle tree of a StoreLog or ExportLog."""
    if hasattr(log, "tree"):
        if log.tree is None:
            raise FileNotFoundError(
                f"{log.service}: no Merkle tree in this store yet (nothing published "
                "since the tree was introduced)"
            )
        return log.tree
    return ExportTree(log)


def _hash(text, what):
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ProofError(f"{what} is not base64") from None
    if len(value) != merkle.HASH_SIZE:
        raise ProofError(f"{what} is not a 32-byte hash")
    return value


def _proof(doc):
    if not isinstance(doc.get("proof"), list):
        raise ProofError("the document has no proof list")
    return [_hash(item, f"proof[{i}]") for i, item in enumerate(doc["proof"])]


def check_inclusion(doc, verifier_keys, note=None, event=None):
    """Verify an inclusion proof document against its (or the given) signed checkpoint; with
    ``event`` (a stored event as the audit API and exports carry it), also that the proved leaf
    is that event. Returns the Checkpoint; raises ProofError."""
    from kjfp.audit.logs import notification

    note = note or doc.get("checkpoint")
    if not note:
        raise ProofError("no signed checkpoint to check the proof against (give one)")
    checkpoint = open_checkpoint(note, verifier_keys)
    if checkpoint.tree_size != doc.get("tree_size"):
        raise ProofError(
            f"the proof is for a tree of {doc.get('tree_size')} leaves, the checkpoint "
            f"for {checkpoint.tree_size}"
        )
    leaf = _hash(doc.get("leaf_hash"), "leaf_hash")
    if event is not None:
        if event.get("position") != doc.get("position"):
            raise ProofError(
                f"the event is at position {event.get('position')}, "
                f"the proof for {doc.get('position')}"
            )
        if merkle.leaf_hash(event_bytes(notification(event))) != leaf:
            raise ProofError(f"the event at {event['position']} is not the leaf the proof is for")
    if not isinstance(doc.get("leaf_index"), int):
        raise ProofError("the document has no leaf_index")
    merkle.verify_inclusion(
        doc["leaf_index"], checkpoint.tree_size, leaf, _proof(doc), checkpoint.root_hash
    )
    return checkpoint


def check_consistency(doc, verifier_keys, first_note=None, second_note=None):
    """Verify a consistency proof document between two signed checkpoints (its own, or those
    given). Returns both Checkpoints; raises ProofError."""
    first_note = first_note or doc.get("first_checkpoint")
    second_note = second_note or doc.get("second_checkpoint")
    if not first_note or not second_note:
        raise ProofError(
            "a consistency proof is checked against two signed checkpoints (give them)"
        )
    first, second = (
        open_checkpoint(first_note, verifier_keys),
        open_checkpoint(second_note, verifier_keys),
    )
    if (first.tree_size, second.tree_size) != (doc.get("first"), doc.get("second")):
        raise ProofError(
            f"the proof is from {doc.get('first')} to {doc.get('second')} leaves, "
            f"the checkpoints are for {first.tree_size} and {second.tree_size}"
        )
    if first.origin != second.origin:
        raise ProofError(f"the checkpoints are of two logs ({first.origin}, {second.origin})")
    merkle.verify_consistency(
        first.tree_size, second.tree_size, first.root_hash, second.root_hash, _proof(doc)
    )
    return first, second


def describe(checkpoint):
    """``<origin> size N root R``, and ``signed <time>`` when the note carries one."""
    signed = f" signed {checkpoint.time}" if checkpoint.time else ""
    return (
        f"{checkpoint.origin} size {checkpoint.tree_size} root {b64(checkpoint.root_hash)}{signed}"
    )


class Witness:
    """The state file: per service, the last checkpoint taken and the verifier keys trusted."""

    def __init__(self, path):
        self.path = Path(path)
        self.state = (
            json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {}
        )

    def observe(self, service, note, served_keys, given_keys, consistency):
        """Take ``note`` (the service's latest signed checkpoint) if it verifies and extends the
        one kept; ``consistency(first, second)`` fetches a proof document. Returns a line to
        print; raises ProofError naming both checkpoints when refused."""
        kept = self.state.get(service)
        keys = list(given_keys) or (kept["verifier_keys"] if kept else list(served_keys))
        new = open_checkpoint(note, keys)
        line = f"{service}: {describe(new)}"
        if kept is not None:
            old = open_checkpoint(
                kept["note"], keys + [k for k in kept["verifier_keys"] if k not in keys]
            )
            refused = f"{service}: REFUSED: kept checkpoint ({describe(old)}) and new one ({describe(new)})"
            if new.origin != old.origin:
                raise ProofError(f"{refused} are of different logs")
            if new.tree_size < old.tree_size:
                raise ProofError(f"{refused}: the new one is smaller, the log went back")
            if new.tree_size == old.tree_size:
                if new.root_hash != old.root_hash:
                    raise ProofError(f"{refused}: two roots for the same size (a split view)")
            else:
                try:
                    proof = _proof(consistency(old.tree_size, new.tree_size))
                    merkle.verify_consistency(
                        old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof
                    )
                except ProofError as failed:
                    raise ProofError(f"{refused} are not consistent: {failed}") from failed
            line += f", consistent with the kept size {old.tree_size}"
        else:
            line += " (first seen: kept)"
        self.state[service] = {"note": note, "verifier_keys": keys}
        return line

    def save(self):
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        temporary.write_text(
            json.dumps(self.state, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
        )
        os.replace(temporary, self.path)
