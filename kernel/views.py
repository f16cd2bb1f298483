"""The view store: MongoDB through pymongo, or in embedded mode a persistent, indexed store of
our own in one SQLite file under the data directory, answering the subset of pymongo's API the
projections and queries use (README: why no embedded library was good enough, with the numbers).

Views are disposable: each is a deterministic function of an event log, rebuilt by replaying it.
Only ASCII field names, string ids and integer money are used, so the same code runs on a real
MongoDB 7, on the wire-protocol stand-in the tests use, and here.

How the embedded store answers a query: a document is a JSON text in a table per collection,
keyed by ``_id``. Each field a declared index names is also a column of that table, written
from Python with the document (absent: NULL), and the index is an ordinary SQLite index over
those columns: an index over ``json_extract`` cost more per document written than SQLite's
insert itself (README, "The views"). A filter's conditions on ``_id`` and on indexed fields are
translated to SQL (equality, ranges, ``$in``, ``$and``/``$or`` of those), so SQLite narrows the
candidates through its indexes; every candidate is then matched in Python with MongoDB's
semantics (null matches missing, an array field matches a member, numbers compare across int
and float, types never compare across). The SQL narrowing is always a superset of the answer,
so an undeclared index costs time, never correctness. Indexed fields must hold scalars (a write
that puts an array there is refused), which keeps the translation exact enough for
``count_documents`` to count in SQL.

Where it differs from MongoDB, on purpose: one ``bulk_write`` is atomic (all or nothing); a
unique index does not treat a missing field as a value; sorts order scalars as MongoDB does
(null, numbers, strings) but compare booleans as numbers. Integers beyond 64 bits are refused as
BSON refuses them, so a view that breaks MongoDB breaks here too.
"""

import json
import os
import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson
import pymongo
from pymongo import DeleteMany, DeleteOne, IndexModel, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

FILE_NAME = "views.sqlite3"
INT64 = (-(2**63), 2**63 - 1)
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def connect(settings):
    """A pymongo ``Database`` for the views named by the settings (the embedded store, shared by
    every service of the process, when ``MONGO_URI`` is not set)."""
    if settings.mongo_uri:
        client: pymongo.MongoClient = pymongo.MongoClient(
            settings.mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=False
        )
        return client[settings.views_db]
    return embedded_client(Path(settings.data_dir) / FILE_NAME)[settings.views_db]


_held: dict[str, Any] = {}


def hold_data_dir(settings):
    """Lock the data directory's view store for this process (an exclusive ``flock`` held until
    the process exits), so that a second ``kjfp run`` or a ``kjfp rebuild-views`` on the same
    directory is refused instead of applying the projections beside it."""
    import fcntl

    path = Path(settings.data_dir) / "views.lock"
    with _clients_lock:
        if str(path) in _held:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RuntimeError(
                f"another process serves the views in {settings.data_dir}: stop it first"
            ) from None
        _held[str(path)] = handle


def release_data_dir(settings):
    """Let go of the data directory's lock (a process that stopped serving it, e.g. a benchmark
    that starts the next process on the same directory)."""
    with _clients_lock:
        handle = _held.pop(str(Path(settings.data_dir) / "views.lock"), None)
    if handle is not None:
        handle.close()  # closing the file releases its flock


def embedded_client(path):
    """The process's one client of the embedded store at ``path`` (created on first use)."""
    key = str(path)
    with _clients_lock:
        client = _clients.get(key)
        if client is None or client.closed:
            client = _clients[key] = EmbeddedClient(key)
        return client


@contextmanager
def building(database):
    """Around a build of views from scratch (a rebuild, a first start on an existing log). The
    embedded store then writes without waiting for the disk and creates the (non-unique) indexes
    declared meanwhile once, at the end, by sorting (see ``EmbeddedClient.building``). MongoDB is
    left as it is."""
    client = getattr(database, "client", None)
    with client.building() if isinstance(client, EmbeddedClient) else nullcontext():
        yield


def write_absolute(collection, documents):
    """Absolute writes by ``_id`` — ``{_id: the whole document, or None to delete it}`` — as one
    ``bulk_write`` of upserting ``ReplaceOne`` and ``DeleteOne`` on MongoDB; the embedded store
    writes the mapping as it stands (``EmbeddedCollection.replace_documents``)."""
    if isinstance(collection, EmbeddedCollection):
        collection.replace_documents(documents)
        return
    collection.bulk_write(
        [
            DeleteOne({"_id": key}) if doc is None else replace_by_id(key, doc)
            for key, doc in documents.items()
        ],
        ordered=True,
    )


def replace_by_id(key, doc):
    """An upserting ``ReplaceOne`` of the document ``key``, with ``_id`` in the replacement too
    (the MongoDB stand-in would otherwise invent one)."""
    return ReplaceOne({"_id": key}, doc if "_id" in doc else {"_id": key, **doc}, upsert=True)


def all_of(*clauses):
    """Query clauses joined by an explicit ``$and`` (empty ones left out): the MongoDB stand-in
    ignores a dotted-path condition that sits beside a top-level ``$or``, while real MongoDB
    reads both forms alike."""
    return {"$and": [clause for clause in clauses if clause] or [{}]}


def latest_by(entries, key, ids, as_of):
    """For each of ``ids``, its latest entry in ``entries`` (a history: one document per change,
    naming its record under ``key``, with ``on`` and ``position``) effective by ``as_of``; a tie
    on the date goes to the later log position. Records with no entry by then are left out."""
    latest: dict = {}
    for entry in entries.find(all_of({key: {"$in": list(ids)}}, {"on": {"$lte": as_of}})):
        held = latest.get(entry[key])
        if held is None or (entry["on"], entry["position"]) > (held["on"], held["position"]):
            latest[entry[key]] = entry
    return latest


# -- documents -----------------------------------------------------------------------------------
_SCALARS = frozenset({str, float, bool, type(None)})


def _check_ints(value):
    kind = type(value)
    if kind is int:
        if not INT64[0] <= value <= INT64[1]:
            raise OverflowError("MongoDB can only handle up to 8-byte ints")
    elif kind is dict or kind is list or kind is tuple:
        for item in value.values() if kind is dict else value:
            kind = type(item)
            if kind is str or item is None:
                continue  # most values: no call for them
            if kind is int:
                if not INT64[0] <= item <= INT64[1]:
                    raise OverflowError("MongoDB can only handle up to 8-byte ints")
            elif kind is dict or kind is list or kind is tuple:
                _check_ints(item)


def _dumps(doc):
    """A document's JSON text; an integer beyond 64 bits refused as BSON refuses it. orjson
    writes integers up to 64 bits unsigned, so the check is made when one exceeds 53 bits, where
    orjson's strict mode stops (rare in views: positions, counts and money in fen are far below;
    a search of the text for 19 digits in a row cost more than serialising it)."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_STRICT_INTEGER).decode()
    except orjson.JSONEncodeError:
        _check_ints(doc)
        return orjson.dumps(doc).decode()


_MISSING = object()


def _get(doc, path):
    """The value at a dotted path (``_MISSING`` if absent); through arrays of documents, a list."""
    value = doc
    for part in path.split("."):
        if type(value) is dict:
            value = value.get(part, _MISSING)
        elif type(value) is list and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else _MISSING
        elif type(value) is list:
            found = [item[part] for item in value if type(item) is dict and part in item]
            value = found if found else _MISSING
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _parent(doc, path, create):
    if "." not in path:
        return doc, path
    parts = path.split(".")
    for part in parts[:-1]:
        child = doc.get(part)
        if type(child) is not dict:
            if not create:
                return None, parts[-1]
            child = doc[part] = {}
        doc = child
    return doc, parts[-1]


# -- matching (MongoDB's semantics, in Python) ---------------------------------------------------
def _rank(value):
    """MongoDB's order of types: null, numbers, strings, objects, arrays, booleans."""
    if value is None or value is _MISSING:
        return 0
    kind = type(value)
    if kind is bool:
        return 5
    if kind in (int, float):
        return 1
    if kind is str:
        return 2
    if kind is dict:
        return 3
    return 4


def _same(a, b):
    if a is _MISSING:
        a = None
    return _rank(a) == _rank(b) and a == b


def _compare(op, value, bound):
    if value is _MISSING or _rank(value) != _rank(bound) or _rank(bound) in (0, 3, 4):
        return op in ("$lte", "$gte") and _same(value, bound)
    if op == "$gt":
        return value > bound
    if op == "$gte":
        return value >= bound
    if op == "$lt":
        return value < bound
    return value <= bound


def _candidates(value):
    """A field's value and, if it is an array, its members (what an equality may match)."""
    return [value, *value] if type(value) is list else [value]


def _cond(value, condition):
    if type(condition) is dict and condition and next(iter(condition)).startswith("$"):
        return all(_operator(value, op, arg) for op, arg in condition.items())
    return any(_same(v, condition) for v in _candidates(value))


def _operator(value, op, arg):
    if op == "$eq":
        return _cond(value, arg) if type(arg) is not dict else _same(value, arg)
    if op == "$ne":
        return not any(_same(v, arg) for v in _candidates(value))
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return any(_compare(op, v, arg) for v in _candidates(value))
    if op == "$in":
        return _member(value, arg)
    if op == "$nin":
        return not _member(value, arg)
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if op == "$not":
        return not _cond(value, arg)
    if op == "$size":
        return type(value) is list and len(value) == arg
    raise OperationFailure(f"the embedded view store does not support {op}")


class _Members:
    """An ``$in`` list made a set once per query (keyed by type rank, so 1 and 1.0 meet and True
    does not), so matching costs the same for 10 values or 10,000."""

    def __init__(self, values):
        self.keys, self.others = set(), []
        for value in values:
            if type(value) in (dict, list):
                self.others.append(value)
            else:
                self.keys.add((_rank(value), value))


def _member(value, arg):
    if type(arg) is not _Members:
        arg = _Members(arg)
    for v in _candidates(value):
        if v is _MISSING:
            v = None
        if type(v) in (dict, list):
            if any(_same(v, other) for other in arg.others):
                return True
        elif (_rank(v), v) in arg.keys:
            return True
    return False


def compiled(query):
    """``query`` with its ``$in``/``$nin`` lists made sets (for matching many documents)."""
    if type(query) is dict:
        return {
            key: (
                _Members(value)
                if key in ("$in", "$nin") and type(value) in (list, tuple)
                else compiled(value)
            )
            for key, value in query.items()
        }
    if type(query) is list:
        return [compiled(item) for item in query]
    return query


def matches(doc, query):
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(doc, q) for q in condition):
                return False
        elif key == "$or":
            if not any(matches(doc, q) for q in condition):
                return False
        elif key == "$nor":
            if any(matches(doc, q) for q in condition):
                return False
        elif key.startswith("$"):
            raise OperationFailure(f"the embedded view store does not support {key}")
        elif not _cond(_get(doc, key), condition):
            return False
    return True


# -- narrowing (SQL over the indexes; a superset of the answer) ----------------------------------
def _column(path):
    """The column holding an indexed field's value (written from Python with the document)."""
    return f'"k:{path}"'


def _json_path(path):
    return "$." + ".".join(f'"{part}"' for part in path.split("."))


def _expression(path, indexed=()):
    if path == "_id":
        return "id"
    if path in indexed:
        return _column(path)
    return f"json_extract(doc, '{_json_path(path)}')"


def _type_guard(column, bound):
    """Keep a range within its bound's type, through the index: SQLite orders NULL < numbers <
    text, so every text is >= '' and every number < ''."""
    if column == "id":
        return ""
    return f" AND {column} < ''" if type(bound) in (int, float) else f" AND {column} >= ''"


def _sql_value(value):
    return type(value) in (str, int, float) and type(value) is not bool


def _narrow(query, indexed):
    """``(sql, params, exact)`` for the conditions SQLite can answer through ``indexed`` paths
    (and ``_id``); ``exact`` when the SQL alone decides the whole query."""
    clauses, params, exact = [], [], True
    for key, condition in query.items():
        if key == "$and":
            parts = [_narrow(q, indexed) for q in condition]
            for sql, more, whole in parts:
                if sql:
                    clauses.append(sql)
                    params += more
                exact = exact and whole
        elif key == "$or":
            parts = [_narrow(q, indexed) for q in condition]
            if parts and all(sql for sql, _, _ in parts):
                clauses.append("(" + " OR ".join(f"({sql})" for sql, _, _ in parts) + ")")
                for _, more, _ in parts:
                    params += more
                exact = exact and all(whole for _, _, whole in parts)
            else:
                exact = False
        elif key in indexed or key == "_id":
            sql, more, whole = _narrow_field(key, condition, indexed)
            if sql:
                clauses.append(sql)
                params += more
            exact = exact and whole
        else:
            exact = False
    return " AND ".join(clauses), params, exact


def _residual(query, indexed):
    """What of ``query`` a document its SQL found must still be matched against: the conditions
    the SQL does not decide alone (a query is the conjunction of its keys; an explain page's rows
    are found through the index and only their end date is left to match)."""
    return {key: value for key, value in query.items() if not _narrow({key: value}, indexed)[2]}


def _narrow_field(path, condition, indexed):
    column = _expression(path, indexed)
    if not (type(condition) is dict and condition and next(iter(condition)).startswith("$")):
        condition = {"$eq": condition}
    clauses, params, exact = [], [], True
    for op, arg in condition.items():
        if op == "$eq" and arg is None and path != "_id":
            clauses.append(f"{column} IS NULL")
        elif op == "$eq" and _sql_value(arg):
            clauses.append(f"{column} = ?")  # SQLite's typed values: text never equals a number
            params.append(arg)
        elif op in ("$gt", "$gte", "$lt", "$lte") and _sql_value(arg):
            sign = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
            clauses.append(f"{column} {sign} ?" + _type_guard(column, arg))
            params.append(arg)
        elif op == "$in" and type(arg) is list and not arg:
            clauses.append("0")  # matches nothing, without reading the table
        elif op == "$in" and arg and all(_sql_value(a) for a in arg):
            clauses.append(f"{column} IN ({','.join('?' * len(arg))})")
            params += list(arg)
        else:
            exact = False
    return " AND ".join(clauses), params, exact


# -- updates -------------------------------------------------------------------------------------
def _written(arg):
    """A value an update writes: checked as BSON checks integers, and copied if it is a container
    (so no two documents of a batch share one)."""
    kind = type(arg)
    if kind is int:
        if not INT64[0] <= arg <= INT64[1]:
            raise OverflowError("MongoDB can only handle up to 8-byte ints")
        return arg
    if kind in _SCALARS:
        return arg
    _check_ints(arg)
    return _copy(arg)


def _apply_update(doc, update, inserting):
    """Apply an update document in place."""
    for op, fields in update.items():
        if "_id" in fields and op != "$setOnInsert":
            raise OperationFailure("the _id field cannot be changed")
        if op == "$set" or op == "$setOnInsert":
            if op == "$setOnInsert" and not inserting:
                continue
            for path, arg in fields.items():
                kind = type(arg)
                if kind is int:
                    if not INT64[0] <= arg <= INT64[1]:
                        raise OverflowError("MongoDB can only handle up to 8-byte ints")
                elif kind is not str and arg is not None:
                    arg = _written(arg)
                if "." in path:
                    parent, name = _parent(doc, path, True)
                    parent[name] = arg
                else:
                    doc[path] = arg
            continue
        for path, arg in fields.items():
            if type(arg) is not str:
                arg = _written(arg)
            parent, name = _parent(doc, path, op != "$unset")
            if op == "$addToSet":
                members = parent.setdefault(name, [])
                if type(members) is not list:
                    raise OperationFailure(f"cannot $addToSet to the non-array field {path}")
                for value in arg["$each"] if type(arg) is dict and "$each" in arg else (arg,):
                    if type(value) is str:  # the common case: a string equals only a string
                        if value not in members:
                            members.append(value)
                    elif not any(_same(m, value) for m in members):
                        members.append(value)
            elif op == "$unset":
                if parent is not None:
                    parent.pop(name, None)
            elif op == "$inc":
                current = parent.get(name, 0)
                if type(current) not in (int, float) or type(arg) not in (int, float):
                    raise OperationFailure(f"cannot $inc the non-numeric field {path}")
                parent[name] = _written(current + arg)
            elif op in ("$max", "$min"):
                current = parent.get(name, _MISSING)
                if (
                    current is _MISSING
                    or _rank(current) != _rank(arg)
                    or (arg > current if op == "$max" else arg < current)
                ):
                    parent[name] = arg
            elif op == "$push":
                members = parent.setdefault(name, [])
                if type(members) is not list:
                    raise OperationFailure(f"cannot $push to the non-array field {path}")
                members.extend(arg["$each"] if type(arg) is dict and "$each" in arg else (arg,))
            else:
                raise OperationFailure(f"the embedded view store does not support {op}")


def _copy(value):
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_copy(v) for v in value]
    return value


def _seed(query):
    """The fields an upsert's new document takes from its filter (plain equalities)."""
    doc = {}
    for key, value in query.items():
        if key == "$and":
            for clause in value:
                doc.update(_seed(clause))
        elif not key.startswith("$") and not (
            type(value) is dict and value and next(iter(value)).startswith("$")
        ):
            parent, name = _parent(doc, key, True)
            parent[name] = _copy(value)
    return doc


def _project(doc, projection):
    if not projection:
        return doc
    if isinstance(projection, (list, tuple)):
        projection = dict.fromkeys(projection, 1)
    keep_id = projection.get("_id", 1)
    included = [k for k, v in projection.items() if v and k != "_id"]
    if included:
        out: dict[str, Any] = {}
        for path in included:
            value = _get(doc, path)
            if value is not _MISSING:
                parent, name = _parent(out, path, True)
                parent[name] = value
        if keep_id and "_id" in doc:
            out["_id"] = doc["_id"]
        return out
    out = dict(doc)
    for path, flag in projection.items():
        if not flag:
            parent, name = _parent(out, path, False)
            if parent is not None:
                parent.pop(name, None)
    return out


# -- results -------------------------------------------------------------------------------------
class _Result:
    def __init__(self, **fields):
        self.acknowledged = True
        self.__dict__.update(fields)

    @property
    def bulk_api_result(self):
        return dict(self.__dict__)


# -- the store -----------------------------------------------------------------------------------
class EmbeddedClient:
    """One SQLite file holding every database's collections (a table per collection)."""

    def __init__(self, path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        # A new file's pages: 16 KiB rather than SQLite's 4 KiB hold ~20 of a build's documents
        # (JSON of 0.5-1 KB) each, a quarter of the pages to write and commit (a cold start at
        # 10^6: 90.9 and 91.8 s against 94.0 and 101.2 s at 4 KiB, alternated). An existing
        # file keeps its size.
        self.connection.execute("PRAGMA page_size=16384")
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute("PRAGMA cache_size=-65536")  # 64 MiB
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS _kjfp_indexes (tbl TEXT, name TEXT, keys TEXT, is_unique INT, "
            "PRIMARY KEY (tbl, name))"
        )
        self.closed = False
        self._tables = {}
        self._builds = 0  # builds under way (``building``)
        self._deferred = set()  # (table, index name) to create when the last build ends

    def __getitem__(self, name):
        return EmbeddedDatabase(self, name)

    def get_database(self, name):
        return self[name]

    def close(self):
        with self.lock:
            if not self.closed:
                self.connection.close()
                self.closed = True

    def table(self, name):
        """``(exists, indexed paths)`` of a table, cached; each indexed path (but ``_id``) has its
        column, which every write fills."""
        with self.lock:
            if name not in self._tables:
                exists = bool(
                    self.connection.execute(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
                    ).fetchone()
                )
                found: set[str] = set()
                for (keys,) in self.connection.execute(
                    "SELECT keys FROM _kjfp_indexes WHERE tbl=?", (name,)
                ):
                    found.update(field for field, _ in json.loads(keys))
                paths = tuple(sorted(found - {"_id"}))
                if exists and paths and not set(paths) <= self._columns(name):
                    self._upgrade(name, paths)
                self._tables[name] = [exists, paths]
            return self._tables[name]

    def _columns(self, name):
        return {
            row[1][2:]
            for row in self.connection.execute(f'PRAGMA table_info("{name}")')
            if row[1].startswith("k:")
        }

    def _upgrade(self, name, paths):
        """A table written before indexed fields had columns (its indexes over ``json_extract``):
        the columns filled from the documents, the indexes made again over them."""
        with self.transaction():
            self.fill_columns(name, [p for p in paths if p not in self._columns(name)])
            for index, keys, unique in self.connection.execute(
                "SELECT name, keys, is_unique FROM _kjfp_indexes WHERE tbl=?", (name,)
            ).fetchall():
                self.connection.execute(f'DROP INDEX IF EXISTS "{name}.{index}"')
                self.connection.execute(_index_sql(name, index, json.loads(keys), paths, unique))

    @contextmanager
    def building(self):
        """Views being built from scratch are worthless until done and made again from the log if
        lost, so meanwhile the file is written without ``fsync`` (``synchronous=OFF``: a crash of
        the process loses nothing; one of the machine may cost the views, rebuilt from the log),
        and the non-unique indexes created meanwhile are made when the build ends (or when a query
        would go through one): one sort instead of an index update per document written
        (measured: a fifth of a cold rebuild).
        Their columns are written all along, so queries meanwhile answer alike, only slower.
        Pages freed meanwhile (the old views dropped) are not overwritten with zeros
        (``secure_delete=FAST``; this SQLite zeroes them by default, which made dropping the old
        views five times slower): they held what the build writes again, into those very pages,
        and what is deleted later is zeroed as before. (Builds of several services may overlap:
        the first to end makes every index deferred so far, the last one puts the pragmas back.)
        When a build ends, what it wrote is put on the disk (``durable``) before the caller marks
        the views built."""
        with self.lock:
            if not self._builds:
                self._secure_delete = self.connection.execute("PRAGMA secure_delete").fetchone()[0]
                self.connection.execute("PRAGMA synchronous=OFF")
                self.connection.execute("PRAGMA secure_delete=FAST")
            self._builds += 1
        try:
            yield
        finally:
            with self.lock:
                self._builds -= 1
                if not self.closed:
                    deferred, self._deferred = self._deferred, set()
                    for table, name in sorted(deferred):
                        self._create_deferred(table, name)
                    if not self._builds:
                        self.connection.execute("PRAGMA synchronous=NORMAL")
                        self.connection.execute(f"PRAGMA secure_delete={int(self._secure_delete)}")
                    self.durable()

    def durable(self):
        """Put on the disk what was written without ``fsync``: the WAL copied into the database
        file, and that file synced. Without it, the build's pages stayed in the OS's cache,
        dirty, until its flusher wrote them ~30 s later (~900 MB at 10^6: reads beside that
        stalled for 60-280 ms), and a machine that lost power meanwhile could leave views marked
        built whose pages never reached the disk."""
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if self.path != ":memory:":
            descriptor = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def make_deferred(self, table):
        for entry in sorted(entry for entry in self._deferred if entry[0] == table):
            self._deferred.discard(entry)
            self._create_deferred(*entry)

    def _create_deferred(self, table, name):
        found = self.connection.execute(
            "SELECT keys FROM _kjfp_indexes WHERE tbl=? AND name=?", (table, name)
        ).fetchone()
        if found:  # unless dropped meanwhile
            self.connection.execute(
                _index_sql(table, name, json.loads(found[0]), self.table(table)[1], False)
            )

    def fill_columns(self, name, paths):
        """Add (or refill) the columns of ``paths``, from the stored documents."""
        present = self._columns(name)
        for path in paths:
            if path not in present:
                self.connection.execute(f'ALTER TABLE "{name}" ADD COLUMN {_column(path)}')
            self.connection.execute(
                f'UPDATE "{name}" SET {_column(path)} = json_extract(doc, ?)', (_json_path(path),)
            )

    @contextmanager
    def transaction(self):
        """One SQLite transaction around what runs inside: all of it is written or none (inside
        one already open: part of that one)."""
        if self.connection.in_transaction:
            yield
            return
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise

    def create_table(self, name):
        state = self.table(name)
        if not state[0]:
            self.connection.execute(
                f'CREATE TABLE IF NOT EXISTS "{name}" (id PRIMARY KEY, doc TEXT NOT NULL)'
            )
            state[0] = True

    def forget(self, name):
        self._tables.pop(name, None)


class EmbeddedDatabase:
    def __init__(self, client, name):
        self.client = client
        self.name = name

    def __getitem__(self, name):
        return EmbeddedCollection(self, name)

    def get_collection(self, name):
        return self[name]

    def command(self, name, *args, **kwargs):
        if name == "ping":
            self.client.connection.execute("SELECT 1")
            return {"ok": 1.0}
        raise OperationFailure(f"the embedded view store does not support the command {name}")

    def list_collection_names(self):
        prefix = f"{self.name}."
        rows = self.client.connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND substr(name, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return sorted(name[len(prefix) :] for (name,) in rows)

    def drop_collection(self, name):
        self[name].drop()


class EmbeddedCollection:
    def __init__(self, database, name):
        self.database = database
        self.client = database.client
        self.name = name
        self.table = f"{database.name}.{name}"

    # -- indexes ---------------------------------------------------------------------------------
    def create_indexes(self, models):
        return [self._create_index(model.document) for model in models]

    def create_index(self, keys, **options):
        if isinstance(keys, str):
            keys = [(keys, pymongo.ASCENDING)]
        return self.create_indexes([IndexModel(keys, **options)])[0]

    def _create_index(self, spec):
        keys = [(field, direction) for field, direction in spec["key"].items()]
        if any(direction not in (1, -1) for _, direction in keys):
            raise OperationFailure(
                "the embedded view store has ascending and descending indexes only"
            )
        name, unique = spec["name"], bool(spec.get("unique"))
        client = self.client
        with client.lock:
            client.create_table(self.table)
            fields = [field for field, _ in keys]
            new = [f for f in fields if f != "_id" and f not in client.table(self.table)[1]]
            self._refuse_arrays_at(new)  # the columns already written never hold one
            with client.transaction():
                client.fill_columns(self.table, new)
                if client._builds and not unique:
                    client._deferred.add((self.table, name))
                else:
                    try:
                        client.connection.execute(
                            _index_sql(self.table, name, keys, fields, unique)
                        )
                    except sqlite3.IntegrityError as duplicate:
                        raise DuplicateKeyError(str(duplicate)) from None
                client.connection.execute(
                    "INSERT OR REPLACE INTO _kjfp_indexes VALUES (?, ?, ?, ?)",
                    (self.table, name, json.dumps(keys), int(unique)),
                )
            client.forget(self.table)
        return name

    def _refuse_arrays_at(self, paths):
        for path in paths:
            found = self.client.connection.execute(
                f'SELECT id FROM "{self.table}" WHERE json_type(doc, ?) IN (?, ?) LIMIT 1',
                (_json_path(path), "array", "object"),
            ).fetchone()
            if found:
                raise OperationFailure(
                    f"{self.name}: the indexed field {path} holds an array or "
                    f"document in {found[0]!r}; the embedded store indexes scalars"
                )

    def index_information(self):
        info: dict[str, dict[str, Any]] = {"_id_": {"key": [("_id", 1)]}}
        for name, keys, unique in self.client.connection.execute(
            "SELECT name, keys, is_unique FROM _kjfp_indexes WHERE tbl=?", (self.table,)
        ):
            info[name] = {
                "key": [tuple(k) for k in json.loads(keys)],
                **({"unique": True} if unique else {}),
            }
        return info

    def list_indexes(self):
        return [{"name": name, **spec} for name, spec in self.index_information().items()]

    def drop_indexes(self):
        with self.client.lock:
            for name in self.index_information():
                if name != "_id_":
                    self.client.connection.execute(f'DROP INDEX IF EXISTS "{self.table}.{name}"')
            self.client.connection.execute("DELETE FROM _kjfp_indexes WHERE tbl=?", (self.table,))
            self.client.forget(
                self.table
            )  # the columns stay, no longer written; refilled if indexed again

    # -- reads -----------------------------------------------------------------------------------
    def _rows(self, query, sort=None, skip=0, limit=0):
        """Matching documents, in ``sort`` order, streamed."""
        exists, indexed = self.client.table(self.table)
        if not exists:
            return
        query = query or {}
        where, params, exact = _narrow(query, indexed)
        sql = f'SELECT doc FROM "{self.table}"' + (f" WHERE {where}" if where else "")
        query = compiled(_residual(query, indexed))
        if sort:
            sql += " ORDER BY " + ", ".join(
                _expression(f, indexed) + (" DESC" if d == -1 else "") for f, d in sort
            )
            sql += ", id" if all(f != "_id" for f, _ in sort) else ""
        self._index_for(sql)
        if exact:
            if limit:
                sql += f" LIMIT {int(limit)}"
            if skip:
                sql += ("" if limit else " LIMIT -1") + f" OFFSET {int(skip)}"
            skip = limit = 0
        with self.client.lock:
            cursor = self.client.connection.execute(sql, params)
            rows = cursor.fetchmany(500)
        sent = 0
        while rows:
            for (text,) in rows:
                doc = orjson.loads(text)
                if not query or matches(doc, query):
                    if skip:
                        skip -= 1
                        continue
                    yield doc
                    sent += 1
                    if limit and sent >= limit:
                        return
            with self.client.lock:
                rows = cursor.fetchmany(500)

    def _index_for(self, sql):
        """A query during a build that goes through an indexed column makes the table's deferred
        indexes now (a build reading its own views by more than ``_id``, e.g. a frame's last
        ordinal, would otherwise scan the table at every batch)."""
        client = self.client
        if client._deferred and '"k:' in sql:
            with client.lock:
                if not client.connection.in_transaction:  # else made when the build ends
                    client.make_deferred(self.table)

    def find(self, filter=None, projection=None, sort=None, skip=0, limit=0, **_):
        return EmbeddedCursor(self, filter, projection, sort, skip, limit)

    def find_one(self, filter=None, projection=None, sort=None, **_):
        if filter is not None and not isinstance(filter, dict):
            filter = {"_id": filter}
        return next(iter(self.find(filter, projection, sort=sort, limit=1)), None)

    def count_documents(self, filter, skip=0, limit=0, **_):
        exists, indexed = self.client.table(self.table)
        if not exists:
            return 0
        where, params, exact = _narrow(filter, indexed)
        if exact and not skip and not limit:
            self._index_for(where)
            with self.client.lock:
                sql = f'SELECT COUNT(*) FROM "{self.table}"' + (f" WHERE {where}" if where else "")
                return self.client.connection.execute(sql, params).fetchone()[0]
        return sum(1 for _ in self._rows(filter, skip=skip, limit=limit))

    def estimated_document_count(self, **_):
        return self.count_documents({})

    def distinct(self, key, filter=None):
        values: list[Any] = []
        for doc in self._rows(filter or {}):
            for value in _candidates(_get(doc, key)):
                if (
                    value is not _MISSING
                    and type(value) is not list
                    and not any(_same(value, v) for v in values)
                ):
                    values.append(value)
        return values

    def aggregate(self, pipeline, **_):
        """``$match`` (first, through the indexes), then ``$group`` with ``$sum``/``$min``/``$max``/
        ``$first``/``$last``, ``$sort``, ``$skip``, ``$limit``, ``$project`` (inclusion)."""
        stages = list(pipeline)
        query = stages.pop(0)["$match"] if stages and "$match" in stages[0] else {}
        docs = self._rows(query)
        for stage in stages:
            ((op, arg),) = stage.items()
            if op == "$match":
                docs = [d for d in docs if matches(d, arg)]
            elif op == "$group":
                docs = _group(docs, arg)
            elif op == "$sort":
                docs = _sorted(list(docs), list(arg.items()))
            elif op == "$skip":
                docs = list(docs)[arg:]
            elif op == "$limit":
                docs = list(docs)[:arg]
            elif op == "$project":
                docs = [_project(d, arg) for d in docs]
            else:
                raise OperationFailure(f"the embedded view store does not support the stage {op}")
        return iter(list(docs))

    # -- writes ----------------------------------------------------------------------------------
    def bulk_write(self, requests, ordered=True, **_):
        """All the operations in one SQLite transaction: all or none of them are applied. Updates
        by ``_id`` read their documents in one query and write them back in one statement. A
        duplicate ``_id`` raises ``BulkWriteError`` (code 11000), as pymongo's does."""
        try:
            return self._bulk(requests)
        except DuplicateKeyError as duplicate:
            raise BulkWriteError(
                {
                    "writeErrors": [
                        {
                            "index": getattr(duplicate, "index", 0),
                            "code": 11000,
                            "errmsg": str(duplicate),
                        }
                    ],
                    "writeConcernErrors": [],
                    "nInserted": 0,
                    "nUpserted": 0,
                    "nMatched": 0,
                    "nModified": 0,
                    "nRemoved": 0,
                    "upserted": [],
                }
            ) from None

    def _bulk(self, requests):
        counts = dict(
            inserted_count=0,
            matched_count=0,
            modified_count=0,
            deleted_count=0,
            upserted_count=0,
            upserted_ids={},
        )
        with self._writing() as indexed:
            if _by_distinct_ids(requests):
                self._replace_or_delete(requests, indexed, counts)
            else:
                keys = {
                    op._filter["_id"]
                    for op in requests
                    if type(op) is UpdateOne
                    and set(op._filter) == {"_id"}
                    and _key(op._filter["_id"])
                }
                cache = self._load(keys)  # _id → document (None: absent), in this batch
                changed: dict[Any, Any] = {}
                for index, op in enumerate(requests):
                    if (
                        type(op) is UpdateOne
                        and len(op._filter) == 1
                        and _key(op._filter.get("_id"))
                    ):
                        self._update_by_id(
                            op, index, cache, changed, counts
                        )  # the projections' write
                    else:
                        try:
                            self._write_one(op, index, cache, changed, counts)
                        except DuplicateKeyError as duplicate:
                            duplicate.index = index  # type: ignore[attr-defined]  # as pymongo reports it
                            raise
                self._flush(changed, indexed)
        return _Result(**counts)

    def replace_documents(self, documents):
        """Absolute writes by ``_id`` in one transaction: ``{_id: document, or None to delete}``,
        as a batch of upserting ``ReplaceOne`` and ``DeleteOne`` of distinct ``_id`` would write
        them, without making those objects (for a cold build's millions of writes: a tenth of
        its time, measured). ``kernel.views.write_absolute`` picks this where it exists."""
        if not all(_key(key) for key in documents):
            raise TypeError(f"{self.name}: replace_documents takes string or integer ids")
        with self._writing() as indexed:
            self._store(documents, self._present(documents), indexed)

    @contextmanager
    def _writing(self):
        """One transaction of writes to this collection's table, made first if need be (outside
        the transaction: the table's cached state would outlive a rollback); gives the indexed
        paths, whose columns every write fills."""
        client = self.client
        with client.lock:
            client.create_table(self.table)
            indexed = client.table(self.table)[1]
            with client.transaction():
                yield indexed

    def _present(self, keys):
        """Which of ``keys`` are stored, in one query."""
        return {
            key
            for (key,) in self.client.connection.execute(
                f'SELECT id FROM "{self.table}" WHERE id IN (SELECT value FROM json_each(?))',
                (orjson.dumps(list(keys)).decode(),),
            )
        }

    def _replace_or_delete(self, requests, indexed, counts):
        """A batch of replaces and deletes of distinct ``_id`` (a projection's absolute writes):
        no document is read or copied, each is written once as it is serialised."""
        present = self._present([op._filter["_id"] for op in requests])
        documents: dict[Any, Any] = {}
        for index, op in enumerate(requests):
            key = op._filter["_id"]
            if type(op) is DeleteOne:
                if key in present:
                    documents[key] = None
                    counts["deleted_count"] += 1
                continue
            if key in present:
                counts["matched_count"] += 1
            elif op._upsert:
                counts["upserted_count"] += 1
                counts["upserted_ids"][index] = key
            else:
                continue
            documents[key] = op._doc
        counts["modified_count"] = counts["matched_count"]  # as matched: documents are not compared
        self._store(documents, present, indexed)

    def _store(self, documents, present, indexed):
        """Write ``{_id: document or None}``; ``present``: which of them are stored already."""
        inserts: list[Any] = []
        replaces: list[Any] = []
        deletes: list[Any] = []
        paths = [(path, path.split(".")) for path in indexed]
        for key, doc in documents.items():
            if doc is None:
                if key in present:
                    deletes.append((key,))
                continue
            if doc.get("_id", key) != key:
                raise OperationFailure("the _id field cannot be changed")
            row = [key, _dumps(doc if "_id" in doc else {"_id": key, **doc})]
            for path, parts in paths:  # the indexed fields' columns
                value = doc
                for part in parts:
                    value = value.get(part, _MISSING) if type(value) is dict else _get(value, part)
                kind = type(value)
                if kind is list or kind is dict:
                    raise OperationFailure(
                        f"{self.name}: the indexed field {path} would hold an array or "
                        "document; the embedded store indexes scalars"
                    )
                row.append(None if value is _MISSING else value)
            (replaces if key in present else inserts).append(row)
        connection = self.client.connection
        if deletes:
            connection.executemany(f'DELETE FROM "{self.table}" WHERE id = ?', deletes)
        try:  # a plain insert where nothing is replaced: a third less work for SQLite (measured)
            connection.executemany(self._insert_sql("INSERT", indexed), inserts)
            connection.executemany(self._insert_sql("INSERT OR REPLACE", indexed), replaces)
        except sqlite3.IntegrityError as duplicate:
            raise DuplicateKeyError(f"{self.name}: {duplicate}") from None

    def _insert_sql(self, verb, indexed):
        columns = "".join(", " + _column(path) for path in indexed)
        return f'{verb} INTO "{self.table}" (id, doc{columns}) VALUES (?, ?{", ?" * len(indexed)})'

    def _indexed_values(self, doc, indexed):
        """The values of the indexed fields, for their columns (None where absent)."""
        values = []
        for path in indexed:
            value = _get(doc, path)
            kind = type(value)
            if kind is list or kind is dict:
                raise OperationFailure(
                    f"{self.name}: the indexed field {path} would hold an array or "
                    "document; the embedded store indexes scalars"
                )
            values.append(None if value is _MISSING else value)
        return values

    def _load(self, keys):
        """The stored documents of ``keys`` (None where absent), in one query."""
        cache = dict.fromkeys(keys)
        if cache:
            rows = self.client.connection.execute(
                f'SELECT id, doc FROM "{self.table}" WHERE id IN (SELECT value FROM json_each(?))',
                (orjson.dumps(list(cache)).decode(),),
            )
            for key, text in rows:
                cache[key] = orjson.loads(text)
        return cache

    def _flush(self, changed, indexed):
        upserts = []
        for key, doc in changed.items():
            if doc is None:
                self.client.connection.execute(f'DELETE FROM "{self.table}" WHERE id = ?', (key,))
                continue
            upserts.append((key, orjson.dumps(doc).decode(), *self._indexed_values(doc, indexed)))
        try:
            self.client.connection.executemany(
                self._insert_sql("INSERT OR REPLACE", indexed), upserts
            )
        except sqlite3.IntegrityError as duplicate:
            raise DuplicateKeyError(f"{self.name}: {duplicate}") from None

    def _find_for_write(self, query, cache, changed, many=False):
        """The documents ``query`` matches, as this batch has left them."""
        if set(query) == {"_id"} and _key(query["_id"]):
            key = query["_id"]
            if key not in cache:
                cache.update(self._load([key]))
            doc = cache[key]
            return [doc] if doc is not None else []
        found = {d["_id"]: d for d in self._rows(query, limit=0 if many else 1)}
        for key, doc in changed.items():  # this batch's own writes shadow the stored documents
            found.pop(key, None)
            if doc is not None and matches(doc, query):
                found[key] = doc
        docs = list(found.values())
        return docs if many else docs[:1]

    @staticmethod
    def _update_by_id(op, index, cache, changed, counts):
        key = op._filter["_id"]
        doc = cache[key]
        if doc is None:
            if not op._upsert:
                return
            doc = {"_id": key}
            _apply_update(doc, op._doc, True)
            counts["upserted_count"] += 1
            counts["upserted_ids"][index] = key
        else:
            _apply_update(doc, op._doc, False)
            counts["matched_count"] += 1
            counts["modified_count"] += 1
        cache[key] = changed[key] = doc

    def _write_one(self, op, index, cache, changed, counts):
        kind = type(op)
        if kind is InsertOne:
            doc = _written(op._doc)
            if "_id" not in doc:
                raise OperationFailure("the embedded view store needs documents with an _id")
            self._insert(doc, cache, changed)
            counts["inserted_count"] += 1
        elif kind in (UpdateOne, UpdateMany, ReplaceOne):
            docs = self._find_for_write(op._filter, cache, changed, many=kind is UpdateMany)
            for doc in docs:  # changed in place: the batch's cache is dropped if it fails
                if kind is ReplaceOne:
                    doc = {"_id": doc["_id"], **_written(op._doc)}
                else:
                    _apply_update(doc, op._doc, False)
                counts["matched_count"] += 1
                counts["modified_count"] += 1  # as matched: documents are not compared
                cache[doc["_id"]] = changed[doc["_id"]] = doc
            if not docs and op._upsert:
                doc = _seed(op._filter)
                if kind is ReplaceOne:
                    doc = {**({"_id": doc["_id"]} if "_id" in doc else {}), **_written(op._doc)}
                else:
                    _apply_update(doc, op._doc, True)
                if "_id" not in doc:
                    raise OperationFailure("the embedded view store upserts documents with an _id")
                self._insert(doc, cache, changed)
                counts["upserted_count"] += 1
                counts["upserted_ids"][index] = doc["_id"]
        elif kind in (DeleteOne, DeleteMany):
            for doc in self._find_for_write(op._filter, cache, changed, many=kind is DeleteMany):
                cache[doc["_id"]] = changed[doc["_id"]] = None
                counts["deleted_count"] += 1
        else:
            raise OperationFailure(f"the embedded view store does not support {kind.__name__}")

    def _insert(self, doc, cache, changed):
        key = doc["_id"]
        if not _key(key):
            raise OperationFailure(
                "the embedded view store keys documents by a string or integer _id"
            )
        if key not in cache:
            cache.update(self._load([key]))
        if cache[key] is not None:
            raise DuplicateKeyError(
                f"E11000 duplicate key error collection: {self.name} _id: {key!r}"
            )
        cache[key] = changed[key] = doc

    def insert_one(self, document):
        result = self._bulk([InsertOne(document)])
        return _Result(inserted_id=document["_id"], **result.__dict__)

    def insert_many(self, documents, ordered=True):
        self.bulk_write([InsertOne(d) for d in documents])  # BulkWriteError, as pymongo's
        return _Result(inserted_ids=[d["_id"] for d in documents])

    def update_one(self, filter, update, upsert=False):
        return self._single(UpdateOne(filter, update, upsert=upsert))

    def update_many(self, filter, update, upsert=False):
        return self._single(UpdateMany(filter, update, upsert=upsert))

    def replace_one(self, filter, replacement, upsert=False):
        return self._single(ReplaceOne(filter, replacement, upsert=upsert))

    def _single(self, op):
        result = self._bulk([op])
        return _Result(
            matched_count=result.matched_count,
            modified_count=result.modified_count,
            upserted_id=result.upserted_ids.get(0),
            raw_result={},
        )

    def delete_one(self, filter):
        return _Result(deleted_count=self._bulk([DeleteOne(filter)]).deleted_count)

    def delete_many(self, filter):
        return _Result(deleted_count=self._bulk([DeleteMany(filter)]).deleted_count)

    def find_one_and_update(
        self, filter, update, upsert=False, return_document=False, projection=None, **_
    ):
        with self.client.lock:
            before = self.find_one(filter)
            self.update_one(
                filter if before is None else {"_id": before["_id"]}, update, upsert=upsert
            )
            if return_document:
                key = before["_id"] if before else _seed(filter).get("_id")
                return self.find_one({"_id": key}, projection) if key is not None else None
            return _project(before, projection) if before else None

    def drop(self):
        with self.client.lock:
            self.client.connection.execute(f'DROP TABLE IF EXISTS "{self.table}"')
            self.client.connection.execute("DELETE FROM _kjfp_indexes WHERE tbl=?", (self.table,))
            self.client.forget(self.table)


def _key(value):
    return type(value) in (str, int)


def _index_sql(table, name, keys, indexed, unique):
    columns = ", ".join(
        _expression(field, indexed) + (" DESC" if direction == -1 else "")
        for field, direction in keys
    )
    return f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{table}.{name}" ON "{table}" ({columns})'


def _by_distinct_ids(requests):
    """Whether every request is a ``ReplaceOne`` or ``DeleteOne`` by ``_id`` alone, each of another
    ``_id``: such a batch needs no document read, and no write sees another's."""
    keys = set()
    for op in requests:
        if type(op) not in (ReplaceOne, DeleteOne) or len(op._filter) != 1:
            return False
        key = op._filter.get("_id", _MISSING)
        if not _key(key) or key in keys:
            return False
        keys.add(key)
    return bool(keys)


def _sort_key(doc, sort):
    keys = []
    for field, direction in sort:
        value = _get(doc, field)
        rank = _rank(value)
        plain = (
            value
            if rank in (1, 2)
            else (json.dumps(value, sort_keys=True) if rank in (3, 4) else 0)
        )
        keys.append(_Directed((rank, plain), direction))
    return keys


class _Directed:
    __slots__ = ("key", "direction")

    def __init__(self, key, direction):
        self.key, self.direction = key, direction

    def __lt__(self, other):
        return self.key < other.key if self.direction == 1 else self.key > other.key

    def __eq__(self, other):
        return self.key == other.key


def _sorted(docs, sort):
    return sorted(docs, key=lambda d: _sort_key(d, sort))


def _group(docs, spec):
    groups: dict[Any, Any] = {}
    for doc in docs:
        key = _group_value(doc, spec["_id"])
        marker = json.dumps(key, sort_keys=True)
        group = groups.setdefault(marker, {"_id": key})
        for name, accumulator in spec.items():
            if name == "_id":
                continue
            ((op, expression),) = accumulator.items()
            value = _group_value(doc, expression)
            if op == "$sum":
                value = value if type(value) in (int, float) else 0
                group[name] = group.get(name, 0) + value
            elif op in ("$min", "$max"):
                if value is not None and (
                    name not in group
                    or group[name] is None
                    or (value < group[name] if op == "$min" else value > group[name])
                ):
                    group[name] = value
                group.setdefault(name, None)
            elif op == "$first":
                group.setdefault(name, value)
            elif op == "$last":
                group[name] = value
            else:
                raise OperationFailure(f"the embedded view store does not support {op}")
    return list(groups.values())


def _group_value(doc, expression):
    if type(expression) is str and expression.startswith("$"):
        value = _get(doc, expression[1:])
        return None if value is _MISSING else value
    if type(expression) is dict:
        return {k: _group_value(doc, v) for k, v in expression.items()}
    return expression


class EmbeddedCursor:
    """What ``find`` returns: chain ``sort``, ``skip`` and ``limit``, then iterate."""

    def __init__(self, collection, query, projection, sort, skip, limit):
        self.collection, self.query, self.projection = collection, query or {}, projection
        self._sort = _sort_spec(sort) if sort else None
        self._skip, self._limit = skip, limit

    def sort(self, key, direction=None):
        self._sort = _sort_spec(key if direction is None else [(key, direction)])
        return self

    def skip(self, count):
        self._skip = count
        return self

    def limit(self, count):
        self._limit = count
        return self

    def __iter__(self):
        for doc in self.collection._rows(self.query, self._sort, self._skip, self._limit):
            yield _project(doc, self.projection)

    def to_list(self, length=None):
        return list(self)[:length] if length else list(self)


def _sort_spec(spec):
    if isinstance(spec, str):
        return [(spec, 1)]
    return [
        (field, direction)
        for field, direction in (spec.items() if isinstance(spec, dict) else spec)
    ]
