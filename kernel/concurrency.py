"""Optimistic concurrency: a command whose save lost a race is re-run, never lost."""
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
                raise Conflict("the record was changed concurrently; please retry")
