"""Nameko adapter for awards: RPC methods check who may act, gather the evidence other services
hold (registry hours and experts, supervision's rectification state), then call the Application."""

from datetime import date

import eventlet
from nameko.exceptions import MethodNotFound, UnknownService
from nameko.rpc import RpcProxy

from kernel.auth import Actor, authorize_read, require_role
from kernel.erasure import AppliesErasures
from kernel.errors import EXPECTED, Forbidden, NotFound, RuleViolation
from kernel.places import canonical_unit
from kernel.sealed import rpc
from kernel.service_parts import LogService, PartsProvider
from services.awards import SERVICE, queries
from services.awards.contract import NOMINATORS, OBJECTORS
from services.awards.domain import registered_nominee
from services.awards.presenters import (
    commendation_view,
    listed_commendation,
    listed_nomination,
    nomination_view,
    round_view,
)

CALL_TIMEOUT_SECONDS = 10
# How this service reads the registry for its own checks (any unit's expert may be nominated).
READER = {"subject": "service:awards", "role": "auditor", "scope": "national"}


class AwardsService(AppliesErasures, LogService):
    name = "awards"

    awards = PartsProvider(SERVICE)
    registry = RpcProxy("registry")
    supervision = RpcProxy("supervision")

    # -- rounds ---------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def configure_round(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        award_round = self.awards.app.configure_round(
            **form, idempotency=self._keyed(actor, idempotency)
        )
        return round_view(award_round)

    @rpc(expected_exceptions=EXPECTED)
    def get_round(self, round_id):
        return round_view(self.awards.app.get_round(round_id))

    @rpc(expected_exceptions=EXPECTED)
    def endorse_outstanding(self, round_id, form, actor, idempotency=None):
        """The national office records an especially-outstanding justification for an expert."""
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        return round_view(
            self.awards.app.endorse_outstanding(
                round_id, **form, idempotency=self._keyed(actor, idempotency)
            )
        )

    # -- nominations ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def nominate(self, round_id, form, actor, idempotency=None):
        """A province or national society nominates for itself; the evidence the rules need is
        gathered here (as of the nomination's effective date) and the application decides."""
        actor = Actor.from_dict(actor)
        require_role(actor, *NOMINATORS)
        form = dict(form)
        unit = canonical_unit(form.pop("unit", None) or actor.scope)
        if unit != actor.scope:
            raise Forbidden(
                f"{actor.scope} may not nominate for {unit}",
                {"unit": ["units nominate only for themselves"]},
            )
        category, effective_date = form.pop("category"), form.pop("effective_date")
        app = self.awards.app
        award_round = app.get_round(round_id)
        evidence = {"as_of": effective_date}
        if category == "individual":
            form = {**form, **registered_nominee(self._expert(form["expert_id"]), unit, form)}
            evidence["hours"] = self.registry.service_hours(form["expert_id"], award_round.year)
        elif category == "organising_unit":
            evidence["rectification"] = self._rectification(unit, effective_date)
        nomination = app.nominate(
            round_id,
            unit=unit,
            category=category,
            form=form,
            evidence=evidence,
            effective_date=effective_date,
            idempotency=self._keyed(actor, idempotency),
        )
        return nomination_view(nomination)

    def _expert(self, expert_id):
        """The registry's record of the expert (None: not registered)."""
        try:
            return self.registry.get_expert(expert_id, READER)
        except NotFound:
            return None

    def _rectification(self, unit, as_of):
        """Supervision's rectification state of the unit (and its sub-units) as of a date. The
        time limit matters on the in-process transport, which would wait for ever if no
        supervision service ran; without an answer the rule cannot be checked, so it refuses."""
        try:
            with eventlet.Timeout(CALL_TIMEOUT_SECONDS):
                return self.supervision.rectification_summary(unit, as_of)
        except (UnknownService, MethodNotFound, eventlet.Timeout):
            raise RuleViolation(
                "the rectification state is not available from supervision; try again later",
                {"unit": ["rectification state unavailable"]},
            ) from None

    @rpc(expected_exceptions=EXPECTED)
    def get_nomination(self, nomination_id, actor):
        nomination = self.awards.app.get_nomination(nomination_id)
        authorize_read(Actor.from_dict(actor), nomination.unit)
        return nomination_view(nomination)

    @rpc(expected_exceptions=EXPECTED)
    def eligibility(self, nomination_id, actor, as_of=None):
        """Each rule, pass or fail, with its evidence, as it stands now (rectification state as of
        ``as_of``, default today), beside the checks recorded when the nomination was accepted."""
        app = self.awards.app
        nomination = app.get_nomination(nomination_id)
        authorize_read(Actor.from_dict(actor), nomination.unit)
        award_round = app.get_round(nomination.round_id)
        as_of = as_of or date.today().isoformat()
        evidence = {"as_of": as_of}
        if nomination.category == "individual":
            evidence["hours"] = self.registry.service_hours(
                nomination.form["expert_id"], award_round.year
            )
        elif nomination.category == "organising_unit":
            evidence["rectification"] = self._rectification(nomination.unit, as_of)
        checks = app.eligibility(nomination_id, evidence)
        return {
            "nomination_id": str(nomination.id),
            "as_of": as_of,
            "eligible": all(c["passed"] for c in checks),
            "checks": checks,
            "at_submission": nomination.checks,
        }

    @rpc(expected_exceptions=EXPECTED)
    def nominations(self, round_id, actor, unit=None, category=None, status=None, as_of=None):
        """The round's list as of a date; a province or society reads its own nominations."""
        actor = Actor.from_dict(actor)
        if actor.role in NOMINATORS and unit is None:
            unit = actor.scope
        if unit is not None:
            authorize_read(actor, unit)
        self.awards.app.get_round(round_id)
        as_of = as_of or date.today().isoformat()
        position, docs = self.awards.read(
            lambda v: queries.nominations(v, round_id, as_of, unit, category, status)
        )
        return {
            "round_id": round_id,
            "as_of": as_of,
            "items": [listed_nomination(d) for d in docs],
            "positions": {"awards": position},
        }

    # -- public notice, objections, commendation ------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def publicize(self, round_id, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        return round_view(
            self.awards.app.publicize(round_id, **form, idempotency=self._keyed(actor, idempotency))
        )

    @rpc(expected_exceptions=EXPECTED)
    def raise_objection(self, nomination_id, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_role(actor, *OBJECTORS)
        nomination, objection_id = self.awards.app.raise_objection(
            nomination_id,
            raised_by=actor.subject,
            **form,
            idempotency=self._keyed(actor, idempotency),
        )
        return {
            "id": objection_id,
            "nomination_id": str(nomination.id),
            **nomination.objections[objection_id],
        }

    @rpc(expected_exceptions=EXPECTED)
    def resolve_objection(self, nomination_id, objection_id, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        return nomination_view(
            self.awards.app.resolve_objection(
                nomination_id, objection_id, **form, idempotency=self._keyed(actor, idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def commend(self, round_id, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        award_round, conferred = self.awards.app.commend(
            round_id,
            form.get("nomination_ids"),
            form["effective_date"],
            idempotency=self._keyed(actor, idempotency),
        )
        return {**round_view(award_round), "conferred": [nomination_view(n) for n in conferred]}

    @rpc(expected_exceptions=EXPECTED)
    def revoke(self, nomination_id, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        return nomination_view(
            self.awards.app.revoke(
                nomination_id, **form, idempotency=self._keyed(actor, idempotency)
            )
        )

    # -- commendations --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_commendation(self, form, actor, idempotency=None):
        """A past year's commended list, entered by the national office (feeds "commended since")."""
        actor = Actor.from_dict(actor)
        require_role(actor, "national_office")
        commendation = self.awards.app.record_commendation(
            **form, idempotency=self._keyed(actor, idempotency)
        )
        return commendation_view(commendation)

    @rpc(expected_exceptions=EXPECTED)
    def commendations(self, actor, year=None, unit=None, category=None, as_of=None):
        actor = Actor.from_dict(actor)
        if unit is not None:
            authorize_read(actor, unit)
        position, docs = self.awards.read(
            lambda v: queries.commendations(v, year, unit, category, as_of)
        )
        return {"items": [listed_commendation(d) for d in docs], "positions": {"awards": position}}

    # -- for consumers and operations -----------------------------------------------------
