"""Optimistic concurrency: a command whose save lost a race is re-run, never lost."""
import functools

from eventsourcing.persistence import IntegrityError

from kernel.errors import Conflict

MAX_ATTEMPTS = 3


def retry_on_conflict(command):
    """Re-run a command whose save lost an optimistic-concurrency race: the re-run sees the
    winner's events and either succeeds or refuses with a clear reason; it is never lost."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        for attempt in range(MAX_ATTEMPTS):
            try:
                return command(*args, **kwargs)
            except IntegrityError:
                if attempt == MAX_ATTEMPTS - 1:
                    raise Conflict("the record was changed concurrently; please retry")

    return wrapper
