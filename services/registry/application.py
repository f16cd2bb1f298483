"""RegistryApplication: the registry's write side (commands validate, then record events)."""

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from kernel import pii
from kernel.application import ServiceApplication, command
from kernel.concurrency import MAX_ATTEMPTS
from kernel.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from kernel.identity import (
    CreditCodeError,
    IdNumberError,
    canonical_credit_code,
    canonical_id_number,
)
from kernel.places import canonical_place, canonical_unit
from services.registry.contract import ERASABLE, REGISTERS
from services.registry.domain import (
    NAMING_FIELDS,
    Association,
    Expert,
    Household,
    IdNumberClaim,
    PairingAgreement,
    ServiceLog,
    Targets,
)


def validate_credit_code(code, field="credit_code"):
    """The canonical credit code (kernel.identity), or a ValidationFailed naming ``field``."""
    try:
        return canonical_credit_code(code)
    except CreditCodeError as invalid:
        raise ValidationFailed(
            f"{field} is not a valid unified social credit code: {invalid}", {field: [str(invalid)]}
        ) from None


def validate_id_number(number, field="id_number"):
    """The canonical 18-character number (kernel.identity), or a ValidationFailed naming ``field``."""
    try:
        return canonical_id_number(number)
    except IdNumberError as invalid:
        raise ValidationFailed(
            f"{field} is not a valid resident ID number: {invalid}", {field: [str(invalid)]}
        ) from None


def _canonical(form):
    """``form`` with its unit and location canonical (kernel.places), whoever sent it: an RPC
    caller cannot record a place the gateway would refuse."""
    form = dict(form)
    if form.get("unit") is not None:
        form["unit"] = canonical_unit(form["unit"], kinds=("province", "society"))
    if form.get("location") is not None:
        form["location"] = canonical_place(form["location"])
    return form


class RegistryApplication(ServiceApplication):
    name = "registry"
    sealed_events = NAMING_FIELDS

    # -- experts --------------------------------------------------------------------------
    @command
    def register_expert(self, *, id_number, effective_date, **form) -> Expert:
        id_number = validate_id_number(id_number)
        form = _canonical(form)
        id_hash = pii.keyed_hash(self.pii_hash_key, id_number)
        claim_id = IdNumberClaim.create_id(id_hash)
        expert = Expert(id_number=id_number, id_hash=id_hash, effective_date=effective_date, **form)
        if self._exists(claim_id):
            claim = self.repository.get(claim_id)
            if self.get_expert(claim.expert_id).active:
                raise Conflict(
                    "an expert with this ID number is already registered",
                    {"id_number": ["already registered"]},
                )
            claim.reassign(str(expert.id))  # registered anew after a revocation
        else:
            claim = IdNumberClaim(id_hash=id_hash, expert_id=str(expert.id))
        self.save(expert, claim)
        return expert

    # -- associations and federations -----------------------------------------------------
    @command
    def register_association(self, *, credit_code, effective_date, **form):
        credit_code = validate_credit_code(credit_code)
        form = _canonical(form)
        if self._exists(Association.create_id(credit_code)):
            raise Conflict(
                f"an organisation with credit code {credit_code} is already registered",
                {"credit_code": ["already registered"]},
            )
        association = Association(credit_code=credit_code, effective_date=effective_date, **form)
        self.save(association)
        return association

    def get_association(self, credit_code):
        try:
            return self.repository.get(Association.create_id(pii.normalise(credit_code)))
        except AggregateNotFoundError:
            raise NotFound(
                f"no association with credit code {credit_code}",
                {"credit_code": ["not registered"]},
            ) from None

    def get_expert(self, expert_id) -> Expert:
        return self._get(expert_id, Expert, "expert")

    def referenced_expert(self, expert_id) -> Expert:
        """An expert named in a request body: unknown is a refusal of the request (422)."""
        try:
            return self.get_expert(expert_id)
        except NotFound:
            raise RuleViolation(
                f"no registered expert with id {expert_id}", {"expert_id": ["not registered"]}
            ) from None

    # -- households -----------------------------------------------------------------------
    @command
    def register_household(self, *, code, head_id_number, effective_date, **form) -> Household:
        head_id_number = validate_id_number(head_id_number, "head_id_number")
        form = _canonical(form)
        if self._exists(Household.create_id(code)):
            raise Conflict(
                f"household {code} is already registered", {"code": ["already registered"]}
            )
        household = Household(
            code=code,
            head_id_number=head_id_number,
            head_id_hash=pii.keyed_hash(self.pii_hash_key, head_id_number),
            effective_date=effective_date,
            **form,
        )
        self.save(household)
        return household

    @command
    def lift_out(self, code, date, people, effective_date):
        """Record that a paired household was lifted out of poverty (脱贫) on ``date``."""
        if date > effective_date:
            raise RuleViolation("the date is after the effective date", {"date": ["in the future"]})
        household = self.get_household(code)
        household.lift_out(date, people, effective_date)
        self.save(household)
        return household

    def import_households(self, rows):
        """Register a batch of households from the poverty office's base data (扶贫办).

        Returns what became of each row: created, duplicate (already registered, or earlier in
        the batch) or rejected with reasons. The new households are saved in one atomic write;
        if any was registered already (a re-run, or another writer meanwhile), the batch is
        decided row by row instead."""
        duplicates, rejected, fresh = [], [], {}
        for row in rows:
            code = row["code"]
            try:
                head_id_number = validate_id_number(row["head_id_number"], "head_id_number")
                row = _canonical(row)
            except ValidationFailed as invalid:
                rejected.append({"row": row.get("row"), "code": code, "reasons": invalid.details})
                continue
            if code in fresh:
                duplicates.append(
                    {"row": row.get("row"), "code": code, "reason": "repeated in the file"}
                )
                continue
            fresh[code] = {**row, "head_id_number": head_id_number}
        created = list(fresh.values())
        for _attempt in range(MAX_ATTEMPTS):
            try:
                self.save(*(self._household_from(row) for row in created))
                break
            except IntegrityError:
                # Some are registered already (a re-run, or another writer meanwhile): read which
                # (reads are cheap, writes are not), then save the rest in one write again.
                known = {
                    row["code"] for row in created if self._exists(Household.create_id(row["code"]))
                }
                duplicates += [
                    {"row": r.get("row"), "code": r["code"], "reason": "already registered"}
                    for r in created
                    if r["code"] in known
                ]
                created = [row for row in created if row["code"] not in known]
        else:
            raise Conflict("the register kept changing during the import; please retry the batch")
        return {
            "created": [{"row": r.get("row"), "code": r["code"]} for r in created],
            "duplicates": duplicates,
            "rejected": rejected,
        }

    def _household_from(self, row):
        """The registration event of a household from an import row."""
        return Household.registration_event(
            code=row["code"],
            head_name=row["head_name"],
            head_id_number=row["head_id_number"],
            head_id_hash=pii.keyed_hash(self.pii_hash_key, row["head_id_number"]),
            people=row["people"],
            location=row["location"],
            effective_date=row["effective_date"],
        )

    def registered_households(self, codes):
        """The households among ``codes`` that are on the register (unknown ones are skipped)."""
        found = []
        for code in codes:
            try:
                found.append(self.repository.get(Household.create_id(code)))
            except AggregateNotFoundError:
                pass
        return found

    def get_household(self, code) -> Household:
        try:
            return self.repository.get(Household.create_id(code))
        except AggregateNotFoundError:
            raise NotFound(
                f"household {code} is not registered", {"code": ["not registered"]}
            ) from None

    # -- pairings -------------------------------------------------------------------------
    @command
    def file_pairing(
        self,
        *,
        expert_id,
        household_codes,
        village,
        start,
        end,
        goals,
        tasks,
        mechanism,
        effective_date,
        authorize=None,
    ):
        """File an agreement and pair each household with the expert, all or nothing.
        ``authorize(expert, households)``, if given, refuses a caller outside the records'
        jurisdiction: checked on the records as this command reads them (once, and again if a
        lost race re-runs it), before any rule of the pairing itself."""
        expert = self.referenced_expert(expert_id)
        households = self.registered_households(household_codes)
        if authorize is not None:
            authorize(expert, households)
        if not expert.active:
            raise RuleViolation("the expert's registration is revoked", {"expert_id": ["revoked"]})
        if effective_date < expert.registered_on:
            raise RuleViolation(
                "the expert was not yet registered on the effective date",
                {"effective_date": ["before the expert's registration"]},
            )
        found = {household.code for household in households}
        missing = [c for c in household_codes if c not in found]
        if missing:
            raise RuleViolation(
                "households must be on the register before they are paired: " + ", ".join(missing),
                {"household_codes": [f"{c}: not registered" for c in missing]},
            )
        agreement = PairingAgreement(
            expert_id=str(expert.id),
            unit=expert.unit,
            household_codes=household_codes,
            village=village,
            start=start,
            end=end,
            goals=goals,
            tasks=tasks,
            mechanism=mechanism,
            effective_date=effective_date,
        )
        for household in households:
            household.pair(
                agreement_id=str(agreement.id),
                expert_id=str(expert.id),
                unit=expert.unit,
                start=start,
                end=end,
                effective_date=effective_date,
            )
        expert.take_agreement(str(agreement.id), start, end)
        self.save(agreement, expert, *households)
        return agreement

    # -- service logs ---------------------------------------------------------------------
    @command
    def log_service(self, *, expert_id, date, effective_date, **entry):
        """Record one help activity (工作台账) inside one of the expert's agreements."""
        expert = self.referenced_expert(expert_id)
        if expert.revoked_on is not None and expert.revoked_on <= date:
            raise RuleViolation(
                "the expert's registration was revoked by then", {"expert_id": ["revoked"]}
            )
        if date > effective_date:
            raise RuleViolation(
                "the activity's date is after the effective date", {"date": ["in the future"]}
            )
        if not expert.covers(date):
            raise RuleViolation(
                f"{date} is outside every pairing agreement of this expert",
                {"date": ["outside the expert's pairing agreements"]},
            )
        log = ServiceLog(
            expert_id=str(expert.id),
            unit=expert.unit,
            date=date,
            effective_date=effective_date,
            **entry,
        )
        self.save(log)
        return log

    # -- targets --------------------------------------------------------------------------
    @command
    def set_targets(self, unit, year, targets, effective_date):
        unit = canonical_unit(unit)
        targets_id = Targets.create_id(unit, year)
        if self._exists(targets_id):
            record = self.repository.get(targets_id)
            record.revise(targets, effective_date)
        else:
            record = Targets.set(unit, year, targets, effective_date)
        self.save(record)
        return record

    # -- revocations, corrections, erasures of any register ---------------------------------
    @command
    def revoke(self, kind, key, reason, effective_date):
        """Revoke a registration (``kind``: expert, association or household; ``key``: its id,
        credit code or code) from ``effective_date``."""
        return self._amend(self.registered(kind, key), "revoke", reason, effective_date)

    @command
    def correct(self, kind, key, changes, reason, effective_date):
        """Correct a record from ``effective_date``, its places canonical whoever sent them."""
        return self._amend(
            self.registered(kind, key), "correct", _canonical(changes), reason, effective_date
        )

    @command
    def erase(self, kind, key, reason):
        """Destroy the person's data key (an expert, or a household's head), then record why. In
        this order, a crash in between leaves the person erased and the event still to record
        (erasing again records it); the other order could leave an erasure recorded while the key
        survives."""
        if kind not in ERASABLE:
            raise ValidationFailed(f"no person to erase in {kind}", {"kind": list(ERASABLE)})
        record = self.registered(kind, key)
        record.erase(reason)
        self.mapper.ring.erase(str(record.id))
        self.save(record)
        return record

    def registered(self, kind, key):
        """The record of ``kind`` under ``key`` (NotFound naming the key's field if none)."""
        if kind not in REGISTERS:
            raise ValidationFailed(f"no register of {kind}", {"kind": list(REGISTERS)})
        return getattr(self, f"get_{kind}")(key)

    # -- helpers --------------------------------------------------------------------------
    def _amend(self, record, action, *args):
        """Revoke or correct a record (its own method guards the rule) and save it."""
        getattr(record, action)(*args)
        self.save(record)
        return record
