"""Personal numbers sealed for the trip over the broker: the gateway seals every personal field
of an RPC request (ID numbers, bank accounts: each service's ``SERVICE.personal_fields``) and the
service's RPC entrypoint unseals them before its code sees the arguments, so the broker, which
never holds the key, carries only ``{"$sealed": "<base64>"}``.

The key is derived from CIPHER_KEY with HKDF for this one use (the event store's cipher keeps
its own); AES-GCM per field, with the field's name as associated data so that a sealed value
cannot be moved to another field."""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nameko.rpc import Rpc

from kernel import config
from kernel.errors import ValidationFailed

SEALED = "$sealed"
NONCE_BYTES = 12


class Seal:
    def __init__(self, cipher_key):
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"kjfp rpc transport v1"
        ).derive(cipher_key.encode())
        self._aead = AESGCM(key)

    def seal(self, payload, fields):
        """A copy of ``payload`` with every string under a key in ``fields`` sealed, at any depth."""
        if isinstance(payload, dict):
            return {
                k: self._seal_value(k, v)
                if k in fields and isinstance(v, str)
                else self.seal(v, fields)
                for k, v in payload.items()
            }
        if isinstance(payload, (list, tuple)):
            return [self.seal(v, fields) for v in payload]
        return payload

    def unseal(self, payload, field=None):
        """A copy of ``payload`` with every sealed value opened (clear values pass as they are)."""
        if isinstance(payload, dict):
            if set(payload) == {SEALED}:
                return self._open(field, payload[SEALED])
            return {k: self.unseal(v, k) for k, v in payload.items()}
        if isinstance(payload, list):
            return [self.unseal(v, field) for v in payload]
        return payload

    def _seal_value(self, field, value):
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, value.encode(), str(field).encode())
        return {SEALED: base64.b64encode(sealed).decode()}

    def _open(self, field, sealed):
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], str(field).encode()
            ).decode()
        except (InvalidTag, ValueError, TypeError):
            # Not sealed with this deployment's key (or altered on the way): refuse, naming the field.
            raise ValidationFailed(
                f"{field} could not be unsealed", {str(field): ["could not be unsealed"]}
            ) from None


class SealedRpc(Rpc):
    """nameko's RPC entrypoint, unsealing the request's personal fields before the worker runs
    (an error here is answered to the caller like any other)."""

    def setup(self):
        super().setup()
        self.seal = Seal(config.from_container(self.container).cipher_key)

    def handle_message(self, body, message):
        if isinstance(body, dict) and "args" in body and "kwargs" in body:
            body = {
                **body,
                "args": self.seal.unseal(body["args"]),
                "kwargs": self.seal.unseal(body["kwargs"]),
            }
        super().handle_message(body, message)


rpc = SealedRpc.decorator
