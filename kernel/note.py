"""Signed checkpoints: C2SP ``signed-note`` with an Ed25519 key, carrying a C2SP ``tlog-checkpoint``.

A checkpoint's text is three lines, ``<origin>\\n<tree size>\\n<base64 root hash>\\n``; the signed
note appends a blank line and one line per signature, ``— <key name> <base64(key hash ‖ sig)>``,
the signature being Ed25519 over the text's bytes. The key name is the origin. The verifier key
an auditor holds is ``<name>+<key hash hex8>+<base64(0x01 ‖ public key)>``, where the key hash is
the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).

One extension line (C2SP allows opaque lines after the root hash) carries the time the checkpoint
was signed, so it is signed too: ``time <RFC 3339 UTC, whole seconds>``, e.g.
``time 2026-11-26T16:08:09Z``. A verifier that follows C2SP reads the first three lines and
ignores it; ours parse it (a malformed one fails) and ignore any other extension line. Notes
signed before the line was introduced have none and still verify (``Checkpoint.time`` None).

Pure functions and a signer: the services sign, the auditor's tools verify with only the
published verifier key.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kernel.merkle import HASH_SIZE, ProofError

ED25519 = b"\x01"
DASH = "\u2014 "
TIME = "time "
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now():
    """The time a checkpoint signed now carries: RFC 3339 UTC, whole seconds."""
    return datetime.now(UTC).strftime(TIME_FORMAT)


def key_hash(name, public_key):
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _check_name(name):
    if not name or "+" in name or any(c.isspace() for c in name):
        raise ValueError(f"{name!r} cannot name a note key (no '+', no spaces)")


class NoteSigner:
    """Signs notes as ``name`` with the Ed25519 key whose 32-byte seed is given."""

    def __init__(self, name, seed):
        _check_name(name)
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._hash = key_hash(name, self.public_key)
        self.verifier_key = (
            f"{name}+{self._hash.hex()}+{base64.b64encode(ED25519 + self.public_key).decode()}"
        )

    def sign(self, text):
        if not text.endswith("\n"):
            raise ValueError("a note's text ends with a newline")
        signature = base64.b64encode(self._hash + self._key.sign(text.encode())).decode()
        return f"{text}\n{DASH}{self.name} {signature}\n"


@dataclass(frozen=True)
class Verifier:
    name: str
    hash: bytes
    public_key: bytes

    @classmethod
    def parse(cls, verifier_key):
        """A ``name+hash+key`` verifier key; ValueError naming what is wrong."""
        name, _, rest = verifier_key.strip().partition("+")
        hash_hex, _, encoded = rest.partition("+")
        _check_name(name)
        try:
            key = base64.b64decode(encoded, validate=True)
            hash_ = bytes.fromhex(hash_hex)
        except (binascii.Error, ValueError):
            raise ValueError(
                f"{verifier_key!r} is not a verifier key (name+hash+base64 key)"
            ) from None
        if len(hash_) != 4 or key[:1] != ED25519 or len(key) != 33:
            raise ValueError(f"{verifier_key!r} is not an Ed25519 verifier key")
        if key_hash(name, key[1:]) != hash_:
            raise ValueError(f"the key hash in {verifier_key!r} does not match its name and key")
        return cls(name, hash_, key[1:])


def open_note(note, verifiers):
    """The text of ``note`` if one of its signatures verifies with one of ``verifiers``
    (Verifier objects); ProofError otherwise. Other signatures (e.g. a witness's) are ignored."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise ProofError("not a signed note (no blank line before the signatures)")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    for line in lines:
        if not line.startswith(DASH):
            raise ProofError(f"not a signature line: {line[:40]!r}")
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ProofError(f"the signature of {name} is not base64") from None
        for verifier in verifiers:
            if verifier.name == name and verifier.hash == blob[:4]:
                try:
                    Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(
                        blob[4:], text.encode()
                    )
                except InvalidSignature:
                    raise ProofError(f"the signature of {name} does not verify") from None
                return text
    raise ProofError(
        "no signature on the note by the verifier key given "
        f"({', '.join(v.name + '+' + v.hash.hex() for v in verifiers)})"
    )


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    time: str | None = (
        None  # RFC 3339 UTC; None in notes signed before the time line was introduced
    )

    def text(self):
        time = f"{TIME}{self.time}\n" if self.time else ""
        return (
            f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n{time}"
        )

    @classmethod
    def parse(cls, text):
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise ProofError("a checkpoint is at least origin, tree size and root hash lines")
        origin, size, root = lines[:3]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise ProofError(f"the checkpoint's tree size {size!r} is not a decimal number")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except binascii.Error:
            root_hash = b""
        if len(root_hash) != HASH_SIZE:
            raise ProofError("the checkpoint's root hash is not base64 of 32 bytes")
        times = [line[len(TIME) :] for line in lines[3:-1] if line.startswith(TIME)]
        if len(times) > 1:
            raise ProofError("the checkpoint has more than one time line")
        for time in times:
            try:
                datetime.strptime(time, TIME_FORMAT)
            except ValueError:
                raise ProofError(
                    f"the checkpoint's time {time!r} is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)"
                ) from None
        return cls(origin, int(size), root_hash, times[0] if times else None)


def open_checkpoint(note, verifier_keys):
    """The Checkpoint a signed note carries, once its signature verifies with one of the
    verifier keys (strings) and its origin is the signer's name."""
    verifiers = [Verifier.parse(key) for key in verifier_keys]
    checkpoint = Checkpoint.parse(open_note(note, verifiers))
    if checkpoint.origin not in {v.name for v in verifiers}:
        raise ProofError(f"the checkpoint's origin {checkpoint.origin!r} is not the signer's name")
    return checkpoint
