"""Supervision aggregates (专项督查): campaigns with their phases, self-inspections, findings of
field inspection, and rectification items. Each command method guards its rule, then records
one public event. Dates are ``YYYY-MM-DD`` strings and every time rule compares effective dates,
so a past campaign (2017) can be recorded as it happened.
"""

import random
from dataclasses import dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from kernel.errors import Conflict, Forbidden, RuleViolation, ValidationFailed
from kernel.places import Unit
from services.registry.contract import MAX_BODIES, MAX_HOUSEHOLDS, MAX_PEOPLE, bounded_figures

# Supervision events hold no personal numbers; the outbox masks nothing.
PERSONAL_FIELDS = ()

PHASES = (
    "cutoff",
    "self_inspection_due",
    "field_inspection_start",
    "field_inspection_end",
    "feedback_due",
    "rectification_due",
)


def _natural_id(kind, key) -> UUID:
    return uuid5(NAMESPACE_URL, f"kjfp:supervision:{kind}:{key}")


def province_of(unit):
    """The province a unit lies in (``city:山西/吕梁`` → ``山西``); None for societies and national."""
    return Unit.of_record(unit).province


@dataclass
class Campaign(Aggregate, created_event_name="CampaignLaunched"):
    """A supervision campaign: phase dates, the units it covers, and its inspection groups."""

    name: str
    year: int
    cutoff: str  # the phases' dates, in the order of PHASES
    self_inspection_due: str
    field_inspection_start: str
    field_inspection_end: str
    feedback_due: str
    rectification_due: str
    units: list[str]
    effective_date: str
    closed_on: str | None = field(default=None, init=False)
    groups: list[dict[str, Any]] = field(default_factory=list, init=False)

    def __post_init__(self):
        for earlier, later in zip(PHASES, PHASES[1:]):  # the phases follow one another
            if getattr(self, later) < getattr(self, earlier):
                raise RuleViolation(
                    f"{later} is before {earlier}",
                    {later: [f"before {earlier} ({getattr(self, earlier)})"]},
                )
        if len(set(self.units)) != len(self.units):
            raise RuleViolation("a unit is listed twice", {"units": ["listed twice"]})

    @property
    def launched_on(self) -> str:
        return self.effective_date

    def covers(self, unit):
        """Is ``unit`` one the campaign covers (itself, or inside a covered province)?"""
        return unit in self.units or f"province:{province_of(unit)}" in self.units

    def guard_open(self, what, effective_date):
        if self.closed_on is not None:
            raise RuleViolation(
                f"the campaign was closed on {self.closed_on}; no more {what}",
                {"campaign_id": ["closed"]},
            )
        if effective_date < self.launched_on:
            raise RuleViolation(
                f"the campaign was launched on {self.launched_on}",
                {"effective_date": ["before the campaign was launched"]},
            )

    def schedule_field_inspection(self, groups, effective_date):
        self.guard_open("field inspection", effective_date)
        if effective_date > self.field_inspection_end:
            raise RuleViolation(
                "the field inspection window is over", {"effective_date": ["after the window"]}
            )
        seen: dict[str, Any] = {}
        for group in groups:
            for province in group["provinces"]:
                if province in seen:
                    raise RuleViolation(
                        f"{province} is assigned to both {seen[province]} and {group['name']}",
                        {"groups": [f"{province}: assigned twice"]},
                    )
                if not any(province_of(unit) == province for unit in self.units):
                    raise RuleViolation(
                        f"the campaign does not cover {province}",
                        {"groups": [f"{province}: not covered by the campaign"]},
                    )
                seen[province] = group["name"]
        self._scheduled(groups=groups, effective_date=effective_date)

    @event("FieldInspectionScheduled")
    def _scheduled(self, groups, effective_date):
        self.groups = groups

    def assigned(self, inspector, unit):
        """Is this inspector (token subject) in a group assigned the unit's province?"""
        province = province_of(unit)
        return any(inspector in g["inspectors"] and province in g["provinces"] for g in self.groups)

    def close(self, effective_date):
        self.guard_open("closing", effective_date)
        self._closed(effective_date=effective_date)

    @event("CampaignClosed")
    def _closed(self, effective_date):
        self.closed_on = effective_date


DECLARATIONS = (
    "leading_group",
    "plan_issued",
    "regular_meetings",
    "tasks_and_targets_precise",
    "pairing_assessment_publicity",
    "fund_measures",
)
FIGURES = ("federations", "associations", "experts", "households", "people", "project_funds_wan")
# A declared figure beyond what the nation holds is a typing error (the registry's limits; funds
# up to 1,000 亿元): refused here as at the gateway, so no caller records one.
COUNT_LIMITS = {
    "federations": MAX_BODIES,
    "associations": MAX_BODIES,
    "experts": MAX_BODIES,
    "households": MAX_HOUSEHOLDS,
    "people": MAX_PEOPLE,
}
FUNDS_WAN_MAX = 10_000_000


def bounded(figures):
    """The self-inspection's figures, each within its bounds; ValidationFailed naming the field."""
    counts = {k: v for k, v in figures.items() if k != "project_funds_wan"}
    bounded_figures(counts, COUNT_LIMITS, "figures")
    funds = figures.get("project_funds_wan")
    if funds is not None and (
        isinstance(funds, bool)
        or not isinstance(funds, (int, float))
        or not 0 <= funds <= FUNDS_WAN_MAX
    ):
        raise ValidationFailed(
            "figures.project_funds_wan is out of bounds",
            {"figures.project_funds_wan": [f"a number from 0 to {FUNDS_WAN_MAX:,}"]},
        )
    return figures


@dataclass
class SelfInspection(Aggregate, created_event_name="SelfInspectionSubmitted"):
    """A unit's self-inspection report (自查报告) in a campaign; filed again to revise it."""

    campaign_id: str
    unit: str
    declared: dict[str, bool]
    figures: dict[str, Any]
    text: str
    late: bool
    effective_date: str  # of the latest filing: the first, or the last revision

    @staticmethod
    def create_id(campaign_id, unit):
        return _natural_id("self-inspection", f"{campaign_id}:{unit}")

    @property
    def submitted_on(self) -> str:
        return self.effective_date

    def revise(self, declared, figures, text, late, effective_date):
        if effective_date < self.submitted_on:
            raise RuleViolation(
                "a revision cannot precede the report it revises",
                {"effective_date": [f"before {self.submitted_on}"]},
            )
        self._revised(
            campaign_id=self.campaign_id,
            unit=self.unit,
            declared=declared,
            figures=figures,
            text=text,
            late=self.late or late,
            effective_date=effective_date,
        )  # once late, stays late

    @event("SelfInspectionRevised")
    def _revised(self, campaign_id, unit, declared, figures, text, late, effective_date):
        self.declared, self.figures, self.text = declared, figures, text
        self.late = late
        self.effective_date = effective_date


@dataclass
class Finding(Aggregate, created_event_name="FindingRecorded"):
    """What an inspector found at a unit during field inspection."""

    campaign_id: str
    unit: str
    inspector: str
    description: str
    severity: str
    requires_rectification: bool
    due: str | None
    effective_date: str

    @property
    def found_on(self) -> str:
        return self.effective_date

    @property
    def rectification_id(self):
        return Rectification.create_id(str(self.id))


# Which moves each state allows: verified is final; a reopened item is worked on again.
MOVES = {
    "progress": ("open", "in_progress", "reopened"),
    "submit": ("open", "in_progress", "reopened"),
    "verify": ("submitted",),
    "reopen": ("submitted",),
}
RESULT = {
    "progress": "in_progress",
    "submit": "submitted",
    "verify": "verified",
    "reopen": "reopened",
}


@dataclass
class Rectification(Aggregate, created_event_name="RectificationRequired"):
    """A rectification item (整改) opened by a finding: one per finding, due by a deadline."""

    finding_id: str
    campaign_id: str
    unit: str
    description: str
    due: str
    effective_date: str
    status: str = field(default="open", init=False)
    last_moved_on: str = field(init=False)

    @staticmethod
    def create_id(finding_id):
        return _natural_id("rectification", finding_id)

    def __post_init__(self):
        if self.due < self.effective_date:
            raise RuleViolation(
                "the deadline is before the finding", {"due": [f"before {self.effective_date}"]}
            )
        self.last_moved_on = self.effective_date

    def overdue(self, as_of):
        return self.status != "verified" and as_of > self.due

    def _guard_move(self, move, effective_date):
        if self.status not in MOVES[move]:
            raise Conflict(
                f"an item that is {self.status} cannot be moved by {move}",
                {"status": [f"{self.status}: {move} not allowed"]},
            )
        if effective_date < self.last_moved_on:
            raise RuleViolation(
                f"the item last moved on {self.last_moved_on}; moves are dated in order",
                {"effective_date": [f"before {self.last_moved_on}"]},
            )

    def progress(self, actor_unit, note, effective_date):
        self._guard_responsible(actor_unit)
        self._guard_move("progress", effective_date)
        self._progressed(unit=self.unit, note=note, effective_date=effective_date)

    @event("RectificationProgressed")
    def _progressed(self, unit, note, effective_date):
        self._moved("progress", effective_date)

    def submit(self, actor_unit, evidence, evidence_hashes, effective_date):
        self._guard_responsible(actor_unit)
        self._guard_move("submit", effective_date)
        self._submitted(
            unit=self.unit,
            evidence=evidence,
            evidence_hashes=evidence_hashes,
            effective_date=effective_date,
        )

    @event("RectificationSubmitted")
    def _submitted(self, unit, evidence, evidence_hashes, effective_date):
        self._moved("submit", effective_date)

    def verify(self, verifier, comment, effective_date):
        self._guard_move("verify", effective_date)
        self._verified(
            unit=self.unit, verifier=verifier, comment=comment, effective_date=effective_date
        )

    @event("RectificationVerified")
    def _verified(self, unit, verifier, comment, effective_date):
        self._moved("verify", effective_date)

    def reopen(self, verifier, reason, effective_date):
        self._guard_move("reopen", effective_date)
        self._reopened(
            unit=self.unit, verifier=verifier, reason=reason, effective_date=effective_date
        )

    @event("RectificationReopened")
    def _reopened(self, unit, verifier, reason, effective_date):
        self._moved("reopen", effective_date)

    def _moved(self, move, effective_date):
        self.status = RESULT[move]
        self.last_moved_on = effective_date

    def _guard_responsible(self, actor_unit):
        if actor_unit != self.unit:
            raise Forbidden(
                f"only {self.unit} works on this rectification item",
                {"unit": ["not the responsible unit"]},
            )


@dataclass
class SpotCheck(Aggregate, created_event_name="SpotCheckDrawn"):
    """A reproducible draw (抽查) of provinces and of their registered records."""

    campaign_id: str
    seed: str
    provinces: list[str]
    records_per_province: int
    registry_position: int
    sample: dict[str, list[str]]  # province → record keys, in draw order
    effective_date: str

    @property
    def drawn_on(self) -> str:
        return self.effective_date


def draw_records(seed, purpose, size, k, lookup, chunk=200):
    """``k`` records drawn reproducibly from a frame of ``size`` ordinals (1..size, in the order
    they entered it), of those in force: the ordinals are visited in the order a generator seeded
    with ``seed`` and ``purpose`` shuffles them (a Fisher–Yates shuffle done lazily, so a draw
    costs what it visits, not the frame's size), and each is taken if its record was in force.
    Every record in force is equally likely. ``lookup(ordinals)`` → ``{str(ordinal): {record,
    in_force}}`` reads up to ``chunk`` at a time. Fewer than ``k`` in force: all of them."""
    order = _shuffled(random.Random(f"{seed}|{purpose}"), size)
    taken: list[str] = []
    while len(taken) < k:
        ordinals = [n for _, n in zip(range(max(chunk, 2 * (k - len(taken)))), order)]
        if not ordinals:
            break
        found = lookup(ordinals)
        for n in ordinals:
            record = found.get(str(n))
            if record and record["in_force"]:
                taken.append(record["record"])
                if len(taken) == k:
                    break
    return taken


def _shuffled(rng, size):
    """1..size in a random order, one at a time: position i swaps with a random j ≥ i, and only
    the swapped positions are remembered."""
    swapped: dict[int, int] = {}
    for i in range(size):
        j = rng.randrange(i, size)
        yield swapped.get(j, j) + 1
        swapped[j] = swapped.pop(i, i)


def draw(seed, purpose, population, k):
    """``k`` of ``population`` drawn reproducibly: the same seed, purpose and population (sorted,
    so the order it arrived in does not matter) give the same draw on any machine."""
    population = sorted(population)
    if k > len(population):
        raise RuleViolation(
            f"cannot draw {k} from {len(population)}",
            {purpose: [f"only {len(population)} to draw from"]},
        )
    return random.Random(f"{seed}|{purpose}").sample(population, k)
