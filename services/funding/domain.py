"""Funding aggregates: programmes and their regional quotas, projects through their approval
chain and public notice, and the ledger of what each project-year has been paid.

A programme is configured, not coded: its project kinds, who may apply for which, the approval
levels in order, the subsidy per project-year (or free amounts), what is not subsidised and the
quotas per region are the programme's data. Event attributes are plain JSON (dates as
``YYYY-MM-DD`` strings, money as integer fen). The two aggregates a payment must change besides
its own record — the region's quota and the project-year's ledger — are saved in the same atomic
``save()``, so two racing payments cannot both take the last slot or both pay one year: the
event store refuses the second version and the retried command sees the first one's result.
"""

from dataclasses import dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from kernel.dates import days_after
from kernel.errors import RuleViolation, ValidationFailed
from kernel.personal import Naming
from kernel.places import PlaceError, Unit
from services.funding.contract import APPLICANTS, LEVEL_KINDS
from services.funding.contract import PROJECT_KINDS as KINDS

# Fields of funding events that hold personal numbers (masked on the bus, in views and responses).
PERSONAL_FIELDS = ("account",)
# Event → the fields sealed under the data key of the expert paid, and erased with the expert
# (kernel.personal, kernel.erasure). A unit's account names no person: it stays as it is.
NAMING_FIELDS = {
    "FundDisbursed": Naming(("account",), person=lambda e: e.get("expert_id"), named_by="expert_id")
}

# Which unit level reviews a level of these well-known names (others must be configured).
KNOWN_LEVELS = {
    "applicant_unit": "county",  # 所在单位意见, recorded by the county body that files it
    "county_poverty_office": "county",  # 县扶贫办核审
    "county_association": "county",  # 县级科协
    "city_association": "city",  # 市科协 初审
    "provincial_association": "province",  # 省科协 核准
    "provincial_office": "province",
    "national_office": "national",
}


def _natural_id(kind, key) -> UUID:
    return uuid5(NAMESPACE_URL, f"kjfp:funding:{kind}:{key}")


def region_covers(outer, inner):
    """Is the region (or programme unit) ``inner`` inside, or equal to, ``outer``?"""
    return Unit.parse(outer).covers(Unit.parse(inner))


@dataclass
class Programme(Aggregate, created_event_name="ProgrammeConfigured"):
    """A funding programme (e.g. 山东省科协精准扶贫专家服务行动, or the 先行先试 pilot projects)."""

    name: str
    year: int
    until_year: int
    unit: str
    project_kinds: list[dict[str, Any]]  # [{code, applicants}]
    approval_levels: list[str]
    level_scopes: dict[str, str]  # approval level → the unit level that reviews it
    subsidy_fen_per_project_year: int | None  # None: free amounts
    subsidise_units: bool
    subsidise_fully_budget_funded: bool
    quotas: dict[str, int]  # region → places
    notice_days: int
    effective_date: str

    @classmethod
    def configure(cls, *, effective_date, **form):
        """A programme from its configuration, which must hang together (every fault names its
        field, 400); units and quota regions in their canonical form, and each approval level's
        reviewing unit level filled in from the well-known names."""
        form["until_year"] = form.get("until_year") or form["year"]
        scopes = form.get("level_scopes") or {}
        check_configuration({**form, "level_scopes": scopes})
        form["unit"] = str(Unit.parse(form["unit"]))
        form["quotas"] = {
            str(Unit.parse(region)): places for region, places in form["quotas"].items()
        }
        form["level_scopes"] = {
            level: scopes.get(level, KNOWN_LEVELS.get(level)) for level in form["approval_levels"]
        }
        return cls(effective_date=effective_date, **form)

    @property
    def configured_on(self) -> str:
        return self.effective_date

    @property
    def free_amounts(self):
        return self.subsidy_fen_per_project_year is None

    def open_quotas(self):
        """Each quota region's places, opened with the programme (saved with it)."""
        return [
            RegionQuota(programme_id=str(self.id), region=region, total=places)
            for region, places in sorted(self.quotas.items())
        ]

    def take_application(
        self,
        *,
        applicant,
        kind,
        region,
        unit,
        villages,
        content,
        year,
        until_year,
        amount_fen,
        expert,
        effective_date,
    ):
        """A project application (项目书) under this programme, refused unless the programme takes
        it: a kind it funds, from an applicant of a type that kind is open to (an individual: an
        expert registered then, ``expert`` being the registry's record), in its unit, in its years,
        with an amount only where amounts are free, and not before it was configured."""
        allowed = self.applicants_for(kind)
        if allowed is None:
            raise RuleViolation(
                f"{kind} is not a project kind of this programme",
                {"kind": ["not a project kind of this programme"]},
            )
        if applicant["type"] not in allowed:
            raise RuleViolation(
                f"{kind} projects of this programme are open to: {', '.join(allowed)}",
                {"applicant.type": [f"{kind} projects are open to: {', '.join(allowed)}"]},
            )
        if applicant["type"] == "individual":
            if expert is None:
                raise RuleViolation(
                    "an individual applicant must be a registered expert",
                    {"applicant.expert_id": ["not registered"]},
                )
            guard_not_revoked(expert, effective_date)
        if not region_covers(self.unit, region):
            raise RuleViolation(
                f"{region} is outside the programme's unit {self.unit}",
                {"region": [f"outside {self.unit}"]},
            )
        until_year = until_year or year
        if not (self.year <= year <= until_year <= self.until_year):
            raise RuleViolation(
                f"the programme runs {self.year}–{self.until_year}",
                {"year": [f"the programme runs {self.year}–{self.until_year}"]},
            )
        if self.free_amounts and amount_fen is None:
            raise RuleViolation(
                "this programme has free amounts: say how much a year the project asks",
                {"amount_fen": ["required: the programme has free amounts"]},
            )
        if not self.free_amounts and amount_fen is not None:
            raise RuleViolation(
                "this programme pays a fixed subsidy per project-year",
                {
                    "amount_fen": [
                        f"fixed by the programme: {self.subsidy_fen_per_project_year} fen"
                    ]
                },
            )
        if effective_date < self.configured_on:
            raise RuleViolation(
                "the programme was not yet configured then",
                {"effective_date": [f"before the programme ({self.configured_on})"]},
            )
        return Project(
            programme_id=str(self.id),
            applicant=applicant,
            kind=kind,
            region=region,
            unit=unit or str(Unit.parse(region).lineage[1]),
            villages=villages,
            content=content,
            year=year,
            until_year=until_year,
            amount_fen=amount_fen,
            approval_levels=self.approval_levels,
            quota_region=self.quota_region_for(region),
            no_subsidy_reason=self.no_subsidy_reason(applicant, kind),
            effective_date=effective_date,
        )

    def cap_fen(self, project):
        """What one year of ``project`` may be paid: the fixed subsidy, or the amount it asked."""
        return project.amount_fen if self.free_amounts else self.subsidy_fen_per_project_year

    def applicants_for(self, kind):
        for entry in self.project_kinds:
            if entry["code"] == kind:
                return entry["applicants"]
        return None

    def quota_region_for(self, region):
        """The quota a project in ``region`` draws on: the most specific quota region covering it
        (None when the programme has no quotas); a region no quota covers is refused."""
        if not self.quotas:
            return None
        covering = [q for q in self.quotas if region_covers(q, region)]
        if not covering:
            raise RuleViolation(
                f"{region} has no quota in this programme",
                {"region": ["no quota of this programme covers it"]},
            )
        return max(covering, key=lambda q: len(Unit.parse(q).path))

    def no_subsidy_reason(self, applicant, kind):
        """Why a project of this applicant and kind is not subsidised (None: it is)."""
        if applicant["type"] != "unit":
            return None
        if (
            applicant.get("fully_budget_funded")
            and kind == "popularisation"
            and not self.subsidise_fully_budget_funded
        ):
            return "a fully budget-funded unit's popularisation project is not subsidised again"
        if not self.subsidise_units:
            return "this programme does not subsidise units"
        return None


@dataclass
class Project(Aggregate, created_event_name="ProjectApplied"):
    """A project application (项目书) and its way through the approval chain and public notice."""

    programme_id: str
    applicant: dict[str, Any]
    kind: str
    region: str
    unit: str
    villages: list[str]
    content: str
    year: int
    until_year: int
    amount_fen: int | None
    approval_levels: list[str]
    quota_region: str | None
    no_subsidy_reason: str | None
    effective_date: str
    status: str = field(default="in_review", init=False)
    reviews: list[dict[str, Any]] = field(default_factory=list, init=False)
    approved_on: str | None = field(default=None, init=False)
    rejected_on: str | None = field(default=None, init=False)
    notice_start: str | None = field(default=None, init=False)
    notice_end: str | None = field(default=None, init=False)
    confirmed_on: str | None = field(default=None, init=False)
    # (originator version of each event a payment rests on), for tracing payments back
    trail: dict[str, Any] = field(
        default_factory=lambda: {
            "applied": 1,
            "reviews": [],
            "approved": None,
            "publicized": None,
            "confirmed": None,
        },
        init=False,
    )

    @property
    def applied_on(self) -> str:
        return self.effective_date

    @property
    def next_level(self):
        return self.approval_levels[len(self.reviews)] if self.status == "in_review" else None

    @property
    def last_act_on(self):
        return max(
            [self.applied_on]
            + [r["effective_date"] for r in self.reviews]
            + [d for d in (self.notice_start, self.confirmed_on) if d]
        )

    @property
    def effective(self):
        return self.status == "effective"

    def covers_year(self, year):
        return self.year <= year <= self.until_year

    def check_payable(self, year, effective_date):
        """A year's subsidy is paid only for an effective project, once it took effect, for one of
        its implementation years that has begun, and only if the project is subsidised at all."""
        if not self.effective:
            raise RuleViolation(
                f"the project is {self.status}: no payment before approval and publicity",
                {"project_id": [f"not effective ({self.status})"]},
            )
        if effective_date < self.confirmed_on:
            raise RuleViolation(
                "the project was not yet effective then",
                {"effective_date": [f"before the project took effect ({self.confirmed_on})"]},
            )
        if not self.covers_year(year):
            raise RuleViolation(
                f"the project runs {self.year}–{self.until_year}",
                {
                    "year": [
                        f"not an implementation year of the project ({self.year}–{self.until_year})"
                    ]
                },
            )
        if year > int(effective_date[:4]):
            raise RuleViolation(f"{year} has not begun", {"year": ["a year that has not begun"]})
        if self.no_subsidy_reason:
            raise RuleViolation(self.no_subsidy_reason, {"project_id": [self.no_subsidy_reason]})

    def check_payee(self, payee, account_hash, effective_date):
        """An individual's project is paid only into its expert's registered personal account
        (``account_hash``: the account's keyed hash), while the registration is in force; ``payee``
        is the registry's record of the expert (None for a unit's project)."""
        expert_id = self.applicant.get("expert_id")
        if not expert_id:
            return
        if payee is None or payee["expert_id"] != expert_id:
            raise RuleViolation(
                "the payee is not the project's expert", {"account": ["no registered payee"]}
            )
        if payee.get("erased"):
            raise RuleViolation(
                "the expert's personal data was erased: no registered account is left "
                "to check a payment against",
                {"expert_id": ["personal data erased"]},
            )
        guard_not_revoked(payee, effective_date)
        if not payee["bank_account_hash"] or payee["bank_account_hash"] != account_hash:
            raise RuleViolation(
                "subsidies are paid only into the expert's registered personal account",
                {"account": ["not the expert's registered account"]},
            )

    def disbursement(self, year, amount_fen, account, effective_date):
        """A payment of this project's subsidy for ``year`` into ``account``, with the versions of
        the events it rests on."""
        return Disbursement(
            project_id=str(self.id),
            programme_id=self.programme_id,
            year=year,
            amount_fen=amount_fen,
            account=account,
            expert_id=self.applicant.get("expert_id"),
            region=self.region,
            unit=self.unit,
            quota_region=self.quota_region,
            trail=self.trail,
            effective_date=effective_date,
        )

    def review(self, level, decision, comment, effective_date):
        if self.status != "in_review":
            raise RuleViolation(
                f"the project is {self.status}; its review is over", {"level": [self.status]}
            )
        if level != self.next_level:
            raise RuleViolation(
                f"the next level to review is {self.next_level}, not {level}",
                {"level": [f"the next level to review is {self.next_level}"]},
            )
        self._not_before(self.last_act_on, effective_date)
        self._reviewed(
            level=level, decision=decision, comment=comment, effective_date=effective_date
        )
        if decision == "reject":
            self._rejected(level=level, comment=comment, effective_date=effective_date)
        elif len(self.reviews) == len(self.approval_levels):
            self._approved(
                region=self.region, unit=self.unit, year=self.year, effective_date=effective_date
            )

    @event("ProjectReviewed")
    def _reviewed(self, level, decision, comment, effective_date):
        self.reviews.append(
            {
                "level": level,
                "decision": decision,
                "comment": comment,
                "effective_date": effective_date,
            }
        )
        self.trail["reviews"].append(self.version + 1)

    @event("ProjectRejected")
    def _rejected(self, level, comment, effective_date):
        self.status = "rejected"
        self.rejected_on = effective_date

    @event("ProjectApproved")
    def _approved(self, region, unit, year, effective_date):
        self.status = "approved"
        self.approved_on = effective_date
        self.trail["approved"] = self.version + 1

    def publicize(self, notice_days, effective_date):
        if self.status != "approved":
            raise RuleViolation(
                f"only an approved project is publicized; this one is {self.status}",
                {"project_id": [f"{self.status}, not approved"]},
            )
        self._not_before(self.approved_on, effective_date)
        self._publicized(
            notice_start=effective_date,
            notice_end=days_after(effective_date, notice_days - 1),
            notice_days=notice_days,
            effective_date=effective_date,
        )

    @event("ProjectPublicized")
    def _publicized(self, notice_start, notice_end, notice_days, effective_date):
        self.status = "publicized"
        self.notice_start, self.notice_end = notice_start, notice_end
        self.trail["publicized"] = self.version + 1

    def confirm(self, effective_date):
        if self.status != "publicized":
            raise RuleViolation(
                f"only a publicized project is confirmed; this one is {self.status}",
                {"project_id": [f"{self.status}, not publicized"]},
            )
        if effective_date <= self.notice_end:
            raise RuleViolation(
                f"the public notice runs until {self.notice_end}",
                {"effective_date": [f"the public notice runs until {self.notice_end}"]},
            )
        self._confirmed(region=self.region, unit=self.unit, effective_date=effective_date)

    @event("ProjectConfirmed")
    def _confirmed(self, region, unit, effective_date):
        self.status = "effective"
        self.confirmed_on = effective_date
        self.trail["confirmed"] = self.version + 1

    @staticmethod
    def _not_before(earlier, effective_date):
        if effective_date < earlier:
            raise RuleViolation(
                f"the project's previous step took effect on {earlier}",
                {"effective_date": [f"before the previous step ({earlier})"]},
            )


@dataclass
class RegionQuota(Aggregate, created_event_name="QuotaOpened"):
    """The places (名额) of one region in one programme. A project takes a place with its first
    payment; its later years keep it."""

    programme_id: str
    region: str
    total: int
    holders: list[str] = field(default_factory=list, init=False)

    @staticmethod
    def create_id(programme_id, region):
        return _natural_id("quota", f"{programme_id}:{region}")

    def holds(self, project_id):
        return project_id in self.holders

    def take(self, project_id, effective_date):
        if self.holds(project_id):
            return
        if len(self.holders) >= self.total:
            raise RuleViolation(
                f"all {self.total} places of {self.region} are taken",
                {"quota": [f"{self.region}: all {self.total} places are taken"]},
            )
        self._taken(project_id=project_id, effective_date=effective_date)

    @event("QuotaPlaceTaken")
    def _taken(self, project_id, effective_date):
        self.holders.append(project_id)


@dataclass
class ProjectYear(Aggregate, created_event_name="ProjectYearOpened"):
    """What one project has been paid for one implementation year, against the year's cap."""

    project_id: str
    year: int
    cap_fen: int | None
    paid_fen: int = field(default=0, init=False)
    disbursements: list[str] = field(default_factory=list, init=False)

    @staticmethod
    def create_id(project_id, year):
        return _natural_id("project-year", f"{project_id}:{year}")

    def record_disbursement(self, disbursement_id, amount_fen, effective_date):
        if self.cap_fen is not None and self.paid_fen + amount_fen > self.cap_fen:
            already = f"; {self.paid_fen} fen already paid" if self.paid_fen else ""
            raise RuleViolation(
                f"{self.year}'s subsidy for this project is at most {self.cap_fen} fen{already}",
                {"amount_fen": [f"exceeds the year's cap of {self.cap_fen} fen{already}"]},
            )
        self._paid(
            disbursement_id=disbursement_id, amount_fen=amount_fen, effective_date=effective_date
        )

    @event(
        "ProjectYearPaid"
    )  # the name stored in existing logs; the glossary's word is disbursement
    def _paid(self, disbursement_id, amount_fen, effective_date):
        self.paid_fen += amount_fen
        self.disbursements.append(disbursement_id)


@dataclass
class Disbursement(Aggregate, created_event_name="FundDisbursed"):
    """One payment (FundDisbursed): a project-year's subsidy into the payee's account, with the
    versions of the project's events it rests on (approvals, publicity, confirmation)."""

    project_id: str
    programme_id: str
    year: int
    amount_fen: int
    account: str
    expert_id: str | None
    region: str
    unit: str
    quota_region: str | None
    trail: dict[str, Any]
    effective_date: str

    @property
    def disbursed_on(self) -> str:
        return self.effective_date


def guard_not_revoked(payee, effective_date):
    """An expert is paid (or applies) only while the registration is in force."""
    if payee["registered_on"] > effective_date:
        raise RuleViolation(
            "the expert was not yet registered then", {"expert_id": ["not yet registered"]}
        )
    if payee["revoked_on"] is not None and payee["revoked_on"] <= effective_date:
        raise RuleViolation("the expert's registration is revoked", {"expert_id": ["revoked"]})


def check_configuration(form):
    """A programme's configuration must hang together; every fault names its field (400)."""
    problems: dict[str, list[str]] = {}

    def fault(field, message):
        problems.setdefault(field, []).append(message)

    unit = form["unit"]
    try:
        unit_kind = Unit.parse(unit).kind
    except PlaceError as bad:
        unit_kind = None
        fault("unit", str(bad))
    if unit_kind not in (None, "national", "province"):
        fault("unit", "a programme belongs to national or to a province")
    if form["until_year"] < form["year"]:
        fault("until_year", "before year")
    codes = [k["code"] for k in form["project_kinds"]]
    if not codes or len(set(codes)) != len(codes) or not set(codes) <= set(KINDS):
        fault("project_kinds", f"distinct codes among {', '.join(KINDS)}")
    for entry in form["project_kinds"]:
        if not entry["applicants"] or not set(entry["applicants"]) <= set(APPLICANTS):
            fault("project_kinds", f"{entry['code']}: applicants among {', '.join(APPLICANTS)}")
    levels = form["approval_levels"]
    if not levels or len(set(levels)) != len(levels):
        fault("approval_levels", "at least one level, each once")
    for level in levels:
        if form["level_scopes"].get(level, KNOWN_LEVELS.get(level)) not in LEVEL_KINDS:
            fault(
                "level_scopes",
                f"{level}: say which unit level reviews it ({', '.join(LEVEL_KINDS)})",
            )
    for level in set(form["level_scopes"]) - set(levels):
        fault("level_scopes", f"{level}: not one of the approval levels")
    for region, places in form["quotas"].items():
        try:
            kind = Unit.parse(region).kind
        except PlaceError as bad:
            fault("quotas", str(bad))
            continue
        if kind not in ("province", "city", "county"):
            fault("quotas", f"{region}: a quota belongs to a province, city or county")
        elif unit_kind and not region_covers(unit, region):
            fault("quotas", f"{region}: outside the programme's unit {unit}")
        if not isinstance(places, int) or isinstance(places, bool) or places < 0:
            fault("quotas", f"{region}: a number of places (0 or more)")
    subsidy = form["subsidy_fen_per_project_year"]
    if subsidy is not None and (not isinstance(subsidy, int) or subsidy <= 0):
        fault("subsidy_fen_per_project_year", "a positive number of fen, or null for free amounts")
    if form["notice_days"] < 1:
        fault("notice_days", "at least one day")
    if problems:
        raise ValidationFailed("the programme's configuration does not hang together", problems)
