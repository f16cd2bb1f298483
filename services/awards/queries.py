"""Reads over the awards views: a round's nominations as of a date, commended lists.

A nomination's status as of a date is that of its latest history entry effective by then
(ties broken by log position), so a revoked award still shows as conferred on the days before
its revocation.
"""

from kernel.views import all_of, latest_by
from services.awards.projection import COMMENDATIONS, HISTORY, NOMINATIONS, OBJECTIONS


def nominations(views, round_id, as_of, unit=None, category=None, status=None):
    """The round's nominations submitted by ``as_of`` (in log order), each with its status then."""
    docs = list(
        views[NOMINATIONS].find(
            all_of(
                {"round_id": round_id},
                {"unit": unit} if unit else {},
                {"category": category} if category else {},
                {"submitted_on": {"$lte": as_of}},
            )
        )
    )
    if not docs:
        return []
    latest = latest_by(views[HISTORY], "nomination_id", [d["_id"] for d in docs], as_of)
    objections = {}
    for objection in views[OBJECTIONS].find(
        all_of({"nomination_id": {"$in": [d["_id"] for d in docs]}}, {"raised_on": {"$lte": as_of}})
    ):
        objections.setdefault(objection["nomination_id"], []).append(objection)
    result = []
    for doc in sorted(docs, key=lambda d: d["position"]):
        entry = latest[doc["_id"]]
        if status and entry["status"] != status:
            continue
        result.append(
            {
                **doc,
                "status": entry["status"],
                "status_since": entry["on"],
                "objections": sorted(objections.get(doc["_id"], []), key=lambda o: o["position"]),
            }
        )
    return result


def commendations(views, year=None, unit=None, category=None, as_of=None):
    """Commended nominees (past lists and conferred awards), in force as of ``as_of`` when given."""
    docs = views[COMMENDATIONS].find(
        all_of(
            {"year": year} if year is not None else {},
            {"unit": unit} if unit else {},
            {"category": category} if category else {},
        )
    )
    result = []
    for doc in sorted(docs, key=lambda d: d["position"]):
        revoked = doc.get("revoked_on")
        if as_of is not None and (doc["recorded_on"] > as_of or (revoked and revoked <= as_of)):
            continue
        result.append(doc)
    return result
