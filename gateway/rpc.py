"""RPC from the gateway with a time limit. Without one, a request to a service that has no
replica running waits on the bus for ever; with it the client is told 503 UNAVAILABLE after
``RPC_TIMEOUT_SECONDS``. The message stays on the bus and the command may still be carried out
when a replica comes back, which is why the answer is an error and never a guess: a retry with
the same Idempotency-Key returns the first result."""
import os

import eventlet
from nameko.rpc import RpcProxy, ServiceProxy

from kernel.errors import Unavailable

# nameko builds dependencies when the class is defined, so this one setting is read here.
TIMEOUT_SECONDS = float(os.environ.get("RPC_TIMEOUT_SECONDS", "60"))


class BoundedRpcProxy(RpcProxy):
    def get_dependency(self, worker_ctx):
        return _BoundedServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener, **self.options)


class _BoundedServiceProxy(ServiceProxy):
    def __getattr__(self, name):
        method = super().__getattr__(name)

        def call(*args, **kwargs):
            reply = method.call_async(*args, **kwargs)
            with eventlet.Timeout(TIMEOUT_SECONDS, Unavailable(
                    f"the {self.service_name} service did not answer within {TIMEOUT_SECONDS:g} s; "
                    "retry with the same Idempotency-Key", {"service": [self.service_name]})):
                return reply.result()

        return call
