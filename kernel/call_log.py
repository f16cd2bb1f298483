"""One log line per call a service handles: which, how it ended, how long it took. No arguments
or results (they carry personal numbers). The timer ticks of the pump and of the erasure sweep
are left out: each logs what it does and what fails itself."""

import logging
import time

from nameko.extensions import DependencyProvider

logger = logging.getLogger("kjfp.calls")
QUIET = frozenset({"pump", "sweep_erasures"})


class CallLog(DependencyProvider):
    def setup(self):
        self.started = {}  # by worker context (its data would travel on to the calls it makes)

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.monotonic()

    def worker_teardown(self, worker_ctx):
        self.started.pop(worker_ctx, None)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        method = worker_ctx.entrypoint.method_name
        if method in QUIET:
            return
        elapsed = (time.monotonic() - self.started.get(worker_ctx, time.monotonic())) * 1000
        outcome = "ok" if exc_info is None else f"failed ({exc_info[0].__name__})"
        logger.info("%s.%s %s %.0f ms", worker_ctx.service_name, method, outcome, elapsed)
