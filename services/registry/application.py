"""RegistryApplication: the registry's write side (commands validate, then record events)."""
import functools
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from stdnum.cn import ric

from kernel import pii
from kernel.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from services.registry.domain import Expert, Household, IdNumberClaim, PairingAgreement

MAX_ATTEMPTS = 3


def retry_on_conflict(command):
    """Re-run a command whose save lost an optimistic-concurrency race: the re-run sees the
    winner's events and either succeeds or refuses with a clear reason; it is never lost."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        for attempt in range(MAX_ATTEMPTS):
            try:
                return command(*args, **kwargs)
            except IntegrityError:
                if attempt == MAX_ATTEMPTS - 1:
                    raise Conflict("the record was changed concurrently; please retry")

    return wrapper


def _keyed(idempotency, result_id):
    """The idempotency record to save with a command's aggregates (none without a key)."""
    return [idempotency.record(result_id)] if idempotency else []


def validate_id_number(number, field="id_number"):
    """GB 11643: 18 characters, check digit, birth date and birthplace code (python-stdnum)."""
    try:
        return ric.validate(pii.normalise(number))
    except Exception as invalid:  # stdnum raises ValidationError subclasses
        raise ValidationFailed(f"{field} is not a valid resident ID number",
                               {field: [f"not a valid resident ID number: {invalid}"]})


class RegistryApplication(Application):
    name = "registry"

    def __init__(self, env=None, pii_hash_key=""):
        super().__init__(env=env)
        self.pii_hash_key = pii_hash_key

    # -- experts --------------------------------------------------------------------------
    @retry_on_conflict
    def register_expert(self, *, id_number, effective_date, idempotency=None, **form) -> Expert:
        earlier = idempotency and idempotency.earlier_result(self)
        if earlier:
            return self.get_expert(earlier)
        id_number = validate_id_number(id_number)
        id_hash = pii.keyed_hash(self.pii_hash_key, id_number)
        claim_id = IdNumberClaim.create_id(id_hash)
        if self._exists(claim_id):
            raise Conflict("an expert with this ID number is already registered",
                           {"id_number": ["already registered"]})
        expert = Expert(id_number=id_number, id_hash=id_hash, effective_date=effective_date, **form)
        claim = IdNumberClaim(id_hash=id_hash, expert_id=str(expert.id))
        self.save(expert, claim, *_keyed(idempotency, expert.id))
        return expert

    def get_expert(self, expert_id) -> Expert:
        return self._get(expert_id, Expert, "expert")

    # -- households -----------------------------------------------------------------------
    @retry_on_conflict
    def register_household(self, *, code, head_id_number, effective_date, idempotency=None,
                           **form) -> Household:
        earlier = idempotency and idempotency.earlier_result(self)
        if earlier:
            return self.get_household(earlier)
        head_id_number = validate_id_number(head_id_number, "head_id_number")
        if self._exists(Household.create_id(code)):
            raise Conflict(f"household {code} is already registered", {"code": ["already registered"]})
        household = Household(
            code=code, head_id_number=head_id_number,
            head_id_hash=pii.keyed_hash(self.pii_hash_key, head_id_number),
            effective_date=effective_date, **form)
        self.save(household, *_keyed(idempotency, code))
        return household

    def get_household(self, code) -> Household:
        try:
            return self.repository.get(Household.create_id(code))
        except AggregateNotFoundError:
            raise NotFound(f"household {code} is not registered", {"code": ["not registered"]})

    # -- pairings -------------------------------------------------------------------------
    @retry_on_conflict
    def file_pairing(self, *, expert_id, household_codes, village, start, end, goals, tasks,
                     mechanism, effective_date, idempotency=None):
        """File an agreement and pair each household with the expert, all or nothing."""
        earlier = idempotency and idempotency.earlier_result(self)
        if earlier:
            return self._get(earlier, PairingAgreement, "agreement")
        expert = self.get_expert(expert_id)
        if not expert.active:
            raise RuleViolation("the expert's registration is revoked", {"expert_id": ["revoked"]})
        if effective_date < expert.registered_on:
            raise RuleViolation("the expert was not yet registered on the effective date",
                                {"effective_date": ["before the expert's registration"]})
        missing = [c for c in household_codes if not self._exists(Household.create_id(c))]
        if missing:
            raise RuleViolation(
                "households must be on the register before they are paired: " + ", ".join(missing),
                {"household_codes": [f"{c}: not registered" for c in missing]})
        agreement = PairingAgreement(
            expert_id=str(expert.id), unit=expert.unit, household_codes=household_codes,
            village=village, start=start, end=end, goals=goals, tasks=tasks, mechanism=mechanism,
            effective_date=effective_date)
        households = [self.get_household(code) for code in household_codes]
        for household in households:
            household.pair(agreement_id=str(agreement.id), expert_id=str(expert.id), unit=expert.unit,
                           start=start, end=end, effective_date=effective_date)
        self.save(agreement, *households, *_keyed(idempotency, agreement.id))
        return agreement

    # -- helpers --------------------------------------------------------------------------
    def _get(self, aggregate_id, cls, what):
        try:
            aggregate = self.repository.get(UUID(str(aggregate_id)))
        except (ValueError, AggregateNotFoundError):
            aggregate = None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {what} with id {aggregate_id}", {f"{what}_id": ["not found"]})
        return aggregate

    def _exists(self, aggregate_id):
        return bool(self.recorder.select_events(aggregate_id, limit=1))

