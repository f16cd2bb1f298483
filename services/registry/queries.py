"""Reads over the registry's views: the 两数 for a unit as of a date, and register listings."""
from kernel.auth import parse_unit
from services.registry.projection import EXPERTS, HOUSEHOLDS, PAIRINGS

METRICS = ("federations", "associations", "experts", "households_paired",
           "people_in_paired_households", "households_lifted", "people_lifted")


def _credit_and_place(unit):
    """Which affiliation a unit's figures are credited to, and which place narrows them.

    Provinces and societies are credited directly; a city or county is its province's
    figures narrowed to records located there (the drill-down)."""
    kind, parts = parse_unit(unit)
    if kind == "national":
        return {}, {}
    if kind in ("province", "society"):
        return {"unit": unit}, {}
    place = {"location.city": parts[1]}
    if kind == "county":
        place["location.county"] = parts[2]
    return {"unit": f"province:{parts[0]}"}, place


def _in_force(as_of, since_field):
    return {since_field: {"$lte": as_of},
            "$or": [{"revoked_on": None}, {"revoked_on": {"$gt": as_of}}]}


def two_counts(views, unit, as_of):
    credit, place = _credit_and_place(unit)
    expert_ids = {doc["id_hash"] for doc in views[EXPERTS].find(
        {**credit, **place, **_in_force(as_of, "registered_on")}, {"id_hash": 1})}
    paired_codes = {doc["code"] for doc in views[PAIRINGS].find(
        {**credit, "since": {"$lte": as_of}}, {"code": 1})}
    households = list(views[HOUSEHOLDS].find(
        {"_id": {"$in": sorted(paired_codes)}, **place, **_in_force(as_of, "registered_on")},
        {"people": 1}))
    return {
        "experts": len(expert_ids),
        "households_paired": len(households),
        "people_in_paired_households": sum(doc["people"] for doc in households),
    }


def list_experts(views, unit=None, specialty=None, after=0, limit=50):
    query = {"position": {"$gt": after}}
    if unit:
        query["unit"] = unit
    if specialty:
        query["specialty"] = specialty
    docs = list(views[EXPERTS].find(query).sort("position", 1).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (docs[-1]["position"] if more else None)
