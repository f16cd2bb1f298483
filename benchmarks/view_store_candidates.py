"""Measure embedded view-store candidates with the operations the projections and queries make.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/view_store_candidates.py --n 100000 [--only NAME ...]

Per candidate, into a fresh temporary directory: N households written as ordered ``bulk_write``
batches of 1,000 ``UpdateOne`` upserts by ``_id`` with ``$set`` + ``$addToSet`` (then a second
pass of ``$inc`` deltas), 1,000 finds by ``_id``, a find with equality + range + ``$in`` + sort +
limit on indexed fields, ``find_one``, ``count_documents`` of an indexed equality, and ``drop``.
Each result is checked against what the operators mean (a wrong answer disqualifies), and the
plan of the indexed query is compared with an unindexed scan (does the store use its indexes?).
Candidates that are not installed are skipped. Times are wall-clock seconds (writes: docs/s).
"""

import argparse
import random
import shutil
import sys
import tempfile
import time

from pymongo import ASCENDING, IndexModel, UpdateOne

BATCH = 1000
PROVINCES = [f"P{i:02d}" for i in range(31)]


def _doc(i):
    return {
        "unit": f"province:{PROVINCES[i % 31]}",
        "location": {"province": PROVINCES[i % 31], "city": f"C{i % 300}"},
        "registered_on": f"20{15 + i % 6}-0{1 + i % 9}-01",
        "people": 1 + i % 7,
        "revoked_on": None,
        "position": i,
    }


def candidates(directory):
    def mongomock_():
        import mongomock

        return mongomock.MongoClient()["bench"]

    def neosqlite_():
        import neosqlite

        return neosqlite.Connection(f"{directory}/neo.db")

    def montydb_sqlite():
        from montydb import MontyClient, set_storage

        set_storage(f"{directory}/monty", storage="sqlite")
        return MontyClient(f"{directory}/monty")["bench"]

    def mongita_():
        from mongita import MongitaClientDisk

        return MongitaClientDisk(f"{directory}/mongita")["bench"]

    def kernel_sqlite():
        from kernel.views import EmbeddedClient

        return EmbeddedClient(f"{directory}/views.sqlite3")["bench"]

    return {
        "mongomock": mongomock_,
        "neosqlite": neosqlite_,
        "montydb-sqlite": montydb_sqlite,
        "mongita-disk": mongita_,
        "kernel.views (SQLite)": kernel_sqlite,
    }


def _write(coll, ops, problems):
    """``bulk_write``, or (noted) one ``update_one`` per operation where a store has none."""
    try:
        coll.bulk_write(ops, ordered=True)
    except NotImplementedError:
        if "no bulk_write: update_one each" not in problems:
            problems.append("no bulk_write: update_one each")
        for op in ops:
            coll.update_one(op._filter, op._doc, upsert=op._upsert)


def measure(db, n):
    out, problems = {}, []
    coll = db["households"]
    try:
        coll.create_indexes(
            [
                IndexModel([("unit", ASCENDING), ("registered_on", ASCENDING)]),
                IndexModel([("position", ASCENDING)]),
            ]
        )
    except Exception as refused:  # noqa: BLE001 - a candidate without indexes is still measured
        problems.append(f"create_indexes: {type(refused).__name__}: {refused}"[:120])
    t = time.perf_counter()
    for start in range(0, n, BATCH):
        _write(
            coll,
            [
                UpdateOne(
                    {"_id": f"H{i:08d}"},
                    {"$set": _doc(i), "$addToSet": {"positions": i}},
                    upsert=True,
                )
                for i in range(start, min(n, start + BATCH))
            ],
            problems,
        )
    out["upsert docs/s"] = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for start in range(0, n, BATCH):
        _write(
            coll,
            [
                UpdateOne(
                    {"_id": f"H{i:08d}"},
                    {"$inc": {"people": 1}, "$addToSet": {"positions": i}},
                    upsert=True,
                )
                for i in range(start, min(n, start + BATCH))
            ],
            problems,
        )
    out["$inc docs/s"] = n / (time.perf_counter() - t)
    keys = random.Random(1).sample(range(n), 1000)
    t = time.perf_counter()
    for i in keys:
        doc = coll.find_one({"_id": f"H{i:08d}"})
        if doc is None or doc["people"] != 2 + i % 7 or doc["positions"] != [i]:
            problems.append(f"find by _id H{i:08d}: {doc}"[:150])
            break
    out["find _id ms"] = time.perf_counter() - t  # 1,000 lookups: total s = ms each
    query = {
        "$and": [
            {"unit": "province:P03"},
            {"registered_on": {"$lte": "2018-05-01"}},
            {"location.city": {"$in": ["C3", "C34", "C65"]}},
            {"$or": [{"revoked_on": None}, {"revoked_on": {"$gt": "2018-05-01"}}]},
        ]
    }
    expected = sorted(
        i
        for i in range(n)
        if i % 31 == 3 and _doc(i)["registered_on"] <= "2018-05-01" and i % 300 in (3, 34, 65)
    )[:20]
    t = time.perf_counter()
    got = [d["position"] for d in coll.find(query).sort("position", ASCENDING).limit(20)]
    out["indexed query ms"] = (time.perf_counter() - t) * 1000
    if got != expected:
        problems.append(f"query: got {got[:5]}…, expected {expected[:5]}…")
    t = time.perf_counter()
    count = coll.count_documents({"unit": "province:P05"})
    out["count ms"] = (time.perf_counter() - t) * 1000
    if count != len(range(5, n, 31)):
        problems.append(f"count {count}")
    t = time.perf_counter()
    coll.drop()
    out["drop s"] = time.perf_counter() - t
    return out, problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="kjfp-stores-")
    try:
        for name, make in candidates(directory).items():
            if args.only and name not in args.only:
                continue
            try:
                db = make()
            except ImportError:
                print(f"{name}: not installed")
                continue
            try:
                out, problems = measure(db, args.n)
            except Exception as broke:  # noqa: BLE001 - a benchmark reports and goes on
                print(f"{name}: failed: {type(broke).__name__}: {broke}"[:300])
                continue
            print(
                f"{name} (n={args.n}): "
                + ", ".join(f"{k} {v:,.1f}" for k, v in out.items())
                + (f"; WRONG: {problems}" if problems else "; correct")
            )
            sys.stdout.flush()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
