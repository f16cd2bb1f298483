"""The supervision projection: campaigns, self-inspections, findings and rectification tracking.

Rectification state is kept as of any date: one document per item and one per move (status,
effective date, log position), so the tracking view can say what an item's status was on a
given day. Every write is an upsert keyed by a natural key, so replaying an event changes
nothing. Units are stored with their province/city/county ancestors as plain fields, so a
province's query reaches its cities' items without arrays (see kernel/views.py on the stand-in).
"""

from pymongo import ASCENDING, IndexModel, UpdateOne

from kernel.places import Unit
from kernel.projection import Projection, facts
from services.supervision.domain import PHASES

CAMPAIGNS, SELF_INSPECTIONS, FINDINGS = (
    "supervision_campaigns",
    "supervision_self_inspections",
    "supervision_findings",
)
RECTIFICATIONS, MOVES = "supervision_rectifications", "supervision_rectification_moves"


def unit_levels(unit):
    """``county:山西/吕梁/岚县`` → the province, city and county units it lies in."""
    levels = {"province_unit": None, "city_unit": None, "county_unit": None}
    for level in Unit.of_record(unit).lineage[1:]:
        if level.geographic:
            levels[f"{level.kind}_unit"] = str(level)
    return levels


def _set(key, fields):
    return UpdateOne({"_id": key}, {"$set": fields}, upsert=True)


class SupervisionProjection(Projection):
    name = "supervision.tracking"
    collections = (CAMPAIGNS, SELF_INSPECTIONS, FINDINGS, RECTIFICATIONS, MOVES)
    # Tracking reads a unit's items (at any level) required by a date, then their moves by a date.
    indexes = {
        RECTIFICATIONS: [
            IndexModel([(level, ASCENDING), ("required_on", ASCENDING)])
            for level in ("province_unit", "city_unit", "county_unit", "unit", "campaign_id")
        ],
        MOVES: [IndexModel([("item_id", ASCENDING), ("on", ASCENDING)])],
        CAMPAIGNS: [IndexModel([("position", ASCENDING)])],  # the list, in launch order
    }

    # -- campaigns ------------------------------------------------------------------------
    def on_CampaignLaunched(self, position, e):
        yield (
            CAMPAIGNS,
            _set(
                str(e.originator_id),
                {
                    **facts(e, "name", "year", *PHASES, "units"),
                    "launched_on": e.effective_date,
                    "closed_on": None,
                    "position": position,
                },
            ),
        )

    def on_CampaignClosed(self, position, e):
        yield CAMPAIGNS, _set(str(e.originator_id), {"closed_on": e.effective_date})

    # -- self-inspections -----------------------------------------------------------------
    def on_SelfInspectionSubmitted(self, position, e):
        yield (
            SELF_INSPECTIONS,
            _set(
                f"{e.campaign_id}:{e.unit}",
                {
                    "campaign_id": e.campaign_id,
                    "unit": e.unit,
                    "declared": e.declared,
                    "figures": e.figures,
                    "late": e.late,
                    "submitted_on": e.effective_date,
                    "position": position,
                },
            ),
        )

    def on_SelfInspectionRevised(self, position, e):
        yield from self.on_SelfInspectionSubmitted(position, e)

    # -- findings and rectification -------------------------------------------------------
    def on_FindingRecorded(self, position, e):
        yield (
            FINDINGS,
            _set(
                str(e.originator_id),
                {
                    **facts(e, "campaign_id", "unit"),
                    **unit_levels(e.unit),
                    **facts(
                        e, "inspector", "description", "severity", "requires_rectification", "due"
                    ),
                    "found_on": e.effective_date,
                    "position": position,
                },
            ),
        )

    def on_RectificationRequired(self, position, e):
        item_id = str(e.originator_id)
        yield (
            RECTIFICATIONS,
            _set(
                item_id,
                {
                    **facts(e, "finding_id", "campaign_id", "unit"),
                    **unit_levels(e.unit),
                    **facts(e, "description", "due"),
                    "required_on": e.effective_date,
                    "status": "open",
                    "last_moved_on": e.effective_date,
                    "position": position,
                },
            ),
        )
        yield from self._move(item_id, position, "open", e.effective_date, {})

    def on_RectificationProgressed(self, position, e):
        yield from self._moved(position, e, "in_progress", {"note": e.note})

    def on_RectificationSubmitted(self, position, e):
        yield from self._moved(
            position, e, "submitted", {"evidence": e.evidence, "evidence_hashes": e.evidence_hashes}
        )

    def on_RectificationVerified(self, position, e):
        yield from self._moved(position, e, "verified", {"by": e.verifier, "comment": e.comment})

    def on_RectificationReopened(self, position, e):
        yield from self._moved(position, e, "reopened", {"by": e.verifier, "reason": e.reason})

    def _moved(self, position, e, status, details):
        item_id = str(e.originator_id)
        yield RECTIFICATIONS, _set(item_id, {"status": status, "last_moved_on": e.effective_date})
        yield from self._move(item_id, position, status, e.effective_date, details)

    @staticmethod
    def _move(item_id, position, status, on, details):
        yield (
            MOVES,
            _set(
                f"{item_id}:{position}",
                {"item_id": item_id, "status": status, "on": on, "position": position, **details},
            ),
        )
