"""Nameko adapter for awards: RPC methods check who may act, gather the evidence other services
hold (registry hours and experts, supervision's rectification state), then call the Application."""

from datetime import date

from kernel.acting import PeerRpcProxy, asked
from kernel.auth import authorize_read, require_role
from kernel.erasure import AppliesErasures
from kernel.errors import EXPECTED, Forbidden, NotFound, RuleViolation
from kernel.places import canonical_unit
from kernel.sealed import rpc
from kernel.service_parts import LogService
from services.awards import SERVICE, presenters, queries
from services.awards.contract import NOMINATORS, OBJECTORS
from services.awards.domain import registered_nominee


class AwardsService(AppliesErasures, LogService, serves=SERVICE):
    # Asked as this service (kernel/acting.py): any unit's expert may be nominated.
    registry = PeerRpcProxy("registry")
    supervision = PeerRpcProxy("supervision")

    # -- rounds ---------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def configure_round(self, form, idempotency=None):
        require_role(self.actor, "national_office")
        award_round = self.parts.app.configure_round(**form, idempotency=self._keyed(idempotency))
        return presenters.round_view(award_round)

    @rpc(expected_exceptions=EXPECTED)
    def get_round(self, round_id):
        return presenters.round_view(self.parts.app.get_round(round_id))

    @rpc(expected_exceptions=EXPECTED)
    def endorse_outstanding(self, round_id, form, idempotency=None):
        """The national office records an especially-outstanding justification for an expert."""
        require_role(self.actor, "national_office")
        return presenters.round_view(
            self.parts.app.endorse_outstanding(
                round_id, **form, idempotency=self._keyed(idempotency)
            )
        )

    # -- nominations ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def nominate(self, round_id, form, idempotency=None):
        """A province or national society nominates for itself; the evidence the rules need is
        gathered here (as of the nomination's effective date) and the application decides."""
        actor = self.actor
        require_role(actor, *NOMINATORS)
        form = dict(form)
        unit = canonical_unit(form.pop("unit", None) or actor.scope)
        if unit != actor.scope:
            raise Forbidden(
                f"{actor.scope} may not nominate for {unit}",
                {"unit": ["units nominate only for themselves"]},
            )
        category, effective_date = form.pop("category"), form.pop("effective_date")
        app = self.parts.app
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
            idempotency=self._keyed(idempotency),
        )
        return presenters.nomination_view(nomination)

    def _expert(self, expert_id):
        """The registry's record of the expert (None: not registered)."""
        try:
            return self.registry.get_expert(expert_id)
        except NotFound:
            return None

    def _rectification(self, unit, as_of):
        """Supervision's rectification state of the unit (and its sub-units) as of a date; without
        an answer the rule cannot be checked, so the nomination is refused."""
        state = asked(self.supervision.rectification_summary, unit, as_of)
        if state is None:
            raise RuleViolation(
                "the rectification state is not available from supervision; try again later",
                {"unit": ["rectification state unavailable"]},
            )
        return state

    @rpc(expected_exceptions=EXPECTED)
    def get_nomination(self, nomination_id):
        nomination = self.parts.app.get_nomination(nomination_id)
        authorize_read(self.actor, nomination.unit)
        return presenters.nomination_view(nomination)

    @rpc(expected_exceptions=EXPECTED)
    def eligibility(self, nomination_id, as_of=None):
        """Each rule, pass or fail, with its evidence, as it stands now (rectification state as of
        ``as_of``, default today), beside the checks recorded when the nomination was accepted."""
        app = self.parts.app
        nomination = app.get_nomination(nomination_id)
        authorize_read(self.actor, nomination.unit)
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
    def nominations(self, round_id, unit=None, category=None, status=None, as_of=None):
        """The round's list as of a date; a province or society reads its own nominations."""
        actor = self.actor
        if actor.role in NOMINATORS and unit is None:
            unit = actor.scope
        if unit is not None:
            authorize_read(actor, unit)
        self.parts.app.get_round(round_id)
        as_of = as_of or date.today().isoformat()
        position, docs = self.parts.read(
            lambda v: queries.nominations(v, round_id, as_of, unit, category, status)
        )
        return {
            "round_id": round_id,
            "as_of": as_of,
            "items": [presenters.listed_nomination(d) for d in docs],
            "positions": {"awards": position},
        }

    # -- public notice, objections, commendation ------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def publicize(self, round_id, form, idempotency=None):
        require_role(self.actor, "national_office")
        return presenters.round_view(
            self.parts.app.publicize(round_id, **form, idempotency=self._keyed(idempotency))
        )

    @rpc(expected_exceptions=EXPECTED)
    def raise_objection(self, nomination_id, form, idempotency=None):
        require_role(self.actor, *OBJECTORS)
        nomination, objection_id = self.parts.app.raise_objection(
            nomination_id,
            raised_by=self.actor.subject,
            **form,
            idempotency=self._keyed(idempotency),
        )
        return {
            "id": objection_id,
            "nomination_id": str(nomination.id),
            **nomination.objections[objection_id],
        }

    @rpc(expected_exceptions=EXPECTED)
    def resolve_objection(self, nomination_id, objection_id, form, idempotency=None):
        require_role(self.actor, "national_office")
        return presenters.nomination_view(
            self.parts.app.resolve_objection(
                nomination_id, objection_id, **form, idempotency=self._keyed(idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def commend(self, round_id, form, idempotency=None):
        require_role(self.actor, "national_office")
        award_round, conferred = self.parts.app.commend(
            round_id,
            form.get("nomination_ids"),
            form["effective_date"],
            idempotency=self._keyed(idempotency),
        )
        return {
            **presenters.round_view(award_round),
            "conferred": [presenters.nomination_view(n) for n in conferred],
        }

    @rpc(expected_exceptions=EXPECTED)
    def revoke(self, nomination_id, form, idempotency=None):
        require_role(self.actor, "national_office")
        return presenters.nomination_view(
            self.parts.app.revoke(nomination_id, **form, idempotency=self._keyed(idempotency))
        )

    # -- commendations --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_commendation(self, form, idempotency=None):
        """A past year's commended list, entered by the national office (feeds "commended since")."""
        require_role(self.actor, "national_office")
        commendation = self.parts.app.record_commendation(
            **form, idempotency=self._keyed(idempotency)
        )
        return presenters.commendation_view(commendation)

    @rpc(expected_exceptions=EXPECTED)
    def commendations(self, year=None, unit=None, category=None, as_of=None):
        if unit is not None:
            authorize_read(self.actor, unit)
        position, docs = self.parts.read(
            lambda v: queries.commendations(v, year, unit, category, as_of)
        )
        return {
            "items": [presenters.listed_commendation(d) for d in docs],
            "positions": {"awards": position},
        }
