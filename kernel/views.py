"""The view store: MongoDB through pymongo, or an in-process mongomock store in embedded mode.

Views are disposable: each is a deterministic function of an event log, rebuilt by replaying it.
Only ASCII field names, string ids and integer money are used, so the same code runs on a real
MongoDB 7 and on the wire-protocol stand-in the tests use.
"""
import threading

import pymongo

_embedded_client = None
_lock = threading.Lock()


def connect(settings):
    """A pymongo ``Database`` for the views named by the settings."""
    global _embedded_client
    if settings.mongo_uri:
        client = pymongo.MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=False)
        return client[settings.views_db]
    import mongomock

    with _lock:  # one shared in-process store, so every service in the process sees the same views
        if _embedded_client is None:
            _embedded_client = mongomock.MongoClient()
    return _embedded_client[settings.views_db]


def reset_embedded():
    """Forget the in-process store (used by tests that simulate a process restart)."""
    global _embedded_client
    with _lock:
        _embedded_client = None
