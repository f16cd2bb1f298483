"""Reads over the supervision views: rectification tracking as of a date, and its summaries.

An item's status as of a date is that of its latest move effective by then; it is overdue when
that status is not ``verified`` and the date is past its deadline. ``open`` in a filter or a
summary means every item not yet verified (whatever stage it is at).
"""

from kernel.places import Unit
from kernel.views import all_of, latest_by
from services.supervision.projection import CAMPAIGNS, MOVES, RECTIFICATIONS

STAGES = ("open", "in_progress", "submitted", "reopened", "verified")
FILTERS = ("open", "overdue", "verified", "in_progress", "submitted", "reopened")


def _unit_clause(unit):
    """Items of the unit and of every unit inside it."""
    if unit is None or unit == "national":
        return {}
    unit = Unit.parse(unit)
    if unit.kind == "society":
        return {"unit": str(unit)}
    return {f"{unit.kind}_unit": str(unit)}


def items_as_of(views, as_of, unit=None, campaign=None):
    """Every item required by ``as_of`` inside ``unit`` (and ``campaign``), with its status and
    overdue flag as of that date, in log order."""
    items = list(
        views[RECTIFICATIONS].find(
            all_of(
                _unit_clause(unit),
                {"campaign_id": campaign} if campaign else {},
                {"required_on": {"$lte": as_of}},
            )
        )
    )
    if not items:
        return []
    latest = latest_by(views[MOVES], "item_id", [i["_id"] for i in items], as_of)
    result = []
    for item in sorted(items, key=lambda i: i["position"]):
        move = latest[item["_id"]]
        status = move["status"]
        result.append(
            {
                **item,
                "status": status,
                "status_since": move["on"],
                "overdue": status != "verified" and as_of > item["due"],
            }
        )
    return result


def _matches(item, status):
    if status is None:
        return True
    if status == "open":
        return item["status"] != "verified"
    if status == "overdue":
        return item["overdue"]
    return item["status"] == status


def rectifications(views, as_of, unit=None, campaign=None, status=None, after=0, limit=100):
    """One page of the tracking view (newest last); the cursor is a log position."""
    selected = [
        i
        for i in items_as_of(views, as_of, unit, campaign)
        if _matches(i, status) and i["position"] > after
    ]
    page = selected[:limit]
    return page, (page[-1]["position"] if len(selected) > limit else None)


def _tally(items):
    counts = {stage: 0 for stage in STAGES}
    for item in items:
        counts[item["status"]] += 1
    return {
        "total": len(items),
        "open": len(items) - counts["verified"],
        "overdue": sum(1 for i in items if i["overdue"]),
        "verified": counts["verified"],
        "by_status": counts,
    }


def summary(views, as_of, unit=None, campaign=None):
    """Open, overdue and verified items of a unit (its sub-units included), in all and per unit."""
    items = items_as_of(views, as_of, unit, campaign)
    per_unit = {}
    for item in items:
        per_unit.setdefault(item["unit"], []).append(item)
    return {
        "unit": unit or "national",
        "campaign": campaign,
        "as_of": as_of,
        **_tally(items),
        "units": [{"unit": name, **_tally(group)} for name, group in sorted(per_unit.items())],
    }


def campaigns(views, year=None, after=0, limit=100):
    """A page of the campaigns in the order they were launched (after log position ``after``),
    of one year or all; the last position if more follow."""
    query = {"position": {"$gt": after}}
    if year is not None:
        query["year"] = year
    docs = list(views[CAMPAIGNS].find(query).sort("position", 1).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (docs[-1]["position"] if more else None)
