"""Awards aggregates (表扬嘉奖, §001 §002 §003): rounds with their quotas, each unit's quota in a
round, nominations with their public notice and objections, and commendations (past years' lists
and conferred awards) that feed the next rounds' "previously commended" rule.

Each command method guards its rule, then records one public event. Dates are ``YYYY-MM-DD``
strings and every time rule compares effective dates, so the 2020 round can be recorded as it
happened. The eligibility rules are plain functions of the evidence the service gathered (hours
from the registry, rectification state from supervision, commendations from this service).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from kernel.dates import days_after
from kernel.errors import Conflict, RuleViolation
from kernel.personal import Naming
from kernel.pii import mask
from kernel.places import Unit

# An individual nominee's ID number (from the form) is masked on the bus, in views and responses.
PERSONAL_FIELDS = ("id_number",)
# What names an expert nominated or commended: sealed under the expert's data key, and erased
# with the expert (kernel.personal, kernel.erasure). A team's leader is no registered expert.
NOMINEE_NAMING = ("name", "id_number", "contact")


def nominated_expert(state):
    """The registered expert a nomination or commendation names (None: a team's or a unit's)."""
    kind, _, key = state["nominee"].partition(":")
    return key if kind == "expert" and key not in ("", "None") else None


NAMING_FIELDS = {
    "NominationSubmitted": Naming(
        NOMINEE_NAMING, within=("form",), person=nominated_expert, named_by="expert_id"
    ),
    "CommendationRecorded": Naming(
        ("name",), within=(), person=nominated_expert, named_by="expert_id"
    ),
}

CATEGORIES = ("organising_unit", "team", "individual")
UNIT_CLASSES = ("key_province", "other_province", "society")
# §001 第六条(三)2: ≥800 cumulative hours in the year, or ≥50% of the year's time. Half of the
# year's time is taken as half of the ~250 statutory working days: 125 distinct days with a log.
DEFAULT_ELIGIBILITY = {"min_hours": 800, "min_days": 125}


def _natural_id(kind, key) -> UUID:
    return uuid5(NAMESPACE_URL, f"kjfp:awards:{kind}:{key}")


def nominee_key(category, unit, form):
    """Who a nomination is for, as compared across units and years: an individual by expert id,
    a team by its unit and name, an organising unit by itself."""
    if category == "individual":
        return f"expert:{form['expert_id']}"
    if category == "team":
        return f"team:{unit}:{' '.join(form['team_name'].split())}"
    return f"unit:{unit}"


def unit_class(unit, key_provinces):
    unit = Unit.parse(unit)
    if unit.kind == "society":
        return "society"
    if unit.kind == "province":
        return "key_province" if unit.province in key_provinces else "other_province"
    raise RuleViolation(
        f"{unit} does not nominate: provinces and national societies do",
        {"unit": ["a province or a national society"]},
    )


@dataclass
class AwardRound(Aggregate, created_event_name="AwardRoundConfigured"):
    """One year's award round: categories, national totals, per-unit quotas, notice and deadline."""

    year: int
    name: str
    categories: list[str]
    national_totals: dict[str, int]  # category → awards
    key_provinces: list[str]
    quotas: dict[str, dict[str, dict[str, int]]]  # unit class → category → {min, max}
    notice_days: int
    deadline: str
    prior_commendation_since: int | None
    eligibility: dict[str, int] | None  # as recorded (None: the defaults); read: with the defaults
    effective_date: str
    status: str = field(default="open", init=False)
    notice_start: str | None = field(default=None, init=False)
    notice_end: str | None = field(default=None, init=False)
    commended_on: str | None = field(default=None, init=False)
    # expert id → the national office's "especially outstanding" justification
    endorsements: dict[str, dict[str, str]] = field(default_factory=dict, init=False)
    # nomination id → {unit, category}, in the order they were taken
    nominations: dict[str, dict[str, str]] = field(default_factory=dict, init=False)

    @staticmethod
    def create_id(year):
        return _natural_id("round", year)

    def __post_init__(self):
        if self.notice_days < 7:
            raise RuleViolation(
                "public notice lasts at least one week (§002 三(五))",
                {"notice_days": ["at least 7"]},
            )
        if set(self.national_totals) != set(self.categories):
            raise RuleViolation(
                "every category needs a national total, and only those",
                {"national_totals": [f"keys must be {', '.join(sorted(self.categories))}"]},
            )
        for klass, limits in self.quotas.items():
            for category, limit in limits.items():
                if category not in self.categories:
                    raise RuleViolation(
                        f"{category} is not a category of the round",
                        {f"quotas.{klass}": [f"{category}: not a category of the round"]},
                    )
                if limit["min"] > limit["max"]:
                    raise RuleViolation(
                        "a quota's min exceeds its max",
                        {f"quotas.{klass}.{category}": ["min exceeds max"]},
                    )
        if self.prior_commendation_since is not None and self.prior_commendation_since >= self.year:
            raise RuleViolation(
                "prior commendations are from years before the round",
                {"prior_commendation_since": [f"before {self.year}"]},
            )
        self.eligibility = {**DEFAULT_ELIGIBILITY, **(self.eligibility or {})}

    @property
    def configured_on(self) -> str:
        return self.effective_date

    def taken(self, unit, category):
        return [
            nid
            for nid, n in self.nominations.items()
            if n["unit"] == unit and n["category"] == category
        ]

    def take_quota(self, unit, category, nomination_id):
        """A nomination takes a place in its unit's quota. The round is saved with the nomination,
        so two racing nominations cannot both take the last place, and none slips past the list
        being published: the second save conflicts on the round's version and is re-run."""
        limit = self.quota(unit, category)
        taken = self.taken(unit, category)
        if len(taken) >= limit["max"]:
            raise RuleViolation(
                f"{unit} may nominate at most {limit['max']} {category} in the {self.year} round; "
                f"{len(taken)} already nominated",
                {"category": [f"quota of {limit['max']} used up for {unit}"]},
            )
        self._quota_taken(unit=unit, category=category, nomination_id=nomination_id)

    @event("QuotaTaken")
    def _quota_taken(self, unit, category, nomination_id):
        self.nominations[nomination_id] = {"unit": unit, "category": category}

    def quota(self, unit, category):
        """{min, max} for a unit's nominations in a category (max 0 where the round sets none)."""
        return self.quotas.get(unit_class(unit, self.key_provinces), {}).get(
            category, {"min": 0, "max": 0}
        )

    def guard_nominating(self, category, effective_date):
        if self.status != "open":
            raise RuleViolation(
                f"the round's list was published on {self.notice_start}; nominations are closed",
                {"round_id": ["nominations closed"]},
            )
        if effective_date > self.deadline:
            raise RuleViolation(
                f"the deadline for material was {self.deadline}",
                {"effective_date": [f"after the deadline {self.deadline}"]},
            )
        if effective_date < self.configured_on:
            raise RuleViolation(
                f"the round was configured on {self.configured_on}",
                {"effective_date": ["before the round was configured"]},
            )
        if category not in self.categories:
            raise RuleViolation(
                f"the {self.year} round has no category {category}",
                {"category": [f"one of {', '.join(self.categories)}"]},
            )

    def endorse(self, expert_id, justification, effective_date):
        if self.status != "open":
            raise RuleViolation(
                "endorsements are made before the list is published", {"round_id": ["published"]}
            )
        self._endorsed(
            expert_id=expert_id, justification=justification, effective_date=effective_date
        )

    @event("OutstandingResultsEndorsed")
    def _endorsed(self, expert_id, justification, effective_date):
        self.endorsements[expert_id] = {
            "justification": justification,
            "endorsed_on": effective_date,
        }

    def publicize(self, effective_date):
        if self.status != "open":
            raise Conflict(
                f"the list was already published on {self.notice_start}",
                {"round_id": ["already published"]},
            )
        if effective_date < self.configured_on:
            raise RuleViolation(
                f"the round was configured on {self.configured_on}",
                {"effective_date": ["before the round was configured"]},
            )
        self._publicized(
            notice_start=effective_date, notice_end=days_after(effective_date, self.notice_days)
        )

    @event("AwardListPublicized")
    def _publicized(self, notice_start, notice_end):
        self.status = "publicized"
        self.notice_start, self.notice_end = notice_start, notice_end

    def guard_commending(self, effective_date):
        if self.status == "open":
            raise RuleViolation(
                "the list has not been published for public notice", {"round_id": ["not published"]}
            )
        if self.status == "commended":
            raise Conflict(
                f"the round was commended on {self.commended_on}",
                {"round_id": ["already commended"]},
            )
        if effective_date < self.notice_end:
            day = (
                date.fromisoformat(effective_date) - date.fromisoformat(str(self.notice_start))
            ).days
            raise RuleViolation(
                f"the public notice runs {self.notice_days} days from {self.notice_start}; "
                f"{effective_date} is day {day}, commendation from {self.notice_end}",
                {"effective_date": [f"notice period not over (ends {self.notice_end})"]},
            )

    def commend(self, conferred, effective_date):
        self.guard_commending(effective_date)
        for category, count in conferred.items():
            if count > self.national_totals.get(category, 0):
                raise RuleViolation(
                    f"{count} {category} awards exceed the national total of "
                    f"{self.national_totals.get(category, 0)}",
                    {
                        "nomination_ids": [
                            f"{category}: at most {self.national_totals.get(category, 0)}"
                        ]
                    },
                )
        self._commended(conferred=conferred, effective_date=effective_date)

    @event("AwardRoundCommended")
    def _commended(self, conferred, effective_date):
        self.status = "commended"
        self.commended_on = effective_date


# Which nominations each act applies to.
ACTIVE = ("submitted", "publicized")


@dataclass
class Nomination(Aggregate, created_event_name="NominationSubmitted"):
    """A nomination (推荐) by a province or national society, with its form, the eligibility
    checks it passed when submitted, its public notice, objections, and its award."""

    round_id: str
    nominee: str
    category: str
    unit: str
    form: dict[str, Any]
    checks: list[dict[str, Any]]
    effective_date: str
    status: str = field(default="submitted", init=False)
    notice_start: str | None = field(default=None, init=False)
    notice_end: str | None = field(default=None, init=False)
    objections: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    conferred_on: str | None = field(default=None, init=False)
    revoked: dict[str, str] | None = field(default=None, init=False)

    @staticmethod
    def create_id(round_id, nominee):
        return _natural_id("nomination", f"{round_id}:{nominee}")

    @property
    def submitted_on(self) -> str:
        return self.effective_date

    def publicize(self, notice_start, notice_end):
        self._publicized(round_id=self.round_id, notice_start=notice_start, notice_end=notice_end)

    @event("NominationPublicized")
    def _publicized(self, round_id, notice_start, notice_end):
        self.status = "publicized"
        self.notice_start, self.notice_end = notice_start, notice_end

    def raise_objection(self, objection_id, reason, raised_by, effective_date):
        if self.status != "publicized":
            raise RuleViolation(
                f"objections are raised against a nomination under public notice; this one is {self.status}",
                {"nomination_id": [self.status]},
            )
        if not self.notice_start <= effective_date < self.notice_end:
            raise RuleViolation(
                f"the public notice runs from {self.notice_start} until before {self.notice_end}",
                {"effective_date": ["outside the public notice"]},
            )
        self._objected(
            objection_id=objection_id,
            reason=reason,
            raised_by=raised_by,
            effective_date=effective_date,
        )

    @event("ObjectionRaised")
    def _objected(self, objection_id, reason, raised_by, effective_date):
        self.objections[objection_id] = {
            "reason": reason,
            "raised_by": raised_by,
            "raised_on": effective_date,
            "resolved_on": None,
            "upheld": None,
            "comment": None,
        }

    def resolve_objection(self, objection_id, upheld, comment, effective_date):
        objection = self.objections.get(objection_id)
        if objection is None:
            raise RuleViolation(
                f"no objection {objection_id} against this nomination",
                {"objection_id": ["not found"]},
            )
        if objection["resolved_on"] is not None:
            raise Conflict(
                f"the objection was resolved on {objection['resolved_on']}",
                {"objection_id": ["resolved"]},
            )
        if effective_date < objection["raised_on"]:
            raise RuleViolation(
                "an objection is resolved after it is raised",
                {"effective_date": [f"before {objection['raised_on']}"]},
            )
        self._resolved(
            objection_id=objection_id, upheld=upheld, comment=comment, effective_date=effective_date
        )
        if upheld and self.status in ACTIVE:
            self._withdrawn(
                round_id=self.round_id,
                reason=f"objection upheld: {comment}",
                effective_date=effective_date,
            )

    @event("ObjectionResolved")
    def _resolved(self, objection_id, upheld, comment, effective_date):
        self.objections[objection_id].update(
            resolved_on=effective_date, upheld=upheld, comment=comment
        )

    @event("NominationWithdrawn")
    def _withdrawn(self, round_id, reason, effective_date):
        self.status = "withdrawn"

    def unresolved_objections(self):
        return [oid for oid, o in self.objections.items() if o["resolved_on"] is None]

    def confer(self, year, effective_date):
        self._conferred(
            round_id=self.round_id,
            year=year,
            category=self.category,
            unit=self.unit,
            nominee=self.nominee,
            effective_date=effective_date,
        )

    @event("AwardConferred")
    def _conferred(self, round_id, year, category, unit, nominee, effective_date):
        self.status = "conferred"
        self.conferred_on = effective_date

    def revoke(self, reason, effective_date):
        if self.status in ("withdrawn", "revoked"):
            raise Conflict(
                f"the nomination is already {self.status}", {"nomination_id": [self.status]}
            )
        if effective_date < (self.conferred_on or self.submitted_on):
            raise RuleViolation(
                "a revocation cannot precede what it revokes",
                {"effective_date": [f"before {self.conferred_on or self.submitted_on}"]},
            )
        self._revoked(
            round_id=self.round_id,
            nominee=self.nominee,
            was=self.status,
            reason=reason,
            effective_date=effective_date,
        )

    @event("AwardRevoked")  # the name stored in existing logs, for a nomination's revocation
    def _revoked(self, round_id, nominee, was, reason, effective_date):
        self.revoked = {"was": was, "reason": reason, "revoked_on": effective_date}
        self.status = "revoked"


@dataclass
class Commendation(Aggregate, created_event_name="CommendationRecorded"):
    """One nominee commended in one year: entered from a past year's list, or recorded when a
    round confers its awards. Revoked commendations stay in the log and stop counting."""

    nominee: str
    year: int
    category: str
    unit: str
    name: str
    source: str  # "record" (a past list) or the nomination id of a conferred award
    effective_date: str
    revoked_on: str | None = field(default=None, init=False)

    @staticmethod
    def create_id(nominee, year):
        return _natural_id("commendation", f"{nominee}:{year}")

    @property
    def recorded_on(self) -> str:
        return self.effective_date

    def revoke(self, reason, effective_date):
        self._revoked(
            nominee=self.nominee, year=self.year, reason=reason, effective_date=effective_date
        )

    @event("CommendationRevoked")
    def _revoked(self, nominee, year, reason, effective_date):
        self.revoked_on = effective_date


# -- eligibility ------------------------------------------------------------------------------
def hours_check(award_round, expert_id, hours):
    """§001 第六条(三)2 from the registry's service logs of the round's year."""
    rules = award_round.eligibility
    endorsed = award_round.endorsements.get(expert_id)
    passed_by = (
        "hours"
        if hours["hours"] >= rules["min_hours"]
        else "days"
        if hours["days"] >= rules["min_days"]
        else "especially_outstanding"
        if endorsed
        else None
    )
    return {
        "rule": "service_time",
        "passed": passed_by is not None,
        "evidence": {
            "year": hours["year"],
            "hours": hours["hours"],
            "days": hours["days"],
            "entries": hours["entries"],
            "min_hours": rules["min_hours"],
            "min_days": rules["min_days"],
            "especially_outstanding": endorsed,
            "passed_by": passed_by,
            "source": "registry service logs",
        },
    }


def prior_commendation_check(award_round, commendations):
    """Nominees come from those commended since the configured year (§003), before this round."""
    since = award_round.prior_commendation_since
    found = [
        {"year": c.year, "category": c.category, "source": c.source}
        for c in commendations
        if c.revoked_on is None
    ]
    return {
        "rule": "prior_commendation",
        "passed": since is None or bool(found),
        "evidence": {"since": since, "commendations": found},
    }


def rectification_check(summary, as_of):
    """§000 三(四): no overdue, unverified rectification item (the unit's and its sub-units')."""
    overdue = summary["overdue"]
    return {
        "rule": "no_overdue_rectification",
        "passed": overdue == 0,
        "evidence": {
            "as_of": as_of,
            "overdue": overdue,
            "open": summary["open"],
            "verified": summary["verified"],
            "units": [u for u in summary.get("units", []) if u["overdue"]],
            "positions": summary.get("positions", {}),
            "source": "supervision rectification tracking",
        },
    }


def why_not(check):
    """A failed check in words, for the refusal's details."""
    e = check["evidence"]
    if check["rule"] == "service_time":
        return (
            f"service_time: {e['hours']:g} hours on {e['days']} days in {e['year']}; needs "
            f"{e['min_hours']} hours, {e['min_days']} days, or an endorsed especially outstanding record"
        )
    if check["rule"] == "prior_commendation":
        return f"prior_commendation: not commended since {e['since']}"
    return f"no_overdue_rectification: {e['overdue']} rectification item(s) overdue and unverified as of {e['as_of']}"


def refuse_unless_eligible(checks):
    failed = [c for c in checks if not c["passed"]]
    if failed:
        raise RuleViolation(
            "the nominee does not meet " + ", ".join(c["rule"] for c in failed),
            {"eligibility": [why_not(c) for c in failed]},
        )


def registered_nominee(expert, unit, form):
    """What an individual nomination records of its expert, who must be registered (``expert``:
    the registry's record, None if not), not revoked and credited to the nominating unit; the
    form's ID number (if given) must be the registered one."""
    if expert is None:
        raise RuleViolation(
            f"no registered expert with id {form['expert_id']}", {"expert_id": ["not registered"]}
        )
    if expert["revoked_on"] is not None:
        raise RuleViolation("the expert's registration is revoked", {"expert_id": ["revoked"]})
    if expert.get("erased"):
        raise RuleViolation(
            "the expert's personal data was erased: there is no one left to nominate",
            {"expert_id": ["personal data erased"]},
        )
    if expert["unit"] != unit:
        raise RuleViolation(
            f"the expert is credited to {expert['unit']}, not {unit}",
            {"expert_id": [f"credited to {expert['unit']}"]},
        )
    if form.get("id_number") and mask(form["id_number"]) != expert["id_number"]:
        raise RuleViolation(
            "the ID number is not the registered expert's", {"id_number": ["does not match"]}
        )
    return {
        "name": expert["name"],
        "gender": expert["gender"],
        "title": expert["title"],
        "employer": expert["employer"],
        "contact": expert["phone"],
    }
