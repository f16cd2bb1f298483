"""The embedded view store (kernel.views, SQLite) answers like MongoDB for the pymongo subset the
projections and queries use: each behaviour runs on the embedded store and on the MongoDB
reached over the wire through real pymongo (the nx-27017 stand-in, or ``MONGO_URI``). Issue 14:
a persistent, indexed store behind the pymongo API."""

import os
from pathlib import Path

import pytest
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.errors import DuplicateKeyError

from kernel import views
from kernel.views import EmbeddedClient, all_of


@pytest.fixture(params=["embedded", "mongodb"])
def db(request, tmp_path):
    if request.param == "embedded":
        client = EmbeddedClient(tmp_path / "views.sqlite3")
        yield client["views"]
        client.close()
    else:
        yield request.getfixturevalue("mongo_db")


HOUSEHOLDS = [
    {
        "_id": "h1",
        "unit": "province:山东",
        "on": "2019-01-01",
        "people": 3,
        "revoked_on": None,
        "location": {"city": "临沂", "county": "沂南"},
    },
    {
        "_id": "h2",
        "unit": "province:山东",
        "on": "2020-06-01",
        "people": 5,
        "revoked_on": "2021-01-01",
        "location": {"city": "济南", "county": "历下"},
    },
    {
        "_id": "h3",
        "unit": "province:山西",
        "on": "2018-03-01",
        "people": 2,
        "revoked_on": None,
        "location": {"city": "吕梁", "county": "岚县"},
    },
    {
        "_id": "h4",
        "unit": "province:山东",
        "on": "2017-01-01",
        "people": 4,
        "location": {"city": "临沂", "county": "兰陵"},
    },  # no revoked_on at all: matches null
]


def _load(db, indexed=True):
    coll = db["households"]
    if indexed:
        coll.create_indexes(
            [
                IndexModel([("unit", ASCENDING), ("on", ASCENDING)]),
                IndexModel([("location.city", ASCENDING)]),
                IndexModel([("people", DESCENDING)]),
            ]
        )
    coll.bulk_write(
        [
            UpdateOne(
                {"_id": d["_id"]}, {"$set": {k: v for k, v in d.items() if k != "_id"}}, upsert=True
            )
            for d in HOUSEHOLDS
        ]
    )
    return coll


def _ids(cursor):
    return [d["_id"] for d in cursor]


@pytest.mark.parametrize("indexed", [True, False])
def test_queries_answer_alike_with_or_without_indexes(db, indexed):
    coll = _load(db, indexed)
    in_force = {"$or": [{"revoked_on": None}, {"revoked_on": {"$gt": "2020-12-31"}}]}
    shandong = all_of({"unit": "province:山东"}, {"on": {"$lte": "2020-12-31"}}, in_force)
    assert sorted(_ids(coll.find(shandong))) == ["h1", "h2", "h4"]
    in_cities = {"location.city": {"$in": ["临沂", "吕梁"]}}
    assert _ids(coll.find(in_cities).sort("people", ASCENDING)) == ["h3", "h1", "h4"]
    assert _ids(coll.find({"unit": "province:山东"}).sort("on", DESCENDING).limit(2)) == [
        "h2",
        "h1",
    ]
    assert _ids(coll.find({"revoked_on": None}).sort("_id", ASCENDING).skip(1)) == ["h3", "h4"]
    assert _ids(coll.find({"_id": {"$in": ["h2", "h9"]}})) == ["h2"]
    assert (
        _ids(coll.find({"_id": {"$in": []}})) == []
        and _ids(coll.find({"location.city": {"$in": []}})) == []
    )
    assert coll.count_documents({"unit": "province:山东"}) == 3
    assert coll.count_documents({"people": {"$gte": 4}}) == 2
    assert coll.count_documents({"unit": "province:北京"}) == 0
    assert coll.find_one({"_id": "h3"}, {"people": 1}) == {"_id": "h3", "people": 2}
    assert coll.find_one({"_id": "nope"}) is None
    assert _ids(coll.find({"unit": "province:山东", "people": {"$ne": 3}}).sort("_id", 1)) == [
        "h2",
        "h4",
    ]


def test_upserts_set_add_to_set_and_inc_like_mongodb(db):
    coll = db["counts"]
    ops = [
        UpdateOne(
            {"_id": "a"},
            {"$set": {"unit": "national"}, "$addToSet": {"positions": 1}, "$inc": {"people": 3}},
            upsert=True,
        ),
        UpdateOne(
            {"_id": "a"}, {"$addToSet": {"positions": 1}, "$inc": {"people": -1}}, upsert=True
        ),
        UpdateOne({"_id": "a"}, {"$addToSet": {"positions": {"$each": [2, 1, 3]}}}, upsert=True),
        UpdateOne({"_id": "b", "kind": "x"}, {"$set": {"n": 1}}, upsert=True),
        UpdateOne({"_id": "c"}, {"$set": {"n": 1}}),
    ]  # no upsert: nothing
    coll.bulk_write(ops, ordered=True)
    assert coll.find_one({"_id": "a"}) == {
        "_id": "a",
        "unit": "national",
        "positions": [1, 2, 3],
        "people": 2,
    }
    assert coll.find_one({"_id": "b"}) == {"_id": "b", "kind": "x", "n": 1}
    assert coll.find_one({"_id": "c"}) is None
    assert coll.find_one({"positions": 2})["_id"] == "a"  # an array field matches a member
    # The tracking write's shape: a conditional upsert that collides when the stored position is ahead.
    coll.update_one({"_id": "t"}, {"$set": {"position": 5}}, upsert=True)
    with pytest.raises(DuplicateKeyError):
        coll.update_one(
            {"_id": "t", "position": {"$lt": 3}}, {"$set": {"position": 3}}, upsert=True
        )
    assert (
        coll.update_one(
            {"_id": "t", "position": {"$lt": 9}}, {"$set": {"position": 9}}
        ).matched_count
        == 1
    )
    coll.drop()
    assert coll.count_documents({}) == 0 and coll.find_one({}) is None


def test_a_group_sums_an_indexed_range(db):
    coll = _load(db)
    rows = list(
        coll.aggregate(
            [
                {"$match": {"unit": "province:山东", "on": {"$lte": "2019-12-31"}}},
                {"$group": {"_id": None, "people": {"$sum": "$people"}, "n": {"$sum": 1}}},
            ]
        )
    )
    assert [(r["people"], r["n"]) for r in rows] == [(7, 2)]


def test_an_integer_beyond_64_bits_is_refused_as_bson_refuses_it(db):
    """Issue 13 item 2: the embedded store breaks where MongoDB breaks, so the embedded mode
    shows the stopped projection the distributed one would."""
    coll = db["targets"]
    with pytest.raises(OverflowError):
        coll.bulk_write(
            [UpdateOne({"_id": "t"}, {"$set": {"targets": {"households": 2**63}}}, upsert=True)]
        )
    assert coll.find_one({"_id": "t"}) is None
    from pymongo import ReplaceOne  # the projections' absolute writes, serialised without a copy

    with pytest.raises(OverflowError):
        coll.bulk_write(
            [ReplaceOne({"_id": "t"}, {"_id": "t", "targets": {"households": 2**63}}, upsert=True)]
        )
    assert coll.find_one({"_id": "t"}) is None
    coll.bulk_write(
        [ReplaceOne({"_id": "t"}, {"_id": "t", "targets": {"households": 2**60}}, upsert=True)]
    )
    assert coll.find_one({"_id": "t"})["targets"]["households"] == 2**60


def test_the_embedded_store_persists_and_uses_its_indexes(tmp_path):
    client = EmbeddedClient(tmp_path / "views.sqlite3")
    _load(client["views"])
    client.close()
    again = EmbeddedClient(tmp_path / "views.sqlite3")
    coll = again["views"]["households"]
    assert coll.count_documents({}) == 4
    assert set(coll.index_information()) >= {"_id_", "unit_1_on_1", "location.city_1"}
    plan = again.connection.execute(
        'EXPLAIN QUERY PLAN SELECT doc FROM "views.households" WHERE "k:unit" = ?',
        ("province:山东",),
    ).fetchall()
    assert "unit_1_on_1" in str(plan)
    with pytest.raises(Exception, match="indexes scalars"):
        coll.update_one({"_id": "h1"}, {"$set": {"location": {"city": ["临沂"]}}})
    assert coll.find_one({"_id": "h1"})["location"]["city"] == "临沂"  # all or nothing


def test_one_process_serves_a_data_directory(tmp_path):
    import subprocess
    import sys

    from kernel.config import Settings

    views.hold_data_dir(Settings(data_dir=tmp_path))
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from kernel import views, config; "
            f"views.hold_data_dir(config.Settings(data_dir={str(tmp_path)!r}))",
        ],
        capture_output=True,
        text=True,
    )
    assert other.returncode != 0 and "another process serves the views" in other.stderr


def test_an_insert_claims_an_id_once(db):
    """Issue 14: the dated sums' journal is claimed by an insert (kernel.dated_sums.apply_once);
    a second claim fails as pymongo says it does, in a bulk write and alone."""
    from pymongo import InsertOne
    from pymongo.errors import BulkWriteError

    journal = db["journal"]
    journal.bulk_write([InsertOne({"_id": "pending", "nonce": "a"})])
    with pytest.raises(BulkWriteError):
        journal.bulk_write([InsertOne({"_id": "pending", "nonce": "b"})])
    with pytest.raises(DuplicateKeyError):
        journal.insert_one({"_id": "pending", "nonce": "c"})
    assert journal.find_one({"_id": "pending"})["nonce"] == "a"


def test_indexed_fields_absent_null_nested_or_mixed_answer_as_on_mongodb(db):
    """The embedded store keeps each indexed field in a column of its own: a field that is
    absent, null, nested, a number or a string there answers every query as MongoDB does."""
    coll = db["units"]
    coll.create_indexes(
        [
            IndexModel([("place.county", ASCENDING), ("n", ASCENDING)]),
            IndexModel([("flag", ASCENDING)]),
        ]
    )
    coll.bulk_write(
        [
            UpdateOne({"_id": k}, {"$set": d}, upsert=True)
            for k, d in [
                ("a", {"place": {"county": "沂南"}, "n": 1, "flag": True}),
                ("b", {"place": {"county": None}, "n": 2.5}),
                ("c", {"place": {}, "n": "2"}),
                ("d", {"n": 3, "flag": False}),
                ("e", {"place": {"county": "沂南"}, "n": None}),
            ]
        ]
    )
    assert sorted(_ids(coll.find({"place.county": None}))) == ["b", "c", "d"]
    assert sorted(_ids(coll.find({"place.county": "沂南"}))) == ["a", "e"]
    assert _ids(coll.find({"place.county": "沂南", "n": {"$gte": 1}})) == ["a"]
    assert _ids(coll.find({"n": 2.5})) == ["b"] and _ids(coll.find({"n": "2"})) == ["c"]
    assert _ids(coll.find({"n": {"$gte": 2.5, "$lt": 4}}).sort("n", ASCENDING)) == ["b", "d"]
    assert coll.count_documents({"flag": True}) == 1 and coll.count_documents({"flag": None}) == 3
    assert _ids(
        coll.find({"place.county": {"$in": ["沂南", None]}}).sort("_id", DESCENDING).limit(2)
    ) == ["e", "d"]
    coll.replace_one(
        {"_id": "e"}, {"place": {"county": "兰陵"}, "n": 4}
    )  # a replace moves it in the index
    assert (
        _ids(coll.find({"place.county": "兰陵"})) == ["e"]
        and coll.count_documents({"place.county": "沂南"}) == 1
    )


def test_a_store_written_before_indexed_columns_is_upgraded_on_open(tmp_path):
    """A views file from before (indexes over json_extract) answers through columns once
    opened, without a rebuild."""
    import json
    import sqlite3

    path = tmp_path / "views.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE _kjfp_indexes (tbl TEXT, name TEXT, keys TEXT, is_unique INT, PRIMARY KEY (tbl, name));
        CREATE TABLE "views.households" (id PRIMARY KEY, doc TEXT NOT NULL);
        CREATE INDEX "views.households.unit_1_on_1" ON "views.households"
            (json_extract(doc, '$."unit"'), json_extract(doc, '$."on"'));""")
    old.execute(
        "INSERT INTO _kjfp_indexes VALUES (?, ?, ?, 0)",
        ("views.households", "unit_1_on_1", json.dumps([["unit", 1], ["on", 1]])),
    )
    old.executemany(
        'INSERT INTO "views.households" VALUES (?, ?)',
        [(d["_id"], json.dumps(d)) for d in HOUSEHOLDS],
    )
    old.commit()
    old.close()
    client = EmbeddedClient(path)
    coll = client["views"]["households"]
    assert sorted(_ids(coll.find({"unit": "province:山东", "on": {"$lte": "2019-12-31"}}))) == [
        "h1",
        "h4",
    ]
    plan = str(
        client.connection.execute(
            'EXPLAIN QUERY PLAN SELECT doc FROM "views.households" WHERE "k:unit" = ?',
            ("province:山东",),
        ).fetchall()
    )
    assert "unit_1_on_1" in plan
    coll.update_one({"_id": "h3"}, {"$set": {"unit": "province:山东"}})
    assert coll.count_documents({"unit": "province:山东"}) == 4
    client.close()


def test_a_build_creates_its_indexes_at_the_end_or_when_a_query_needs_them(tmp_path, monkeypatch):
    """Views built from scratch (kernel.views.building): their non-unique indexes are made when
    the build ends, or as soon as a query goes through one (a build reading its own views);
    queries answer alike all along. What the build wrote without syncing is on the disk when it
    ends: the WAL copied into the database file, and that file synced."""
    path = tmp_path / "views.sqlite3"
    synced: list = []
    monkeypatch.setattr(
        views.os,
        "fsync",
        lambda descriptor: synced.append(os.readlink(f"/proc/self/fd/{descriptor}")),
    )
    client = EmbeddedClient(path)
    db = client["views"]
    secure_delete = client.connection.execute("PRAGMA secure_delete").fetchone()[0]

    def indexes():
        return {
            name
            for (name,) in client.connection.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND name NOT LIKE 'sqlite_%'"
            )
        }

    with views.building(db):
        coll = _load(db)
        counts = db["counts"]
        counts.create_indexes([IndexModel([("key", ASCENDING), ("year", ASCENDING)])])
        counts.bulk_write(
            [
                UpdateOne(
                    {"_id": "national|2020"},
                    {"$set": {"key": "national", "year": 2020}},
                    upsert=True,
                )
            ]
        )
        assert indexes() == set()
        assert counts.find_one({"_id": "national|2020"})["year"] == 2020  # by _id: still deferred
        assert indexes() == set()
        assert sorted(_ids(coll.find({"unit": "province:山东", "on": {"$lte": "2019-12-31"}}))) == [
            "h1",
            "h4",
        ]
        assert indexes() == {
            "views.households.unit_1_on_1",
            "views.households.location.city_1",
            "views.households.people_-1",
        }
        assert client.connection.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
        assert client.connection.execute("PRAGMA secure_delete").fetchone()[0] == 2  # FAST
    assert "views.counts.key_1_year_1" in indexes()
    assert client.connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again
    assert client.connection.execute("PRAGMA secure_delete").fetchone()[0] == secure_delete
    assert counts.count_documents({"key": "national", "year": {"$gte": 2020}}) == 1
    assert synced == [str(path)]
    assert Path(f"{path}-wal").stat().st_size == 0
    client.close()


def test_an_index_dropped_and_made_again_answers_from_the_documents_as_they_are_now(db):
    coll = _load(db)
    coll.drop_indexes()
    coll.update_one({"_id": "h3"}, {"$set": {"unit": "province:山东"}})  # while not indexed
    coll.create_indexes([IndexModel([("unit", ASCENDING), ("on", ASCENDING)])])
    assert sorted(_ids(coll.find({"unit": "province:山东"}))) == ["h1", "h2", "h3", "h4"]
    assert coll.count_documents({"unit": "province:山西"}) == 0


def test_absolute_writes_insert_replace_and_delete_by_id(db):
    """A projection's absolute writes (``kernel.views.write_absolute``: the embedded store's
    ``replace_documents``, a bulk of upserting ReplaceOne/DeleteOne on MongoDB) leave the same
    documents: new ones inserted, present ones replaced whole, deletions of absent ones ignored,
    indexed fields queryable as written."""
    coll = db["households"]
    coll.create_indexes([IndexModel([("unit", ASCENDING), ("people", ASCENDING)])])
    coll.insert_many([dict(doc) for doc in HOUSEHOLDS[:2]])
    views.write_absolute(
        coll,
        {
            "h1": {"unit": "province:山西", "people": 7},  # replaced whole: its other fields go
            "h2": None,  # deleted
            "h9": None,  # absent: nothing to delete
            "h5": {"_id": "h5", "unit": "province:山东", "people": 1},
        },
    )
    assert sorted(coll.find({}), key=lambda d: d["_id"]) == [
        {"_id": "h1", "unit": "province:山西", "people": 7},
        {"_id": "h5", "unit": "province:山东", "people": 1},
    ]
    assert [d["_id"] for d in coll.find({"unit": "province:山西", "people": {"$gte": 7}})] == ["h1"]
