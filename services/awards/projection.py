"""The awards projection: rounds, nominations with their history, objections, commendations.

Every write is an upsert keyed by a natural key (the aggregate's id, an objection's id, or
``nomination id:log position`` for the history), so replaying an event changes nothing. Forms
are stored masked (PERSONAL_FIELDS). Lists (a round's key provinces) are stored as plain values,
never arrays of subdocuments (see kernel/views.py on the stand-in).
"""

from pymongo import ASCENDING, IndexModel, UpdateMany, UpdateOne

from kernel.personal import ERASED
from kernel.pii import mask_fields
from kernel.projection import Projection, facts
from services.awards.domain import NOMINEE_NAMING, PERSONAL_FIELDS

ROUNDS, NOMINATIONS, HISTORY = "awards_rounds", "awards_nominations", "awards_nomination_history"
OBJECTIONS, COMMENDATIONS = "awards_objections", "awards_commendations"
# A round's configuration, as its view keeps it.
ROUND_FIELDS = (
    "year",
    "name",
    "categories",
    "national_totals",
    "key_provinces",
    "quotas",
    "notice_days",
    "deadline",
    "prior_commendation_since",
)


def _set(key, fields):
    return UpdateOne({"_id": key}, {"$set": fields}, upsert=True)


class AwardsProjection(Projection):
    name = "awards.lists"
    collections = (ROUNDS, NOMINATIONS, HISTORY, OBJECTIONS, COMMENDATIONS)
    # A round's nominations by a date, their history and objections by nomination; commendations by year.
    indexes = {
        NOMINATIONS: [
            IndexModel([("round_id", ASCENDING), ("submitted_on", ASCENDING)]),
            IndexModel([("nominee", ASCENDING)]),  # an expert's, to erase
        ],
        HISTORY: [IndexModel([("nomination_id", ASCENDING), ("on", ASCENDING)])],
        OBJECTIONS: [IndexModel([("nomination_id", ASCENDING)])],
        COMMENDATIONS: [
            IndexModel([("year", ASCENDING)]),
            IndexModel([("unit", ASCENDING)]),
            IndexModel([("nominee", ASCENDING)]),
        ],
    }

    # -- rounds ---------------------------------------------------------------------------
    def on_AwardRoundConfigured(self, position, e):
        yield (
            ROUNDS,
            _set(
                str(e.originator_id),
                {
                    **facts(e, *ROUND_FIELDS),
                    "configured_on": e.effective_date,
                    "status": "open",
                    "notice_start": None,
                    "notice_end": None,
                    "commended_on": None,
                    "position": position,
                },
            ),
        )

    def on_AwardListPublicized(self, position, e):
        yield (
            ROUNDS,
            _set(
                str(e.originator_id),
                {
                    "status": "publicized",
                    "notice_start": e.notice_start,
                    "notice_end": e.notice_end,
                },
            ),
        )

    def on_AwardRoundCommended(self, position, e):
        yield (
            ROUNDS,
            _set(
                str(e.originator_id),
                {"status": "commended", "commended_on": e.effective_date, "conferred": e.conferred},
            ),
        )

    # -- nominations ----------------------------------------------------------------------
    def on_NominationSubmitted(self, position, e):
        nomination_id = str(e.originator_id)
        yield (
            NOMINATIONS,
            _set(
                nomination_id,
                {
                    "round_id": e.round_id,
                    "nominee": e.nominee,
                    "category": e.category,
                    "unit": e.unit,
                    "form": mask_fields(e.form, PERSONAL_FIELDS),
                    "checks": e.checks,
                    "submitted_on": e.effective_date,
                    "status": "submitted",
                    "notice_start": None,
                    "notice_end": None,
                    "conferred_on": None,
                    "revoked_on": None,
                    "position": position,
                },
            ),
        )
        yield from self._history(nomination_id, position, "submitted", e.effective_date, {})

    def on_NominationPublicized(self, position, e):
        nomination_id = str(e.originator_id)
        yield (
            NOMINATIONS,
            _set(
                nomination_id,
                {
                    "status": "publicized",
                    "notice_start": e.notice_start,
                    "notice_end": e.notice_end,
                },
            ),
        )
        yield from self._history(
            nomination_id, position, "publicized", e.notice_start, {"notice_end": e.notice_end}
        )

    def on_ObjectionRaised(self, position, e):
        yield (
            OBJECTIONS,
            _set(
                e.objection_id,
                {
                    "nomination_id": str(e.originator_id),
                    "reason": e.reason,
                    "raised_by": e.raised_by,
                    "raised_on": e.effective_date,
                    "resolved_on": None,
                    "upheld": None,
                    "comment": None,
                    "position": position,
                },
            ),
        )

    def on_ObjectionResolved(self, position, e):
        yield (
            OBJECTIONS,
            _set(
                e.objection_id,
                {"resolved_on": e.effective_date, "upheld": e.upheld, "comment": e.comment},
            ),
        )

    def on_NominationWithdrawn(self, position, e):
        nomination_id = str(e.originator_id)
        yield NOMINATIONS, _set(nomination_id, {"status": "withdrawn"})
        yield from self._history(
            nomination_id, position, "withdrawn", e.effective_date, {"reason": e.reason}
        )

    def on_AwardConferred(self, position, e):
        nomination_id = str(e.originator_id)
        yield (
            NOMINATIONS,
            _set(nomination_id, {"status": "conferred", "conferred_on": e.effective_date}),
        )
        yield from self._history(nomination_id, position, "conferred", e.effective_date, {})

    def on_AwardRevoked(self, position, e):
        nomination_id = str(e.originator_id)
        yield (
            NOMINATIONS,
            _set(nomination_id, {"status": "revoked", "revoked_on": e.effective_date}),
        )
        yield from self._history(
            nomination_id, position, "revoked", e.effective_date, {"reason": e.reason, "was": e.was}
        )

    @staticmethod
    def _history(nomination_id, position, status, on, details):
        yield (
            HISTORY,
            _set(
                f"{nomination_id}:{position}",
                {
                    "nomination_id": nomination_id,
                    "status": status,
                    "on": on,
                    "position": position,
                    **details,
                },
            ),
        )

    # -- erasure --------------------------------------------------------------------------
    def on_PersonErased(self, position, e):
        """The expert's nominations and commendations as they decode once the key is gone
        (kernel.erasure): each field the form held reads erased."""
        nominee = f"expert:{e.person_id}"
        for name in NOMINEE_NAMING:
            field = f"form.{name}"
            yield (
                NOMINATIONS,
                UpdateMany({"nominee": nominee, field: {"$ne": None}}, {"$set": {field: ERASED}}),
            )
        yield COMMENDATIONS, UpdateMany({"nominee": nominee}, {"$set": {"name": ERASED}})

    # -- commendations --------------------------------------------------------------------
    def on_CommendationRecorded(self, position, e):
        yield (
            COMMENDATIONS,
            _set(
                str(e.originator_id),
                {
                    "nominee": e.nominee,
                    "year": e.year,
                    "category": e.category,
                    "unit": e.unit,
                    "name": e.name,
                    "source": e.source,
                    "recorded_on": e.effective_date,
                    "revoked_on": None,
                    "position": position,
                },
            ),
        )

    def on_CommendationRevoked(self, position, e):
        yield (
            COMMENDATIONS,
            _set(
                str(e.originator_id), {"revoked_on": e.effective_date, "revoked_reason": e.reason}
            ),
        )
