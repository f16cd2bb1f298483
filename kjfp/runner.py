"""Start services in this process: all of them (embedded) or one (distributed)."""

import gc
import logging

from nameko.runners import ServiceRunner

from kernel import memory_transport
from kjfp.bootstrap import service_classes


class _OneLineForExpected(logging.Filter):
    """nameko logs each refusal a service raises on purpose (a 4xx, the 503 while views are
    built) as a warning with its whole traceback: the message line says all there is."""

    def filter(self, record):
        if str(record.msg).startswith("(expected)"):
            record.exc_info = record.exc_text = None
        return True


_quiet = _OneLineForExpected()


def start(settings, names=None):
    """Start the named services (default: all) and return the running ``ServiceRunner``."""
    settings.check()
    logging.getLogger("nameko.containers").addFilter(_quiet)  # once: a filter is added once
    if settings.embedded:
        memory_transport.apply()
    classes = service_classes()
    runner = ServiceRunner(settings.nameko_config())
    for name in names or classes:
        if name not in classes:
            raise ValueError(f"unknown service {name!r}; one of {', '.join(classes)}")
        runner.add_service(classes[name])
    runner.start()
    return runner


def settle():
    """In a serving process, once its services have started: set what start-up made (modules,
    settings, the services' parts) apart from the garbage collector, whose full passes otherwise
    scan it all again and again (during a 20,000-row import over HTTP, 0.7 s of its 6 s;
    benchmarks/import_households.py --http). Not part of ``start``: a test process starts many
    systems, and what is set apart is never collected."""
    gc.collect()
    gc.freeze()
