"""The replay's scratch view store: documents in dicts, written by the one kind of write the
projections make (``kernel.projection``: upserts by ``_id`` with ``$set`` and ``$addToSet``;
inserts, replacements and deletes by ``_id``), read back by ``_id`` (or ``_id`` ``$in``) or plain equality.

Why not mongomock, as the embedded mode uses: its write path costs about 0.6 ms per update
(profiled: locking, BSON checks, datetime patching), which held a replay of a million events
to a twelfth of the rate the log can be read and decoded. Anything else is refused loudly, and
the replay tests compare this store's documents with live views on mongomock and on MongoDB.
Queries (explain, report) run on a mongomock copy made once the replay is done.
"""
import mongomock
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne

from kernel import views as view_store

_WRITES = frozenset({"$set", "$addToSet"})


class ScratchCollection:
    def __init__(self, name):
        self.name = name
        self.docs = {}

    def bulk_write(self, ops, ordered=True):
        docs = self.docs
        for op in ops:
            if type(op) is DeleteOne and "_id" in op._filter:
                doc = docs.get(op._filter["_id"])
                if doc is not None and all(doc.get(k) == v for k, v in op._filter.items()):
                    del docs[op._filter["_id"]]
                continue
            if type(op) is InsertOne:
                if op._doc["_id"] in docs:
                    raise TypeError(f"the scratch store has one writer: {op._doc['_id']} is there already")
                docs[op._doc["_id"]] = dict(op._doc)
                continue
            if type(op) is ReplaceOne and set(op._filter) == {"_id"}:
                docs[op._filter["_id"]] = {**op._doc, "_id": op._filter["_id"]}
                continue
            if type(op) is not UpdateOne or not op._upsert or len(op._filter) != 1 or "_id" not in op._filter \
                    or not _WRITES.issuperset(op._doc):
                raise TypeError(f"the scratch store applies upserts by _id with $set/$addToSet only, not {op!r}")
            key, update = op._filter["_id"], op._doc
            doc = docs.get(key)
            if doc is None:
                doc = docs[key] = {"_id": key}
            if "$set" in update:
                for field, value in update["$set"].items():
                    doc[field] = list(value) if type(value) is list else value
            if "$addToSet" in update:
                for field, value in update["$addToSet"].items():
                    if type(value) is dict and "$each" in value:
                        raise TypeError(f"the scratch store adds single values to sets, not {op!r}")
                    members = doc.setdefault(field, [])
                    if value not in members:
                        members.append(value)

    def find_one(self, filter=None, projection=None):
        return next(iter(self.find(filter)), None)

    def find(self, filter=None):
        filter = filter or {}
        if set(filter) == {"_id"}:
            key = filter["_id"]
            keys = key["$in"] if isinstance(key, dict) and set(key) == {"$in"} else [key]
            return [dict(self.docs[k]) for k in keys if k in self.docs]
        if any(isinstance(v, dict) for v in filter.values()):
            raise TypeError(f"the scratch store finds by equality or _id $in only, not {filter!r}")
        return [dict(doc) for doc in self.docs.values() if all(doc.get(k) == v for k, v in filter.items())]

    def drop(self):
        self.docs.clear()


class ScratchViews:
    def __init__(self):
        self.collections = {}

    def __getitem__(self, name):
        if name not in self.collections:
            self.collections[name] = ScratchCollection(name)
        return self.collections[name]

    def queryable(self):
        """A mongomock copy of these documents, for the services' own queries."""
        view_store._index_lookup_by_id()
        copy = mongomock.MongoClient()["scratch_views"]
        for name, collection in self.collections.items():
            if collection.docs:
                copy[name].insert_many(list(collection.docs.values()))
        return copy
