"""Reads over the registry's views: the 两数 of a unit as of a date (from the aggregates), the
records behind each figure (explain, paged through the membership rows), and register listings.

No read here scans a register: a figure is a sum over one unit key's yearly aggregate documents
(``projection.COUNTS``), an explain page is one indexed range of membership rows plus one read of
the records on it. Both come from the same rows (``services.registry.membership``), so a
figure and its explanation cannot disagree.
"""

import base64
import binascii
import csv
import io
import json

from kernel import dated_sums
from kernel.errors import ValidationFailed
from services.registry import membership
from services.registry.domain import METRICS
from services.registry.projection import (
    ASSOCIATIONS,
    COUNTS,
    EXPERTS,
    FRAME,
    HOUSEHOLDS,
    MEMBERSHIP,
    PERSONS,
    SERVICE_HOURS,
    TARGETS,
    decoded,
    frame_id,
)

MAX_PAGE = 1000


def figures(views, unit, as_of):
    """Every metric of ``unit`` as of ``as_of``, from the dated sums the projection keeps."""
    return dated_sums.read(views, COUNTS, membership.unit_key(unit), as_of, METRICS)


def two_counts(views, unit, as_of):
    counts = figures(views, unit, as_of)
    target_doc = views[TARGETS].find_one({"_id": f"{membership.unit_key(unit)}:{int(as_of[:4])}"})
    targets = {m: (target_doc or {}).get("targets", {}).get(m) for m in METRICS}
    completion = {m: (round(counts[m] / targets[m], 4) if targets[m] else None) for m in METRICS}
    organisations = counts["federations"] + counts["associations"]
    return {
        **counts,
        "targets": targets,
        "completion": completion,
        "definitions": {
            "2017": {
                "organisations": organisations,
                "experts": counts["experts"],
                "households_paired": counts["households_paired"],
                "people_in_paired_households": counts["people_in_paired_households"],
            },
            "2020": {
                "organisations": organisations,
                "experts": counts["experts"],
                "people_lifted": counts["people_lifted"],
            },
        },
    }


# -- explain ------------------------------------------------------------------------------
def encode_cursor(row):
    """The last row of a page as ``next_cursor``: where it began to count, and its record."""
    text = json.dumps([row["from"], row["entity"]], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        began, entity = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        )
        if isinstance(began, str) and isinstance(entity, str):
            return began, entity
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        pass
    raise ValidationFailed(
        "the cursor is not one this API gave", {"cursor": ["not a cursor from next_cursor"]}
    )


def explain(views, unit, metric, as_of, limit=MAX_PAGE, cursor=None):
    """One page of the records (masked) behind a figure, in the order they began to count (then
    by record key): ``total`` is the figure; pass ``next_cursor`` back as ``cursor`` for the next
    page (None: the last)."""
    records, last = _page(
        views, unit, metric, as_of, min(limit, MAX_PAGE), decode_cursor(cursor) if cursor else None
    )
    total = figures(views, unit, as_of)[metric]
    return {
        "unit": unit,
        "metric": metric,
        "as_of": as_of,
        "figure": total,
        "total": total,
        "records": records,
        "next_cursor": encode_cursor(last) if last else None,
    }


def explain_records(views, unit, metric, as_of, page=MAX_PAGE):
    """Every record behind a figure, a page at a time (memory bounded by a page)."""
    after = None
    while True:
        records, last = _page(views, unit, metric, as_of, page, after)
        yield from records
        if last is None:
            return
        after = last["from"], last["entity"]


def _page(views, unit, metric, as_of, limit, after):
    """The records of up to ``limit`` membership rows in force on ``as_of`` after the row
    ``after`` (``(from, entity)``), and the last row if more follow. The rows are read in the
    index's order (key, group, from, entity) from the first that began by ``as_of``: a page
    costs its rows (and the few that had ended by then), never the rows not yet begun."""
    key = membership.unit_key(unit)
    group = membership.METRIC_SOURCE[metric][0]
    in_force = {"key": key, "group": group, "to": {"$gt": as_of}}
    if after is None:
        ranges = [{"from": {"$lte": as_of}}]
    else:  # the rest of the cursor's day, then the days after it
        began, entity = after
        ranges = (
            [{"from": began, "entity": {"$gt": entity}}, {"from": {"$gt": began, "$lte": as_of}}]
            if began <= as_of
            else []
        )
    rows = []
    for dates in ranges:
        found = views[MEMBERSHIP].find({**in_force, **dates}).sort([("from", 1), ("entity", 1)])
        rows += found.limit(limit + 1 - len(rows))
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    records = _RECORDS[group](views, key, as_of, rows) if rows else []  # `$in: []` reads nothing
    return records, (rows[-1] if more else None)


def _organisations(views, key, as_of, rows):
    docs = {
        d["_id"]: d for d in views[ASSOCIATIONS].find({"_id": {"$in": [r["entity"] for r in rows]}})
    }
    return [
        {
            "credit_code": doc["_id"],
            "name": doc["name"],
            "kind": doc["kind"],
            "level": doc["level"],
            "unit": doc["unit"],
            "positions": sorted(doc["positions"]),
        }
        for doc in (docs[r["entity"]] for r in rows)
    ]


def which_experts(views, ids):
    """Those of ``ids`` that are experts' (not households')."""
    return {d["_id"] for d in views[EXPERTS].find({"_id": {"$in": list(ids)}}, {"_id": 1})}


def _experts(views, key, as_of, rows):
    persons = {
        d["_id"]: d["expert_ids"]
        for d in views[PERSONS].find({"_id": {"$in": [r["entity"] for r in rows]}})
    }
    wanted = [i for ids in persons.values() for i in ids]
    experts = {d["_id"]: decoded(d) for d in views[EXPERTS].find({"_id": {"$in": wanted}})}
    records = []
    for row in rows:
        counted = sorted(
            (
                experts[i]
                for i in persons[row["entity"]]
                if key in membership.expert_keys(experts[i], as_of)
            ),
            key=lambda d: d["position"],
        )
        records.append(
            {
                "id_number": counted[0]["id_number_masked"],
                "name": counted[0]["name"],
                "expert_ids": sorted(d["_id"] for d in counted),
                "positions": sorted(p for d in counted for p in d["positions"]),
            }
        )
    return records


def _households(views, key, as_of, rows, lifted=False):
    docs = {
        d["_id"]: decoded(d)
        for d in views[HOUSEHOLDS].find({"_id": {"$in": [r["entity"] for r in rows]}})
    }
    records = []
    for row in rows:
        doc = docs[row["entity"]]
        place = membership.as_of(doc["history"]["locations"], as_of)
        pairings = [
            p["position"]
            for p in membership.active_pairings(doc, as_of)
            if key in membership.unit_keys(p["unit"], place)
        ]
        record = {
            "code": doc["_id"],
            "head_name": doc["head_name"],
            "head_id_number": doc["head_id_number_masked"],
            "location": place,
            "people": membership.as_of(doc["history"]["people"], as_of),
            "positions": sorted(set(doc["positions"]) | set(pairings)),
        }
        if lifted:
            record.update(lifted_on=doc["lifted_on"], lifted_people=doc["lifted_people"])
        records.append(record)
    return records


_RECORDS = {
    "federations": _organisations,
    "associations": _organisations,
    "experts": _experts,
    "households_paired": _households,
    "households_lifted": lambda views, key, as_of, rows: _households(
        views, key, as_of, rows, lifted=True
    ),
}

# A household's columns in a CSV of the records behind a figure.
HOUSEHOLD_COLUMNS = (
    "code",
    "head_name",
    "head_id_number",
    "province",
    "city",
    "county",
    "township",
    "village",
    "people",
)
CSV_COLUMNS = {
    "federations": ("credit_code", "name", "kind", "level", "unit", "positions"),
    "associations": ("credit_code", "name", "kind", "level", "unit", "positions"),
    "experts": ("id_number", "name", "expert_ids", "positions"),
    "households_paired": (*HOUSEHOLD_COLUMNS, "positions"),
    "households_lifted": (*HOUSEHOLD_COLUMNS, "lifted_on", "lifted_people", "positions"),
}


def csv_lines(metric, records):
    """The records behind a figure as CSV text, a line at a time (lists joined by spaces)."""
    columns = CSV_COLUMNS[membership.METRIC_SOURCE[metric][0]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def line(values):
        writer.writerow(values)
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    yield line(columns)
    for record in records:
        flat = {**(record.get("location") or {}), **record}
        yield line(
            [
                " ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                for v in (flat.get(c) for c in columns)
            ]
        )


# -- listings and other figures -----------------------------------------------------------
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
    """Hours and distinct days an expert logged in a year (for awards' eligibility): one
    document the projection keeps per expert and year."""
    doc = views[SERVICE_HOURS].find_one({"_id": f"{expert_id}|{year}"}) or {}
    return {
        "expert_id": expert_id,
        "year": year,
        "hours": doc.get("hours", 0),
        "days": len(doc.get("days", ())),
        "entries": doc.get("entries", 0),
    }


def frame_size(views, province, at_position):
    """How many records had entered a province's spot-check frame by a log position (None: as
    the views stand): its ordinals are 1..n. One indexed read."""
    query = {"province": province}
    if at_position is not None:
        query["registered_position"] = {"$lte": at_position}
    last = list(views[FRAME].find(query).sort("registered_position", -1).limit(1))
    return last[0]["ordinal"] if last else 0


def frame_records(views, province, ordinals, at_position):
    """The records at these ordinals of a province's frame, each with whether it was in force
    at the position (registered by then and not revoked by then; None: as the views stand)."""
    docs = {
        d["ordinal"]: d
        for d in views[FRAME].find({"_id": {"$in": [frame_id(province, n) for n in ordinals]}})
    }
    found = {}
    for n in ordinals:
        doc = docs.get(n)
        if doc is None or (at_position is not None and doc["registered_position"] > at_position):
            continue
        revoked = doc.get("revoked_position")
        found[n] = {
            "record": doc["record"],
            "in_force": revoked is None or (at_position is not None and revoked > at_position),
        }
    return found
