"""The view store: MongoDB through pymongo, or an in-process mongomock store in embedded mode.

Views are disposable: each is a deterministic function of an event log, rebuilt by replaying it.
Only ASCII field names, string ids and integer money are used, so the same code runs on a real
MongoDB 7 and on the wire-protocol stand-in the tests use.
"""
import threading

import pymongo

_embedded_client = None
_lock = threading.Lock()


def _index_lookup_by_id():
    """mongomock filters every query by scanning all documents, so a projection's upserts by
    ``_id`` cost O(n) each and rebuilding n records O(n²) (10,000 households: minutes). Its store
    is keyed by ``_id``: answer a filter whose ``_id`` is a plain value from there, then apply the
    rest of the filter as before."""
    from mongomock import collection as mongomock_collection
    from mongomock.filtering import filter_applies

    scan = mongomock_collection.Collection._iter_documents
    if getattr(scan, "by_id", False):
        return

    def _iter_documents(self, filter):
        key = filter.get("_id") if isinstance(filter, dict) else None
        if isinstance(key, (str, int)) and not isinstance(key, bool):
            document = self._store[key] if key in self._store else None
            return iter([document] if document is not None and filter_applies(filter, document) else [])
        return scan(self, filter)

    _iter_documents.by_id = True
    mongomock_collection.Collection._iter_documents = _iter_documents


def connect(settings):
    """A pymongo ``Database`` for the views named by the settings."""
    global _embedded_client
    if settings.mongo_uri:
        client = pymongo.MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=False)
        return client[settings.views_db]
    import mongomock

    _index_lookup_by_id()
    with _lock:  # one shared in-process store, so every service in the process sees the same views
        if _embedded_client is None:
            _embedded_client = mongomock.MongoClient()
    return _embedded_client[settings.views_db]


def all_of(*clauses):
    """Query clauses joined by an explicit ``$and`` (empty ones left out): the MongoDB stand-in
    ignores a dotted-path condition that sits beside a top-level ``$or``, while real MongoDB
    reads both forms alike."""
    return {"$and": [clause for clause in clauses if clause] or [{}]}
