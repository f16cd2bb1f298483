"""Reads over the funding views: the summary that feeds item 11 of the statistics table, and a
project with its history and its payments (each traced to the events it rests on).

Filters are plain equalities on ASCII fields; anything finer is done here in Python, so the
same reads run on MongoDB, on its wire-protocol stand-in and on mongomock.
"""
from kernel.places import PlaceError, Unit
from kernel.errors import ValidationFailed
from services.funding.projection import DISBURSEMENTS, HISTORY, PLACES, PROGRAMMES, PROJECTS, QUOTAS

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen


def where(unit):
    """Documents of ``unit``: a province, city or county is everything located inside it; a
    national society is the projects credited to it; ``national`` is everything."""
    try:
        unit = Unit.parse(unit)
    except PlaceError as bad:
        raise ValidationFailed(str(bad), bad.details)
    if unit.kind == "national":
        return {}
    if unit.kind == "society":
        return {"unit": str(unit)}
    return dict(zip(("province", "city", "county"), unit.path))


def _by(as_of, day):
    return day is not None and (as_of is None or day <= as_of)


def summary(views, unit, year=None, as_of=None):
    """Approved projects, money paid (fen and 万元) and quota places of ``unit``.

    ``year`` (None: all) selects projects by their implementation years, payments by the year
    they pay for and quotas by the programmes running in it; ``as_of`` (None: everything
    recorded) counts only what took effect by then."""
    query = where(unit)
    projects = [p for p in views[PROJECTS].find(query)
                if year is None or p["year"] <= year <= p["until_year"]]
    payments = [d for d in views[DISBURSEMENTS].find(query)
                if (year is None or d["year"] == year) and _by(as_of, d["disbursed_on"])]
    programmes = {p["_id"]: p for p in views[PROGRAMMES].find({})
                  if year is None or p["year"] <= year <= p["until_year"]}
    quotas = {(q["programme_id"], q["region"]): q["total"] for q in views[QUOTAS].find(query)
              if q["programme_id"] in programmes}
    used = sum(1 for place in views[PLACES].find(query)
               if (place["programme_id"], place["region"]) in quotas and _by(as_of, place["since"]))
    disbursed_fen = sum(d["amount_fen"] for d in payments)
    total = sum(quotas.values())
    return {
        "unit": unit, "year": year, "as_of": as_of,
        "approved_projects": sum(1 for p in projects if _by(as_of, p["approved_on"])),
        "effective_projects": sum(1 for p in projects if _by(as_of, p["confirmed_on"])),
        "disbursements": len(payments),
        "disbursed_fen": disbursed_fen,
        "disbursed_wan": round(disbursed_fen / FEN_PER_WAN, 4),
        "quota": {"total": total, "used": used, "left": total - used},
    }


def project_record(views, project_id):
    """A project as the views hold it, its history (one entry per event, with log positions)
    and its payments; None if the views do not know it."""
    doc = views[PROJECTS].find_one({"_id": project_id})
    if doc is None:
        return None
    history = sorted(views[HISTORY].find({"project_id": project_id}), key=lambda h: h["position"])
    payments = sorted(views[DISBURSEMENTS].find({"project_id": project_id}), key=lambda d: d["position"])
    return {"project": doc, "history": history, "disbursements": payments}
