"""Nameko adapter for the registry: RPC methods call the Application; no rules live here."""

from kernel.auth import (
    ERASERS,
    NATIONWIDE_READERS,
    authorize_change,
    authorize_household_in_pairing,
    authorize_read,
    authorize_targets,
    authorize_write,
    place_of,
    require_role,
    require_writer,
)
from kernel.errors import EXPECTED, RuleViolation
from kernel.sealed import rpc
from kernel.service_parts import LogService
from services.registry import SERVICE, presenters, queries

# The records revoked and corrected alike: the application's get_, revoke_ and correct_<kind>, and
# presenters.<kind>_view.


class RegistryService(LogService, serves=SERVICE):
    @rpc(expected_exceptions=EXPECTED)
    def register_expert(self, form, idempotency=None):
        authorize_write(self.actor, unit=form["unit"], location=form["location"])
        expert = self.parts.app.register_expert(**form, idempotency=self._keyed(idempotency))
        return presenters.expert_view(expert)

    @rpc(expected_exceptions=EXPECTED)
    def get_expert(self, expert_id):
        expert = self.parts.app.get_expert(expert_id)
        authorize_read(self.actor, expert.unit, expert.location)
        return presenters.expert_view(expert)

    @rpc(expected_exceptions=EXPECTED)
    def list_experts(self, unit=None, specialty=None, cursor=0, limit=50):
        actor = self.actor
        if unit is None and actor.role not in NATIONWIDE_READERS and actor.scope != "national":
            unit = str(
                actor.unit.lineage[1]
            )  # a society, or the province of a province, city or county
        if unit is not None:
            authorize_read(actor, unit)
        _, (docs, next_cursor) = self.parts.read(
            lambda views: queries.list_experts(views, unit, specialty, cursor, limit)
        )
        return {"items": [presenters.expert_listing(d) for d in docs], "next_cursor": next_cursor}

    @rpc(expected_exceptions=EXPECTED)
    def register_household(self, form, idempotency=None):
        authorize_write(self.actor, location=form["location"])
        household = self.parts.app.register_household(**form, idempotency=self._keyed(idempotency))
        return presenters.household_view(household)

    @rpc(expected_exceptions=EXPECTED)
    def import_households(self, rows, last=True):
        """One batch of an import; rows outside the actor's jurisdiction are rejected. The pump
        waits for the ``last`` batch (kernel/service_parts.py ``importing``): the rows reach the
        views after the answer, or when a read asks for them."""
        actor = self.actor
        require_writer(actor)
        inside, outside = [], []
        for row in rows:
            (inside if actor.unit.covers(place_of(row["location"])) else outside).append(row)
        with self.parts.importing(last):
            result = self.parts.app.import_households(inside)
        result["rejected"] += [
            {
                "row": r.get("row"),
                "code": r["code"],
                "reasons": {"location": ["outside your jurisdiction"]},
            }
            for r in outside
        ]
        return result

    @rpc(expected_exceptions=EXPECTED)
    def file_pairing(self, form, idempotency=None):
        actor = self.actor

        def authorize(expert, households):
            authorize_write(actor, unit=expert.unit, location=expert.location)
            for household in households:
                authorize_household_in_pairing(actor, household.location)

        agreement = self.parts.app.file_pairing(
            **form, authorize=authorize, idempotency=self._keyed(idempotency)
        )
        return presenters.pairing_view(agreement)

    @rpc(expected_exceptions=EXPECTED)
    def register_association(self, form, idempotency=None):
        authorize_write(self.actor, unit=form["unit"], location=form["location"])
        association = self.parts.app.register_association(
            **form, idempotency=self._keyed(idempotency)
        )
        return presenters.association_view(association)

    # -- revocations, corrections and erasures --------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def revoke(self, kind, key, change, idempotency=None):
        """Revoke a registered expert, association or household (``kind``; ``key`` its id, credit
        code or code)."""
        return self._amend("revoke", kind, key, change, idempotency)

    @rpc(expected_exceptions=EXPECTED)
    def correct(self, kind, key, change, idempotency=None):
        """Correct a registered expert, association or household's record."""
        return self._amend("correct", kind, key, change, idempotency)

    def _amend(self, verb, kind, key, change, idempotency):
        """The writer's only if the record is in their jurisdiction as it is and as a correction
        would leave it (a household is credited to no unit)."""
        app = self.parts.app
        record = app.registered(kind, key)
        authorize_change(
            self.actor,
            unit=getattr(record, "unit", None),
            location=record.location,
            new_location=change.get("changes", {}).get("location"),
        )
        amended = getattr(app, verb)(kind, key, **change, idempotency=self._keyed(idempotency))
        return getattr(presenters, f"{kind}_view")(amended)

    @rpc(expected_exceptions=EXPECTED)
    def erase_expert(self, expert_id, form, idempotency=None):
        """Destroy the expert's data key (their name, ID number, phone, email, address and account
        can never be read again) and record why; figures, hashes and proofs are untouched."""
        require_role(self.actor, *ERASERS)
        return presenters.expert_view(
            self.parts.app.erase("expert", expert_id, **form, idempotency=self._keyed(idempotency))
        )

    @rpc(expected_exceptions=EXPECTED)
    def erased_experts(self, after="", limit=1000):
        """A page of the experts whose data key was destroyed, in id order after ``after``, for
        the services that name them to erase them too (kernel.erasure): ``{ids, next}``."""
        found = self.parts.app.mapper.ring.table.erased(after, min(limit, 1000))
        _, experts = self.parts.read(lambda views: queries.which_experts(views, found))
        return {
            "ids": [i for i in found if i in experts],
            "next": found[-1] if len(found) == min(limit, 1000) else None,
        }

    @rpc(expected_exceptions=EXPECTED)
    def erase_household(self, code, form, idempotency=None):
        """Destroy the household head's data key (name and ID number) and record why."""
        require_role(self.actor, *ERASERS)
        return presenters.household_view(
            self.parts.app.erase("household", code, **form, idempotency=self._keyed(idempotency))
        )

    # -- lifting out, help activities, targets --------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def lift_out(self, code, form, idempotency=None):
        authorize_write(self.actor, location=self.parts.app.get_household(code).location)
        household = self.parts.app.lift_out(code, **form, idempotency=self._keyed(idempotency))
        return presenters.household_view(household)

    @rpc(expected_exceptions=EXPECTED)
    def log_service(self, form, idempotency=None):
        expert = self.parts.app.referenced_expert(form["expert_id"])
        authorize_write(self.actor, unit=expert.unit, location=expert.location)
        log = self.parts.app.log_service(**form, idempotency=self._keyed(idempotency))
        return presenters.service_log_view(log)

    @rpc(expected_exceptions=EXPECTED)
    def set_targets(self, unit, form, idempotency=None):
        authorize_targets(self.actor, unit)
        return presenters.targets_view(
            self.parts.app.set_targets(unit, **form, idempotency=self._keyed(idempotency))
        )

    # -- figures --------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def explain(self, unit, metric, as_of, limit=queries.MAX_PAGE, cursor=None):
        """One page of the records behind a figure (``total`` is the figure; ``next_cursor``)."""
        authorize_read(self.actor, unit)
        position, explained = self.parts.read(
            lambda views: queries.explain(views, unit, metric, as_of, limit, cursor)
        )
        return {
            **explained,
            "positions": {"registry": position},
            "checkpoints": {"registry": self._checkpoint(position)},
        }

    @rpc(expected_exceptions=EXPECTED)
    def service_hours(self, expert_id, year):
        return self.parts.read(lambda views: queries.service_hours(views, expert_id, year))[1]

    @rpc(expected_exceptions=EXPECTED)
    def frame_sizes(self, provinces, at_position=None):
        """How many records had entered each province's spot-check frame by one log position
        (default: the end of the log): ``{position, sizes}``; one indexed read per province."""
        position, sizes = self.parts.read(
            lambda views: {p: queries.frame_size(views, p, at_position) for p in provinces}
        )
        if at_position is not None and at_position > position:
            raise RuleViolation(
                f"the registry's log ends at position {position}",
                {"at_position": [f"beyond the end of the log ({position})"]},
            )
        return {"position": position if at_position is None else at_position, "sizes": sizes}

    @rpc(expected_exceptions=EXPECTED)
    def frame_records(self, province, ordinals, at_position):
        """The records at these ordinals of a province's frame and whether each was in force at
        the position (a spot check's draw: services.supervision.domain.draw_records)."""
        _, found = self.parts.read(
            lambda views: queries.frame_records(views, province, ordinals, at_position)
        )
        return {str(n): record for n, record in found.items()}

    @rpc(expected_exceptions=EXPECTED)
    def payee(self, expert_id):
        """What a paying service needs to know of an expert: whether the registration is in force,
        the unit credited, and a keyed hash of the registered bank account (never the number)."""
        return presenters.payee_view(
            self.parts.app.referenced_expert(expert_id), self.parts.settings.pii_hash_key
        )

    @rpc(expected_exceptions=EXPECTED)
    def two_counts(self, unit, as_of):
        position, figures = self.parts.read(lambda views: queries.two_counts(views, unit, as_of))
        return {
            "unit": unit,
            "as_of": as_of,
            **figures,
            "positions": {"registry": position},
            "checkpoints": {"registry": self._checkpoint(position)},
        }
