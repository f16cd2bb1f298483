"""RPC from the gateway, as every route makes it.

- Sealed: the personal fields the target service declares (``SERVICE.personal_fields``: ID numbers,
  bank accounts) travel sealed with a key the broker never holds (kernel.sealed); an
  Idempotency-Key travels as the key and a keyed fingerprint of the client's request.
- With a time limit. Without one, a request to a service that has no replica running waits on
  the bus for ever; with it the client is told 503 UNAVAILABLE after ``RPC_TIMEOUT_SECONDS``.
  The message stays on the bus and the command may still be carried out when a replica comes
  back, which is why the answer is an error and never a guess: a retry with the same
  Idempotency-Key returns the first result."""

import os

import eventlet
from nameko.rpc import RpcProxy, ServiceProxy

from kernel import config
from kernel.errors import Unavailable
from kernel.idempotency import KeyedRequest
from kernel.sealed import Seal
from kjfp.bootstrap import declaration

# nameko builds dependencies when the class is defined, so this one setting is read here.
TIMEOUT_SECONDS = float(os.environ.get("RPC_TIMEOUT_SECONDS", "60"))


class BoundedRpcProxy(RpcProxy):
    def setup(self):
        super().setup()
        settings = config.from_container(self.container)
        self.wire = Wire(
            Seal(settings.cipher_key),
            settings.pii_hash_key,
            frozenset(declaration(self.target_service).personal_fields),
        )

    def get_dependency(self, worker_ctx):
        return _BoundedServiceProxy(
            worker_ctx, self.target_service, self.rpc_reply_listener, self.wire, **self.options
        )


class Wire:
    """A request's arguments as they go on the bus."""

    def __init__(self, seal, hash_key, personal_fields):
        self.seal, self.hash_key, self.personal_fields = seal, hash_key, personal_fields

    def __call__(self, value):
        if isinstance(value, KeyedRequest):
            return value.wire(self.hash_key)
        return self.seal.seal(value, self.personal_fields)


class _BoundedServiceProxy(ServiceProxy):
    def __init__(self, worker_ctx, service_name, reply_listener, wire, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self._wire = wire

    def __getattr__(self, name):
        method = super().__getattr__(name)

        def call(*args, **kwargs):
            reply = method.call_async(
                *map(self._wire, args), **{k: self._wire(v) for k, v in kwargs.items()}
            )
            with eventlet.Timeout(
                TIMEOUT_SECONDS,
                Unavailable(
                    f"the {self.service_name} service did not answer within {TIMEOUT_SECONDS:g} s; "
                    "retry with the same Idempotency-Key",
                    {"service": [self.service_name]},
                ),
            ):
                return reply.result()

        return call
