"""Concurrency: a command whose save lost a race is re-run, never lost; long loops share the hub."""

import eventlet
from eventsourcing.persistence import IntegrityError

from kernel.errors import Conflict

MAX_ATTEMPTS = 3


def retrying(attempt):
    """``attempt()``, re-run if its save lost an optimistic-concurrency race: the re-run sees the
    winner's events and either succeeds or refuses with a clear reason; it is never lost."""
    for number in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            if number == MAX_ATTEMPTS - 1:
                raise Conflict("the record was changed concurrently; please retry") from None


def pause():
    """Let the other greenthreads of this process run. CPU-bound loops and SQLite calls never
    yield by themselves, and in the embedded mode every request shares one eventlet hub: a long
    loop that does not pause holds up every other request until it ends."""
    eventlet.sleep(0)


def cooperative(items, every=50):
    """``items``, pausing after every ``every`` of them."""
    for number, item in enumerate(items, start=1):
        yield item
        if number % every == 0:
            pause()
