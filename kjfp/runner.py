"""Start services in this process: all of them (embedded) or one (distributed)."""

import gc
import logging

from nameko.runners import ServiceRunner

from kernel import memory_transport, places
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


FULL_PASS_AFTER = 100  # passes of the middle generation (CPython's default: 10)


def settle():
    """In a serving process, once its services have started: set what start-up made (modules,
    settings, the services' parts) apart from the garbage collector, whose full passes otherwise
    scan it all again and again (during a 20,000-row import over HTTP, 0.7 s of its 6 s;
    benchmarks/import_households.py --http). Not part of ``start``: a test process starts many
    systems, and what is set apart is never collected.

    Then a full pass waits for a hundred passes of the middle generation rather than ten: on a
    register built over HTTP (100,000 households, 10,000 experts and pairings), the process made
    one every ~1.1 s, each 18-95 ms, and an explain page's p99 was 21.8-55.0 ms against
    10.7-12.2 ms with 100 (benchmarks/http_register.py). Cyclic garbage that lives that long is a
    few hundred objects a second.

    The division list is loaded first (kernel.places): lazily, the first request naming a place
    paid ~130 ms for it (twice in the distributed mode, in the gateway and in the service), and it
    lives as long as the process, so it is set apart with the rest."""
    places.preload()
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_AFTER)
