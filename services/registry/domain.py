"""Registry aggregates. Each command method records one public event and guards its invariant.

Event attributes are plain JSON values (dates as ``YYYY-MM-DD`` strings) so that the same
payload is stored, projected and published. The fields that name a person (``NAMING_FIELDS``)
are sealed inside events under the record's own data key (kernel.personal), so that erasing the
person destroys them and nothing else; the event store encrypts every event's state at rest, and
everything outside masks personal numbers.
"""

from dataclasses import dataclass, field
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, datetime_now_with_tzinfo, event
from eventsourcing.utils import get_topic

from kernel.errors import Conflict, RuleViolation
from kernel.personal import ERASED
from services.registry.contract import (  # noqa: F401 - METRICS re-exported
    ASSOCIATION_CORRECTABLE,
    EXPERT_CORRECTABLE,
    HOUSEHOLD_CORRECTABLE,
    METRIC_LIMITS,
    METRICS,
    bounded_figures,
)

# Fields of registry events that hold personal numbers (masked on the bus and in views).
PERSONAL_FIELDS = ("id_number", "head_id_number", "bank_account")
EXPERT_NAMING = ("name", "id_number", "phone", "email", "address", "bank_account")
HOUSEHOLD_NAMING = ("head_name", "head_id_number")
# Event → the fields sealed under the person's data key, and erased with it (kernel.personal).
NAMING_FIELDS = {
    "ExpertRegistered": EXPERT_NAMING,
    "ExpertCorrected": EXPERT_NAMING,
    "HouseholdRegistered": HOUSEHOLD_NAMING,
    "HouseholdCorrected": HOUSEHOLD_NAMING,
}


def _natural_id(kind, key) -> UUID:
    return uuid5(NAMESPACE_URL, f"kjfp:registry:{kind}:{key}")


@dataclass
class Expert(Aggregate, created_event_name="ExpertRegistered"):
    """A real-name registered S&T expert (科技专家), credited to one unit for the 两数."""

    name: str
    gender: str
    id_number: str
    id_hash: str
    employer: str
    title: str
    specialty: str
    phone: str
    email: str
    address: str
    unit: str
    location: str
    bank_account: str
    political_status: str | None
    effective_date: str
    revoked_on: str | None = field(default=None, init=False)
    erased: bool = field(default=False, init=False)
    # agreement id → [start, end]
    agreements: dict[str, list[str]] = field(default_factory=dict, init=False)

    CORRECTABLE = EXPERT_CORRECTABLE

    @property
    def registered_on(self) -> str:
        return self.effective_date

    @property
    def active(self):
        return self.revoked_on is None

    def revoke(self, reason, effective_date):
        _guard_revocation(self, "expert", effective_date)
        self._revoked(reason=reason, effective_date=effective_date)

    @event("ExpertRevoked")
    def _revoked(self, reason, effective_date):
        self.revoked_on = effective_date

    def correct(self, changes, reason, effective_date):
        _guard_correction(self, "expert", changes, effective_date)
        _guard_erased_naming(self, "expert", changes, EXPERT_NAMING)
        self._corrected(changes=changes, reason=reason, effective_date=effective_date)

    @event("ExpertCorrected")
    def _corrected(self, changes, reason, effective_date):
        for name, value in changes.items():
            setattr(self, name, value)

    def erase(self, reason):
        _guard_erasure(self, "expert")
        self._erased(reason=reason)

    @event("ExpertErased")
    def _erased(self, reason):
        _erase(self, EXPERT_NAMING)

    def take_agreement(self, agreement_id, start, end):
        self._agreement_taken(agreement_id=agreement_id, start=start, end=end)

    @event("ExpertAgreementTaken")
    def _agreement_taken(self, agreement_id, start, end):
        self.agreements[agreement_id] = [start, end]

    def covers(self, day):
        """Is ``day`` inside the span of one of this expert's pairing agreements?"""
        return any(start <= day <= end for start, end in self.agreements.values())


def _guard_revocation(record, what, effective_date):
    if record.revoked_on is not None:
        raise Conflict(f"the {what} is already revoked", {"effective_date": ["already revoked"]})
    if effective_date < record.registered_on:
        raise RuleViolation(
            f"a revocation cannot take effect before the {what} was registered",
            {"effective_date": [f"before the registration ({record.registered_on})"]},
        )


def _guard_erasure(record, what):
    if getattr(record, "erased", False):
        raise Conflict(f"the {what}'s personal data is already erased", {"id": ["already erased"]})


def _guard_erased_naming(record, what, changes, naming):
    named = sorted(set(changes) & set(naming))
    if named and getattr(record, "erased", False):
        raise RuleViolation(
            f"the {what}'s personal data was erased: it cannot be set again",
            {name: ["erased"] for name in named},
        )


def _erase(record, naming):
    """The record as it reads once its data key is destroyed (its events decode the same way)."""
    for name in naming:
        setattr(record, name, ERASED)
    record.erased = True


def _guard_correction(record, what, changes, effective_date):
    if record.revoked_on is not None:
        raise RuleViolation(
            f"a revoked {what} cannot be corrected", {"effective_date": ["revoked"]}
        )
    unknown = sorted(set(changes) - set(record.CORRECTABLE))
    if unknown:
        raise RuleViolation(
            f"these fields of a {what} cannot be corrected (revoke and register anew)",
            {name: ["not correctable"] for name in unknown},
        )
    if not changes:
        raise RuleViolation("a correction must change something", {"changes": ["empty"]})
    if effective_date < record.registered_on:
        raise RuleViolation(
            f"a correction cannot take effect before the {what} was registered",
            {"effective_date": [f"before the registration ({record.registered_on})"]},
        )


@dataclass
class IdNumberClaim(Aggregate, created_event_name="IdNumberClaimed"):
    """One per ID number nationally. Saved atomically with the Expert it names, so the event
    store's uniqueness of (originator id, version) refuses a second registration even when
    two arrive at the same moment on different replicas."""

    id_hash: str
    expert_id: str

    @staticmethod
    def create_id(id_hash):
        return _natural_id("id-number", id_hash)

    @event("IdNumberReclaimed")
    def reassign(self, expert_id):
        """A person whose registration was revoked registers anew (e.g. under the right unit)."""
        self.expert_id = expert_id


@dataclass
class Household(Aggregate, created_event_name="HouseholdRegistered"):
    """A 建档立卡 poor household, identified by its register code (one aggregate per code)."""

    code: str
    head_name: str
    head_id_number: str
    head_id_hash: str
    people: int
    location: str
    effective_date: str
    revoked_on: str | None = field(default=None, init=False)
    pairings: dict[str, str] = field(default_factory=dict, init=False)  # agreement id → expert id
    paired_since: str | None = field(default=None, init=False)
    lifted_on: str | None = field(default=None, init=False)
    lifted_people: int | None = field(default=None, init=False)
    erased: bool = field(default=False, init=False)

    CORRECTABLE = HOUSEHOLD_CORRECTABLE

    @staticmethod
    def create_id(code):
        return _natural_id("household", code)

    @property
    def registered_on(self) -> str:
        return self.effective_date

    @classmethod
    def registration_event(cls, **fields):
        """The HouseholdRegistered event a new household records, made without building the
        aggregate: bulk import writes tens of thousands of these, and building each aggregate
        first costs ~4x as much. Replaying the event gives the same aggregate."""
        return cls.HouseholdRegistered(  # type: ignore[attr-defined]  # the class @event made
            originator_id=cls.create_id(fields["code"]),
            originator_version=1,
            timestamp=datetime_now_with_tzinfo(),
            originator_topic=get_topic(cls),
            **fields,
        )

    def revoke(self, reason, effective_date):
        _guard_revocation(self, "household", effective_date)
        self._revoked(code=self.code, reason=reason, effective_date=effective_date)

    @event("HouseholdRevoked")
    def _revoked(self, code, reason, effective_date):
        self.revoked_on = effective_date

    def correct(self, changes, reason, effective_date):
        _guard_correction(self, "household", changes, effective_date)
        if self.lifted_on and changes.get("people", self.people) < self.lifted_people:
            raise RuleViolation(
                "fewer people than were lifted out of poverty",
                {"people": [f"less than the {self.lifted_people} lifted out"]},
            )
        _guard_erased_naming(self, "household", changes, HOUSEHOLD_NAMING)
        self._corrected(
            code=self.code, changes=changes, reason=reason, effective_date=effective_date
        )

    @event("HouseholdCorrected")
    def _corrected(self, code, changes, reason, effective_date):
        for name, value in changes.items():
            setattr(self, name, value)

    def erase(self, reason):
        _guard_erasure(self, "household")
        self._erased(code=self.code, reason=reason)

    @event("HouseholdErased")
    def _erased(self, code, reason):
        _erase(self, HOUSEHOLD_NAMING)

    def lift_out(self, date, people, effective_date):
        if self.revoked_on is not None:
            raise RuleViolation(f"household {self.code} is revoked", {"code": ["revoked"]})
        if self.lifted_on is not None:
            raise Conflict(
                f"household {self.code} was already lifted out on {self.lifted_on}",
                {"code": ["already lifted out"]},
            )
        if self.paired_since is None or date < self.paired_since:
            raise RuleViolation(
                f"household {self.code} was not paired on {date}",
                {"date": ["the household was not paired then"]},
            )
        if people > self.people:
            raise RuleViolation(
                f"household {self.code} has {self.people} people",
                {"people": [f"more than the household's {self.people}"]},
            )
        self._lifted_out(code=self.code, date=date, people=people, effective_date=effective_date)

    @event("HouseholdLiftedOut")
    def _lifted_out(self, code, date, people, effective_date):
        self.lifted_on = date
        self.lifted_people = people

    def pair(self, agreement_id, expert_id, unit, start, end, effective_date):
        if self.revoked_on is not None:
            raise RuleViolation(
                f"household {self.code} is revoked and cannot be paired",
                {"household_codes": [f"{self.code}: revoked"]},
            )
        if effective_date < self.registered_on:
            raise RuleViolation(
                f"household {self.code} was not yet registered on {effective_date}",
                {"effective_date": [f"before {self.code} was registered"]},
            )
        if expert_id in self.pairings.values():
            raise Conflict(
                f"household {self.code} is already paired with this expert",
                {"household_codes": [f"{self.code}: already paired with this expert"]},
            )
        self._paired(
            code=self.code,
            agreement_id=agreement_id,
            expert_id=expert_id,
            unit=unit,
            start=start,
            end=end,
            effective_date=effective_date,
        )

    @event("HouseholdPaired")
    def _paired(self, code, agreement_id, expert_id, unit, start, end, effective_date):
        self.pairings[agreement_id] = expert_id
        self.paired_since = min(self.paired_since or effective_date, effective_date)


@dataclass
class PairingAgreement(Aggregate, created_event_name="PairingAgreementFiled"):
    """A filed (备案) pairing agreement between an expert and households in a village."""

    expert_id: str
    unit: str
    household_codes: list[str]
    village: str
    start: str
    end: str
    goals: str
    tasks: str
    mechanism: str
    effective_date: str

    def __post_init__(self):
        if self.end < self.start:
            raise RuleViolation("the agreement ends before it starts", {"end": ["before start"]})

    @property
    def filed_on(self) -> str:
        return self.effective_date


@dataclass
class Association(Aggregate, created_event_name="AssociationRegistered"):
    """A rural professional technical association (农技协) or a federation of them (联合会),
    one per unified social credit code."""

    name: str
    credit_code: str
    kind: str
    level: str
    unit: str
    location: str
    supported_by: str
    effective_date: str
    revoked_on: str | None = field(default=None, init=False)

    CORRECTABLE = ASSOCIATION_CORRECTABLE

    @staticmethod
    def create_id(credit_code):
        return _natural_id("association", credit_code)

    @property
    def registered_on(self) -> str:
        return self.effective_date

    def revoke(self, reason, effective_date):
        _guard_revocation(self, self.kind, effective_date)
        self._revoked(credit_code=self.credit_code, reason=reason, effective_date=effective_date)

    @event("AssociationRevoked")
    def _revoked(self, credit_code, reason, effective_date):
        self.revoked_on = effective_date

    def correct(self, changes, reason, effective_date):
        _guard_correction(self, self.kind, changes, effective_date)
        self._corrected(
            credit_code=self.credit_code,
            changes=changes,
            reason=reason,
            effective_date=effective_date,
        )

    @event("AssociationCorrected")
    def _corrected(self, credit_code, changes, reason, effective_date):
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass
class ServiceLog(Aggregate, created_event_name="ServiceLogged"):
    """One dated help activity (工作台账 entry) of an expert."""

    expert_id: str
    unit: str
    date: str
    place: str
    form: str
    content: str
    participants: int
    hours: float
    effective_date: str


@dataclass
class Targets(Aggregate, created_event_name="TargetsSet"):
    """A unit's 两数 targets for a year (目标任务); set again to revise them."""

    unit: str
    year: int
    targets: dict[str, int]
    effective_date: str

    @staticmethod
    def create_id(unit, year):
        return _natural_id("targets", f"{unit}:{year}")

    @classmethod
    def set(cls, unit, year, targets, effective_date):
        """New targets, each bounded (the check is not in the event's __init__: replaying an
        event recorded before the check existed must still rebuild the aggregate)."""
        bounded_figures(targets, METRIC_LIMITS)
        return cls(unit=unit, year=year, targets=targets, effective_date=effective_date)

    def revise(self, targets, effective_date):
        bounded_figures(targets, METRIC_LIMITS)
        self._revised(
            unit=self.unit, year=self.year, targets=targets, effective_date=effective_date
        )

    @event("TargetsRevised")
    def _revised(self, unit, year, targets, effective_date):
        self.targets = targets
