"""Nameko adapter for the registry: RPC methods call the Application; no rules live here."""

from kernel.auth import (
    ERASERS,
    NATIONWIDE_READERS,
    Actor,
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
from kernel.service_parts import LogService, PartsProvider
from services.registry import SERVICE, queries
from services.registry.presenters import (
    association_view,
    expert_listing,
    expert_view,
    household_view,
    pairing_view,
    payee_view,
    service_log_view,
    targets_view,
)


class RegistryService(LogService):
    name = "registry"

    registry = PartsProvider(SERVICE)

    @rpc(expected_exceptions=EXPECTED)
    def register_expert(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        authorize_write(actor, unit=form["unit"], location=form["location"])
        expert = self.registry.app.register_expert(
            **form, idempotency=self._keyed(actor, idempotency)
        )
        return expert_view(expert)

    @rpc(expected_exceptions=EXPECTED)
    def get_expert(self, expert_id, actor):
        expert = self.registry.app.get_expert(expert_id)
        authorize_read(Actor.from_dict(actor), expert.unit, expert.location)
        return expert_view(expert)

    @rpc(expected_exceptions=EXPECTED)
    def list_experts(self, actor, unit=None, specialty=None, after=0, limit=50):
        actor = Actor.from_dict(actor)
        if unit is None and actor.role not in NATIONWIDE_READERS and actor.scope != "national":
            unit = str(
                actor.unit.lineage[1]
            )  # a society, or the province of a province, city or county
        if unit is not None:
            authorize_read(actor, unit)
        _, (docs, next_cursor) = self.registry.read(
            lambda views: queries.list_experts(views, unit, specialty, after, limit)
        )
        return {"items": [expert_listing(d) for d in docs], "next_cursor": next_cursor}

    @rpc(expected_exceptions=EXPECTED)
    def register_household(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        authorize_write(actor, location=form["location"])
        household = self.registry.app.register_household(
            **form, idempotency=self._keyed(actor, idempotency)
        )
        return household_view(household)

    @rpc(expected_exceptions=EXPECTED)
    def import_households(self, rows, actor):
        """One batch of an import; rows outside the actor's jurisdiction are rejected."""
        actor = Actor.from_dict(actor)
        require_writer(actor)
        inside, outside = [], []
        for row in rows:
            (inside if actor.unit.covers(place_of(row["location"])) else outside).append(row)
        result = self.registry.app.import_households(inside)
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
    def file_pairing(self, form, actor, idempotency=None):
        app, actor = self.registry.app, Actor.from_dict(actor)
        expert = app.referenced_expert(form["expert_id"])
        authorize_write(actor, unit=expert.unit, location=expert.location)
        for household in app.registered_households(form["household_codes"]):
            authorize_household_in_pairing(actor, household.location)
        agreement = app.file_pairing(**form, idempotency=self._keyed(actor, idempotency))
        return pairing_view(agreement)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_expert(self, expert_id, change, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        expert = self.registry.app.get_expert(expert_id)
        authorize_write(actor, unit=expert.unit, location=expert.location)
        return expert_view(
            self.registry.app.revoke_expert(
                expert_id, **change, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def correct_expert(self, expert_id, change, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        expert = self.registry.app.get_expert(expert_id)
        authorize_change(
            actor,
            unit=expert.unit,
            location=expert.location,
            new_location=change["changes"].get("location"),
        )
        return expert_view(
            self.registry.app.correct_expert(
                expert_id, **change, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def erase_expert(self, expert_id, form, actor, idempotency=None):
        """Destroy the expert's data key (their name, ID number, phone, email, address and account
        can never be read again) and record why; figures, hashes and proofs are untouched."""
        actor = Actor.from_dict(actor)
        require_role(actor, *ERASERS)
        return expert_view(
            self.registry.app.erase_expert(
                expert_id, **form, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc
    def erased_experts(self, after="", limit=1000):
        """A page of the experts whose data key was destroyed, in id order after ``after``, for
        the services that name them to erase them too (kernel.erasure): ``{ids, next}``."""
        found = self.registry.app.mapper.ring.table.erased(after, min(limit, 1000))
        _, experts = self.registry.read(lambda views: queries.which_experts(views, found))
        return {
            "ids": [i for i in found if i in experts],
            "next": found[-1] if len(found) == min(limit, 1000) else None,
        }

    @rpc(expected_exceptions=EXPECTED)
    def register_association(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        authorize_write(actor, unit=form["unit"], location=form["location"])
        association = self.registry.app.register_association(
            **form, idempotency=self._keyed(actor, idempotency)
        )
        return association_view(association)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_association(self, credit_code, change, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        association = self.registry.app.get_association(credit_code)
        authorize_write(actor, unit=association.unit, location=association.location)
        return association_view(
            self.registry.app.revoke_association(
                credit_code, **change, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def correct_association(self, credit_code, change, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        association = self.registry.app.get_association(credit_code)
        authorize_change(
            actor,
            unit=association.unit,
            location=association.location,
            new_location=change["changes"].get("location"),
        )
        return association_view(
            self.registry.app.correct_association(
                credit_code, **change, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def revoke_household(self, code, change, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        household = self.registry.app.get_household(code)
        authorize_write(actor, location=household.location)
        return household_view(
            self.registry.app.revoke_household(
                code, **change, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def correct_household(self, code, change, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        household = self.registry.app.get_household(code)
        authorize_change(
            actor, location=household.location, new_location=change["changes"].get("location")
        )
        return household_view(
            self.registry.app.correct_household(
                code, **change, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def erase_household(self, code, form, actor, idempotency=None):
        """Destroy the household head's data key (name and ID number) and record why."""
        actor = Actor.from_dict(actor)
        require_role(actor, *ERASERS)
        return household_view(
            self.registry.app.erase_household(
                code, **form, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def lift_out(self, code, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        authorize_write(actor, location=self.registry.app.get_household(code).location)
        household = self.registry.app.lift_out(
            code, **form, idempotency=self._keyed(actor, idempotency)
        )
        return household_view(household)

    @rpc(expected_exceptions=EXPECTED)
    def log_service(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        expert = self.registry.app.referenced_expert(form["expert_id"])
        authorize_write(actor, unit=expert.unit, location=expert.location)
        log = self.registry.app.log_service(**form, idempotency=self._keyed(actor, idempotency))
        return service_log_view(log)

    @rpc(expected_exceptions=EXPECTED)
    def set_targets(self, unit, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        authorize_targets(actor, unit)
        return targets_view(
            self.registry.app.set_targets(unit, **form, idempotency=self._keyed(actor, idempotency))
        )

    @rpc(expected_exceptions=EXPECTED)
    def explain(self, unit, metric, as_of, actor, limit=queries.MAX_PAGE, cursor=None):
        """One page of the records behind a figure (``total`` is the figure; ``next_cursor``)."""
        authorize_read(Actor.from_dict(actor), unit)
        position, explained = self.registry.read(
            lambda views: queries.explain(views, unit, metric, as_of, limit, cursor)
        )
        return {
            **explained,
            "positions": {"registry": position},
            "checkpoints": {"registry": self._checkpoint(position)},
        }

    @rpc(expected_exceptions=EXPECTED)
    def service_hours(self, expert_id, year):
        return self.registry.read(lambda views: queries.service_hours(views, expert_id, year))[1]

    @rpc(expected_exceptions=EXPECTED)
    def frame_sizes(self, provinces, at_position=None):
        """How many records had entered each province's spot-check frame by one log position
        (default: the end of the log): ``{position, sizes}``; one indexed read per province."""
        position, sizes = self.registry.read(
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
        _, found = self.registry.read(
            lambda views: queries.frame_records(views, province, ordinals, at_position)
        )
        return {str(n): record for n, record in found.items()}

    @rpc(expected_exceptions=EXPECTED)
    def payee(self, expert_id):
        """What a paying service needs to know of an expert: whether the registration is in force,
        the unit credited, and a keyed hash of the registered bank account (never the number)."""
        return payee_view(
            self.registry.app.referenced_expert(expert_id), self.registry.settings.pii_hash_key
        )

    @rpc(expected_exceptions=EXPECTED)
    def two_counts(self, unit, as_of):
        position, figures = self.registry.read(lambda views: queries.two_counts(views, unit, as_of))
        return {
            "unit": unit,
            "as_of": as_of,
            **figures,
            "positions": {"registry": position},
            "checkpoints": {"registry": self._checkpoint(position)},
        }
