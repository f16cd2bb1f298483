"""The funding projection: funding events → views in MongoDB.

One document per natural key (programme, quota region, quota place, project, project event,
disbursement), written with upserts that set whole fields, so re-applying an event changes
nothing. A project's history is one document per event (the MongoDB stand-in holds no arrays of
subdocuments). A disbursement's document carries the log positions of the approvals, the
publicity and the confirmation it rests on, looked up from the history written before it.
Field names are ASCII: quota regions (``city:山东/临沂``) are values, never keys.

The summary's figures (item 11) are dated sums (``kernel.dated_sums``) per unit key and year
selector (``national|all``, ``province:山东|2017``): approved and effective projects, payments and
fen, quota places and their use, each dated by when it took effect, so that a summary reads a
handful of documents however many projects a unit has. A project counts for the nation, the
province, city and county its region lies in, and the society it is credited to; quota places
for their region's lineage. They are written through the batch journal, after the record views.
"""

from pymongo import ASCENDING, IndexModel, UpdateMany, UpdateOne

from kernel import dated_sums, pii
from kernel.personal import ERASED
from kernel.places import Unit
from kernel.projection import Projection

PROGRAMMES, QUOTAS, PLACES = "funding_programmes", "funding_quotas", "funding_quota_places"
PROJECTS, HISTORY, DISBURSEMENTS = (
    "funding_projects",
    "funding_project_history",
    "funding_disbursements",
)
SUMS, JOURNAL = "funding_sums", "funding_journal"
SUMMED = (
    "approved_projects",
    "effective_projects",
    "disbursements",
    "disbursed_fen",
    "quota_total",
    "quota_used",
)
ALWAYS = "0001-01-01"  # the date of what counts whatever the as-of date (a quota's size)


def _place(region):
    return dict(zip(("province", "city", "county"), Unit.of_record(region).path + (None, None)))


def _set(key, fields, position=None):
    update = {"$set": fields}
    if position is not None:
        update["$addToSet"] = {"positions": position}
    return UpdateOne({"_id": key}, update, upsert=True)


def unit_keys(region, unit=None):
    """The unit keys a project, payment or quota place counts for: the nation, its region's
    province, city and county, and the society it is credited to."""
    keys = [str(u) for u in Unit.of_record(region).lineage]
    return keys + ([unit] if unit and unit.startswith("society:") else [])


def _years(first, last):
    return ["all", *(str(y) for y in range(first, last + 1))]


class FundingProjection(Projection):
    name = "funding.ledger"
    collections = (PROGRAMMES, QUOTAS, PLACES, PROJECTS, HISTORY, DISBURSEMENTS, SUMS)
    # The summary reads dated sums; a project's record its history and payments by project id; a
    # place taken finds its quota by the quota's id.
    indexes = {
        SUMS: dated_sums.INDEXES,
        HISTORY: [IndexModel([("project_id", ASCENDING)])],
        DISBURSEMENTS: [
            IndexModel([("project_id", ASCENDING)]),
            IndexModel([("expert_id", ASCENDING)]),  # an expert's payments, to erase
        ],
        QUOTAS: [IndexModel([("quota_id", ASCENDING)])],
    }

    def apply(self, views, events):
        for name, models in self.indexes.items():
            if hasattr(views[name], "create_indexes"):
                views[name].create_indexes(models)
        dated_sums.apply_once(views, JOURNAL, events, lambda fresh: self._apply(views, fresh))

    def _apply(self, views, events):
        """The record views written event by event (a payment's document reads the history
        positions written before it); the summary's sums returned as writes to journal."""
        changes = {}
        for position, e in events:
            handler = getattr(self, "on_" + type(e).__name__, None)
            if handler:
                writes = {}
                for collection, op in handler(views, position, e):
                    writes.setdefault(collection, []).append(op)
                for collection, ops in writes.items():
                    views[collection].bulk_write(ops, ordered=True)
            summed = getattr(self, "sum_" + type(e).__name__, None)
            for key, metric, day, change in summed(views, e) if summed else ():
                changes[(key, metric, day)] = changes.get((key, metric, day), 0) + change
        return dated_sums.folded(views, SUMS, changes)

    def drop(self, views):
        super().drop(views)
        views[JOURNAL].drop()

    # -- the summary's dated sums: (unit key|year selector, metric, date, change) ---------
    def sum_ProjectApproved(self, views, e):
        yield from self._project_sum(views, e, "approved_projects")

    def sum_ProjectConfirmed(self, views, e):
        yield from self._project_sum(views, e, "effective_projects")

    def _project_sum(self, views, e, metric):
        project = views[PROJECTS].find_one({"_id": str(e.originator_id)})
        for key in unit_keys(project["region"], project["unit"]):
            for year in _years(project["year"], project["until_year"]):
                yield f"{key}|{year}", metric, e.effective_date, 1

    def sum_FundDisbursed(self, views, e):
        for key in unit_keys(e.region, e.unit):
            for year in ("all", str(e.year)):
                yield f"{key}|{year}", "disbursements", e.effective_date, 1
                yield f"{key}|{year}", "disbursed_fen", e.effective_date, e.amount_fen

    def sum_QuotaOpened(self, views, e):
        programme = views[PROGRAMMES].find_one({"_id": e.programme_id})
        for key in unit_keys(e.region):
            for year in _years(programme["year"], programme["until_year"]):
                yield f"{key}|{year}", "quota_total", ALWAYS, e.total

    def sum_QuotaPlaceTaken(self, views, e):
        quota = views[QUOTAS].find_one({"quota_id": str(e.originator_id)})
        programme = views[PROGRAMMES].find_one({"_id": quota["programme_id"]})
        for key in unit_keys(quota["region"]):
            for year in _years(programme["year"], programme["until_year"]):
                yield f"{key}|{year}", "quota_used", e.effective_date, 1

    # -- programmes and quotas ------------------------------------------------------------
    def on_ProgrammeConfigured(self, views, position, e):
        yield (
            PROGRAMMES,
            _set(
                str(e.originator_id),
                {
                    "name": e.name,
                    "year": e.year,
                    "until_year": e.until_year,
                    "unit": e.unit,
                    "kinds": [k["code"] for k in e.project_kinds],
                    "approval_levels": e.approval_levels,
                    "subsidy_fen_per_project_year": e.subsidy_fen_per_project_year,
                    "subsidise_units": e.subsidise_units,
                    "subsidise_fully_budget_funded": e.subsidise_fully_budget_funded,
                    "notice_days": e.notice_days,
                    "quota_total": sum(e.quotas.values()),
                    "configured_on": e.effective_date,
                    "position": position,
                },
                position,
            ),
        )

    def on_QuotaOpened(self, views, position, e):
        yield (
            QUOTAS,
            _set(
                f"{e.programme_id}|{e.region}",
                {
                    "quota_id": str(e.originator_id),
                    "programme_id": e.programme_id,
                    "region": e.region,
                    **_place(e.region),
                    "total": e.total,
                    "position": position,
                },
            ),
        )

    def on_QuotaPlaceTaken(self, views, position, e):
        quota = views[QUOTAS].find_one({"quota_id": str(e.originator_id)})
        yield (
            PLACES,
            _set(
                f"{quota['programme_id']}|{quota['region']}|{e.project_id}",
                {
                    "programme_id": quota["programme_id"],
                    "region": quota["region"],
                    **_place(quota["region"]),
                    "project_id": e.project_id,
                    "since": e.effective_date,
                    "position": position,
                },
            ),
        )

    # -- projects -------------------------------------------------------------------------
    def _history(self, position, e, **fields):
        return HISTORY, _set(
            f"{e.originator_id}:{e.originator_version}",
            {
                "project_id": str(e.originator_id),
                "version": e.originator_version,
                "type": type(e).__name__,
                "effective_date": e.effective_date,
                "recorded_at": e.timestamp.isoformat(),
                "position": position,
                **fields,
            },
        )

    def on_ProjectApplied(self, views, position, e):
        applicant = e.applicant
        yield (
            PROJECTS,
            _set(
                str(e.originator_id),
                {
                    "programme_id": e.programme_id,
                    "applicant_type": applicant["type"],
                    "expert_id": applicant.get("expert_id"),
                    "unit_name": applicant.get("unit_name"),
                    "fully_budget_funded": bool(applicant.get("fully_budget_funded")),
                    "kind": e.kind,
                    "region": e.region,
                    **_place(e.region),
                    "unit": e.unit,
                    "villages": e.villages,
                    "content": e.content,
                    "year": e.year,
                    "until_year": e.until_year,
                    "amount_fen": e.amount_fen,
                    "approval_levels": e.approval_levels,
                    "quota_region": e.quota_region,
                    "subsidised": e.no_subsidy_reason is None,
                    "no_subsidy_reason": e.no_subsidy_reason,
                    "status": "in_review",
                    "applied_on": e.effective_date,
                    "reviewed_levels": [],
                    "approved_on": None,
                    "rejected_on": None,
                    "notice_start": None,
                    "notice_end": None,
                    "confirmed_on": None,
                    "position": position,
                },
                position,
            ),
        )
        yield self._history(position, e)

    def on_ProjectReviewed(self, views, position, e):
        yield (
            PROJECTS,
            UpdateOne(
                {"_id": str(e.originator_id)},
                {"$addToSet": {"reviewed_levels": e.level, "positions": position}},
                upsert=True,
            ),
        )
        yield self._history(position, e, level=e.level, decision=e.decision, comment=e.comment)

    def _step(self, position, e, fields, **history):
        """A step on the project's way: its row's new fields, and its history row."""
        yield PROJECTS, _set(str(e.originator_id), fields, position)
        yield self._history(position, e, **history)

    def on_ProjectRejected(self, views, position, e):
        rejected = {
            "status": "rejected",
            "rejected_on": e.effective_date,
            "rejected_at_level": e.level,
        }
        return self._step(position, e, rejected, level=e.level, comment=e.comment)

    def on_ProjectApproved(self, views, position, e):
        return self._step(position, e, {"status": "approved", "approved_on": e.effective_date})

    def on_ProjectPublicized(self, views, position, e):
        notice = {"notice_start": e.notice_start, "notice_end": e.notice_end}
        return self._step(
            position, e, {"status": "publicized", **notice}, **notice, notice_days=e.notice_days
        )

    def on_ProjectConfirmed(self, views, position, e):
        return self._step(position, e, {"status": "effective", "confirmed_on": e.effective_date})

    # -- disbursements --------------------------------------------------------------------
    def on_PersonErased(self, views, position, e):
        """The expert's payments as they decode once the key is gone (kernel.erasure)."""
        yield (
            DISBURSEMENTS,
            UpdateMany({"expert_id": e.person_id}, {"$set": {"account_masked": ERASED}}),
        )

    def on_FundDisbursed(self, views, position, e):
        def at(version):
            doc = views[HISTORY].find_one({"_id": f"{e.project_id}:{version}"}, {"position": 1})
            return doc["position"] if doc else None

        trail = e.trail
        yield (
            DISBURSEMENTS,
            _set(
                str(e.originator_id),
                {
                    "project_id": e.project_id,
                    "programme_id": e.programme_id,
                    "year": e.year,
                    "amount_fen": e.amount_fen,
                    "account_masked": pii.mask(e.account),
                    "expert_id": e.expert_id,
                    "region": e.region,
                    **_place(e.region),
                    "unit": e.unit,
                    "quota_region": e.quota_region,
                    "disbursed_on": e.effective_date,
                    "recorded_at": e.timestamp.isoformat(),
                    "position": position,
                    "applied_position": at(trail["applied"]),
                    "review_positions": [at(v) for v in trail["reviews"]],
                    "approved_position": at(trail["approved"]),
                    "publicized_position": at(trail["publicized"]),
                    "confirmed_position": at(trail["confirmed"]),
                },
            ),
        )
        yield (
            PROJECTS,
            UpdateOne(
                {"_id": e.project_id},
                {"$addToSet": {"disbursement_positions": position}},
                upsert=True,
            ),
        )
