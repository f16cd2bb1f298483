"""Could this container serve? What ``kjfp ready NAME`` checks with the container's own
configuration: the broker, and for a service its event store and the view store, for the
gateway its HTTP listener. Each check is bounded by a few seconds, as a health check must be."""

import urllib.request

import kombu
import pymongo

from kjfp.audit.logs import StoreLog
from kjfp.bootstrap import declaration

TIMEOUT_SECONDS = 5


def problems(settings, name):
    """What is not reachable (empty: ready)."""
    if settings.embedded:
        return ["embedded mode (AMQP_URI memory://): nothing to check outside the running process"]
    found = []
    _check(found, "broker", lambda: _broker(settings.amqp_uri))
    if name == "gateway":
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "") else settings.http_host
        _check(
            found,
            "gateway",
            lambda: urllib.request.urlopen(
                f"http://{host}:{settings.http_port}/health", timeout=TIMEOUT_SECONDS
            ).close(),
        )
        return found
    log = declaration(name)
    _check(found, "event store", lambda: _event_store(settings, log))
    _check(found, "view store", lambda: _view_store(settings))
    return found


def _check(found, what, probe):
    try:
        probe()
    except Exception as down:  # noqa: BLE001 - a health check reports, it does not raise
        found.append(f"{what}: {type(down).__name__}: {down}".splitlines()[0])


def _broker(uri):
    with kombu.Connection(uri, connect_timeout=TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(max_retries=1)


def _event_store(settings, log):
    StoreLog(settings, log).close()  # refuses a store that is not there or does not answer


def _view_store(settings):
    client = pymongo.MongoClient(
        settings.mongo_uri, serverSelectionTimeoutMS=TIMEOUT_SECONDS * 1000
    )
    try:
        client.admin.command("ping")
    finally:
        client.close()
