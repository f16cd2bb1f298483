"""Reads over the funding views: the summary that feeds item 11 of the statistics table, and a
project with its history and its payments (each traced to the events it rests on).

The summary reads the dated sums the projection keeps (a few documents, whatever the number of
projects); a project's record is read by its id.
"""

from kernel import dated_sums
from kernel.errors import ValidationFailed
from kernel.places import PlaceError, Unit
from services.funding.projection import DISBURSEMENTS, HISTORY, PROJECTS, SUMMED, SUMS

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen


def canonical(unit):
    """The unit as the sums are keyed (``city:山东/临沂``); a malformed or unknown one is refused."""
    try:
        return str(Unit.parse(unit))
    except PlaceError as bad:
        raise ValidationFailed(str(bad), bad.details) from None


def summary(views, unit, year=None, as_of=None):
    """Approved projects, money paid (fen and 万元) and quota places of ``unit``, from the dated
    sums the projection keeps.

    ``year`` (None: all) selects projects by their implementation years, payments by the year
    they pay for and quotas by the programmes running in it; ``as_of`` (None: everything
    recorded) counts only what took effect by then."""
    key = f"{canonical(unit)}|{'all' if year is None else year}"
    sums = dated_sums.read(views, SUMS, key, as_of, SUMMED)
    total, used = sums["quota_total"], sums["quota_used"]
    return {
        "unit": unit,
        "year": year,
        "as_of": as_of,
        "approved_projects": sums["approved_projects"],
        "effective_projects": sums["effective_projects"],
        "disbursements": sums["disbursements"],
        "disbursed_fen": sums["disbursed_fen"],
        "disbursed_wan": round(sums["disbursed_fen"] / FEN_PER_WAN, 4),
        "quota": {"total": total, "used": used, "left": total - used},
    }


def project_record(views, project_id):
    """A project as the views hold it, its history (one entry per event, with log positions)
    and its payments; None if the views do not know it."""
    doc = views[PROJECTS].find_one({"_id": project_id})
    if doc is None:
        return None
    history = sorted(views[HISTORY].find({"project_id": project_id}), key=lambda h: h["position"])
    payments = sorted(
        views[DISBURSEMENTS].find({"project_id": project_id}), key=lambda d: d["position"]
    )
    return {"project": doc, "history": history, "disbursements": payments}
