"""Reads over the registry's views: the 两数 of a unit as of a date, the records behind each
figure (explain), and register listings.

``members`` selects, for every metric, exactly the records that make up the figure; the figures
are their counts (or people sums), so a figure and its explanation cannot disagree.
"""
from kernel.places import Unit
from kernel.views import all_of
from services.registry.domain import METRICS
from services.registry.projection import (
    ASSOCIATIONS, EXPERTS, HOUSEHOLDS, PAIRINGS, PEOPLE, SERVICE_LOGS, TARGETS)

PEOPLE_METRICS = {"people_in_paired_households": "people", "people_lifted": "lifted_people"}
RECORDS_OF = {"people_in_paired_households": "households_paired", "people_lifted": "households_lifted"}


def _credit_and_place(unit):
    """Which affiliation a unit's figures are credited to, and which place narrows them.

    Provinces and societies are credited directly; a city or county is its province's figures
    narrowed to records located there (the drill-down); ``national`` is everything."""
    unit = Unit.parse(unit)
    if unit.kind == "national":
        return {}, {}
    if unit.kind in ("province", "society"):
        return {"unit": str(unit)}, {}
    place = {"location.city": unit.path[1]}
    if unit.kind == "county":
        place["location.county"] = unit.path[2]
    return {"unit": str(unit.lineage[1])}, place


def _in_force(as_of):
    return {"$and": [{"registered_on": {"$lte": as_of}},
                     {"$or": [{"revoked_on": None}, {"revoked_on": {"$gt": as_of}}]}]}


def _people_as_of(views, codes, as_of):
    """Each household's people as of the date (its latest correction effective by then)."""
    latest = {}
    for doc in views[PEOPLE].find(all_of({"code": {"$in": codes}}, {"since": {"$lte": as_of}})):
        key = (doc["since"], doc["position"])
        if doc["code"] not in latest or key > latest[doc["code"]][0]:
            latest[doc["code"]] = (key, doc["people"], doc["position"])
    return latest


def members(views, unit, as_of):
    """For each metric, the records (masked) that make up the figure, with their log positions."""
    credit, place = _credit_and_place(unit)
    result = {}

    organisations = views[ASSOCIATIONS].find(all_of(credit, place, _in_force(as_of)))
    result["federations"], result["associations"] = [], []
    for doc in sorted(organisations, key=lambda d: d["_id"]):
        result["federations" if doc["kind"] == "federation" else "associations"].append({
            "credit_code": doc["_id"], "name": doc["name"], "kind": doc["kind"], "level": doc["level"],
            "unit": doc["unit"], "positions": sorted(doc["positions"])})

    persons = {}
    for doc in views[EXPERTS].find(all_of(credit, place, _in_force(as_of))):
        person = persons.setdefault(doc["id_hash"], {
            "id_number": doc["id_number_masked"], "name": doc["name"], "expert_ids": [], "positions": []})
        person["expert_ids"].append(doc["_id"])
        person["positions"].extend(doc["positions"])
    result["experts"] = sorted(
        ({**p, "expert_ids": sorted(p["expert_ids"]), "positions": sorted(p["positions"])} for p in persons.values()),
        key=lambda p: p["positions"][0])

    # Pairings count while their expert's registration is in force (any place: the household's
    # place narrows the drill-down, not the expert's).
    experts_in_force = {doc["_id"] for doc in views[EXPERTS].find(all_of(credit, _in_force(as_of)), {"_id": 1})}
    pairing_positions = {}
    for doc in views[PAIRINGS].find(all_of(credit, {"since": {"$lte": as_of}})):
        if doc["expert_id"] in experts_in_force:
            pairing_positions.setdefault(doc["code"], []).append(doc["position"])
    codes = sorted(pairing_positions)
    households = list(views[HOUSEHOLDS].find(all_of({"_id": {"$in": codes}}, place, _in_force(as_of))))
    people = _people_as_of(views, [doc["_id"] for doc in households], as_of)
    result["households_paired"], result["households_lifted"] = [], []
    for doc in sorted(households, key=lambda d: d["_id"]):
        code = doc["_id"]
        record = {"code": code, "head_name": doc["head_name"], "head_id_number": doc["head_id_number_masked"],
                  "location": doc["location"], "people": people[code][1],
                  "positions": sorted(set(doc["positions"]) | set(pairing_positions[code]))}
        result["households_paired"].append(record)
        if doc.get("lifted_on") and doc["lifted_on"] <= as_of:
            result["households_lifted"].append({**record, "lifted_on": doc["lifted_on"],
                                                "lifted_people": doc["lifted_people"]})
    return result


def figure(metric, records):
    if metric in PEOPLE_METRICS:
        return sum(r[PEOPLE_METRICS[metric]] for r in records)
    return len(records)


def two_counts(views, unit, as_of):
    selected = members(views, unit, as_of)
    figures = {metric: figure(metric, selected[RECORDS_OF.get(metric, metric)]) for metric in METRICS}
    target_doc = views[TARGETS].find_one({"_id": f"{unit}:{int(as_of[:4])}"})
    targets = {m: (target_doc or {}).get("targets", {}).get(m) for m in METRICS}
    completion = {m: (round(figures[m] / targets[m], 4) if targets[m] else None) for m in METRICS}
    organisations = figures["federations"] + figures["associations"]
    return {
        **figures,
        "targets": targets,
        "completion": completion,
        "definitions": {
            "2017": {"organisations": organisations, "experts": figures["experts"],
                     "households_paired": figures["households_paired"],
                     "people_in_paired_households": figures["people_in_paired_households"]},
            "2020": {"organisations": organisations, "experts": figures["experts"],
                     "people_lifted": figures["people_lifted"]},
        },
    }


def explain(views, unit, metric, as_of):
    records = members(views, unit, as_of)[RECORDS_OF.get(metric, metric)]
    return {"unit": unit, "metric": metric, "as_of": as_of, "figure": figure(metric, records),
            "records": records}


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


def service_hours(views, expert_id, year):
    """Hours and distinct days an expert logged in a year (for awards' eligibility)."""
    logs = list(views[SERVICE_LOGS].find({"expert_id": expert_id, "year": year}, {"hours": 1, "date": 1}))
    return {"expert_id": expert_id, "year": year, "hours": sum(d["hours"] for d in logs),
            "days": len({d["date"] for d in logs}), "entries": len(logs)}


def register_frame(views, province, at_position):
    """The keys of a province's records in force at a log position (registered by then and not
    revoked by then; None: now), sorted: the population a spot check (抽查) draws its sample from. The
    revocation is checked here rather than with ``$or`` in the query: the MongoDB stand-in
    answers an ``$or`` holding a null match with nothing."""
    def keys(kind, collection, *clauses, registered="registered_position"):
        by_then = {registered: {"$lte": at_position}} if at_position is not None else {}
        docs = views[collection].find(all_of(*clauses, by_then), {"_id": 1, "revoked_position": 1})
        return [f"{kind}:{d['_id']}" for d in docs if d.get("revoked_position") is None
                or (at_position is not None and d["revoked_position"] > at_position)]

    unit = f"province:{province}"
    return sorted(keys("expert", EXPERTS, {"unit": unit}, registered="position")
                  + keys("association", ASSOCIATIONS, {"unit": unit})
                  + keys("household", HOUSEHOLDS, {"location.province": province}))
