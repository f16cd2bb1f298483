"""Registry aggregates. Each command method records one public event and guards its invariant.

Event attributes are plain JSON values (dates as ``YYYY-MM-DD`` strings) so that the same
payload is stored, projected and published. Personal numbers are kept in clear inside events;
the event store encrypts every event's state at rest, and everything outside masks them.
"""
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from kernel.errors import Conflict, RuleViolation

# Fields of registry events that hold personal numbers (masked on the bus and in views).
PERSONAL_FIELDS = ("id_number", "head_id_number", "bank_account")


def _natural_id(kind, key) -> UUID:
    return uuid5(NAMESPACE_URL, f"kjfp:registry:{kind}:{key}")


class Expert(Aggregate):
    """A real-name registered S&T expert (科技专家), credited to one unit for the 两数."""

    @event("ExpertRegistered")
    def __init__(self, name, gender, id_number, id_hash, employer, title, specialty, phone, email,
                 address, unit, location, bank_account, political_status, effective_date):
        self.name = name
        self.gender = gender
        self.id_number = id_number
        self.id_hash = id_hash
        self.employer = employer
        self.title = title
        self.specialty = specialty
        self.phone = phone
        self.email = email
        self.address = address
        self.unit = unit
        self.location = location
        self.bank_account = bank_account
        self.political_status = political_status
        self.registered_on = effective_date
        self.revoked_on = None

    @property
    def active(self):
        return self.revoked_on is None


class IdNumberClaim(Aggregate):
    """One per ID number nationally. Saved atomically with the Expert it names, so the event
    store's uniqueness of (originator id, version) refuses a second registration even when
    two arrive at the same moment on different replicas."""

    @staticmethod
    def create_id(id_hash):
        return _natural_id("id-number", id_hash)

    @event("IdNumberClaimed")
    def __init__(self, id_hash, expert_id):
        self.id_hash = id_hash
        self.expert_id = expert_id


class Household(Aggregate):
    """A 建档立卡 poor household, identified by its register code (one aggregate per code)."""

    @staticmethod
    def create_id(code):
        return _natural_id("household", code)

    @event("HouseholdRegistered")
    def __init__(self, code, head_name, head_id_number, head_id_hash, people, location, effective_date):
        self.code = code
        self.head_name = head_name
        self.head_id_number = head_id_number
        self.head_id_hash = head_id_hash
        self.people = people
        self.location = location
        self.registered_on = effective_date
        self.revoked_on = None
        self.pairings = {}  # agreement id → expert id

    def pair(self, agreement_id, expert_id, unit, start, end, effective_date):
        if self.revoked_on is not None:
            raise RuleViolation(f"household {self.code} is revoked and cannot be paired",
                                {"household_codes": [f"{self.code}: revoked"]})
        if effective_date < self.registered_on:
            raise RuleViolation(f"household {self.code} was not yet registered on {effective_date}",
                                {"effective_date": [f"before {self.code} was registered"]})
        if expert_id in self.pairings.values():
            raise Conflict(f"household {self.code} is already paired with this expert",
                           {"household_codes": [f"{self.code}: already paired with this expert"]})
        self._paired(code=self.code, agreement_id=agreement_id, expert_id=expert_id, unit=unit, start=start, end=end,
                     effective_date=effective_date)

    @event("HouseholdPaired")
    def _paired(self, code, agreement_id, expert_id, unit, start, end, effective_date):
        self.pairings[agreement_id] = expert_id


class PairingAgreement(Aggregate):
    """A filed (备案) pairing agreement between an expert and households in a village."""

    @event("PairingAgreementFiled")
    def __init__(self, expert_id, unit, household_codes, village, start, end, goals, tasks,
                 mechanism, effective_date):
        if end < start:
            raise RuleViolation("the agreement ends before it starts", {"end": ["before start"]})
        self.expert_id = expert_id
        self.unit = unit
        self.household_codes = household_codes
        self.village = village
        self.start = start
        self.end = end
        self.goals = goals
        self.tasks = tasks
        self.mechanism = mechanism
        self.filed_on = effective_date
