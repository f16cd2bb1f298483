"""The replay's scratch store (plain dicts) against mongomock, the store the embedded mode uses:
the projections' one kind of write gives the same documents in both; any other write is refused
rather than applied wrongly. (Against MongoDB over the wire: the replay tests.)"""
import mongomock
import pytest
from pymongo import InsertOne, UpdateMany, UpdateOne

from kjfp.audit.scratch import ScratchViews

WRITES = [
    UpdateOne({"_id": "h1"}, {"$set": {"people": 4, "kinds": ["a"]}, "$addToSet": {"positions": 1}}, upsert=True),
    UpdateOne({"_id": "h1"}, {"$set": {"people": 3}, "$addToSet": {"positions": 1}}, upsert=True),  # a redelivery
    UpdateOne({"_id": "h1"}, {"$addToSet": {"positions": 7, "kinds": "b"}}, upsert=True),
    UpdateOne({"_id": "h2"}, {"$addToSet": {"levels": "county"}}, upsert=True),
    UpdateOne({"_id": "h2"}, {"$addToSet": {"levels": "city"}}, upsert=True),
]


def test_the_projections_writes_give_the_documents_mongomock_gives():
    scratch, reference = ScratchViews(), mongomock.MongoClient()["reference"]
    scratch["households"].bulk_write(WRITES)
    reference["households"].bulk_write(WRITES)
    assert scratch["households"].find() == list(reference["households"].find())
    assert WRITES[0]._doc["$set"]["kinds"] == ["a"]  # the event's own list is not appended to
    assert scratch["households"].find_one({"people": 3})["_id"] == "h1"
    assert list(scratch.queryable()["households"].find({"levels": "city"})) == [
        {"_id": "h2", "levels": ["county", "city"]}]


def test_an_insert_claims_an_id_once():
    """Issue 14: the dated sums' journal is claimed by an insert (kernel.dated_sums.apply_once)."""
    households = ScratchViews()["households"]
    households.bulk_write([InsertOne({"_id": "h3", "people": 1})])
    assert households.find({"_id": "h3"}) == [{"_id": "h3", "people": 1}]
    with pytest.raises(TypeError, match="the scratch store"):
        households.bulk_write([InsertOne({"_id": "h3"})])


@pytest.mark.parametrize("write", [
    UpdateOne({"code": "h3"}, {"$set": {"people": 1}}, upsert=True),
    UpdateOne({"_id": "h3"}, {"$inc": {"people": 1}}, upsert=True),
    UpdateOne({"_id": "h3"}, {"$set": {"people": 1}}),
    UpdateOne({"_id": "h3"}, {"$addToSet": {"levels": {"$each": ["county", "city"]}}}, upsert=True),
    UpdateMany({"_id": "h3"}, {"$set": {"people": 1}}, upsert=True),
])
def test_any_other_write_is_refused(write):
    with pytest.raises(TypeError, match="the scratch store"):
        ScratchViews()["households"].bulk_write([write])
