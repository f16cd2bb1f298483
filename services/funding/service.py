"""Nameko adapter for funding: RPC methods check jurisdiction and call the Application; the
registry is asked over RPC for what funding needs of an expert. No rules live here."""

from nameko.rpc import RpcProxy

from kernel.auth import Actor, authorize_read, require_writer, unit_of
from kernel.erasure import AppliesErasures
from kernel.errors import EXPECTED, NotFound, RuleViolation
from kernel.sealed import rpc
from kernel.service_parts import LogService, PartsProvider
from services.funding import SERVICE, access, queries
from services.funding.presenters import (
    disbursement_view,
    programme_view,
    project_record_view,
    project_view,
)


class FundingService(AppliesErasures, LogService):
    name = "funding"

    funding = PartsProvider(SERVICE)
    registry_rpc = RpcProxy("registry")

    # -- programmes -----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def configure_programme(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        form = {**form, "unit": form.get("unit") or default_programme_unit(actor)}
        access.authorize_programme(actor, form["unit"])
        programme = self.funding.app.configure_programme(
            **form, idempotency=self._keyed(actor, idempotency)
        )
        return programme_view(programme)

    @rpc(expected_exceptions=EXPECTED)
    def get_programme(self, programme_id, actor):
        return programme_view(self.funding.app.get_programme(programme_id))

    # -- projects -------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def apply(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        region = form["region"]
        access.authorize_application(actor, form.get("unit") or unit_of(region).lineage[1], region)
        expert = None
        if form["applicant"]["type"] == "individual":
            expert = self._payee(form["applicant"]["expert_id"], "applicant.expert_id")
        project = self.funding.app.apply(
            **form, expert=expert, idempotency=self._keyed(actor, idempotency)
        )
        return project_view(project)

    @rpc(expected_exceptions=EXPECTED)
    def get_project(self, project_id, actor):
        """The project with its history and payments, each with its log position."""
        position, record = self.funding.read(
            lambda views: queries.project_record(views, project_id)
        )
        if record is None:
            raise NotFound(f"no project with id {project_id}", {"project_id": ["not found"]})
        project = record["project"]
        authorize_read(Actor.from_dict(actor), project["unit"], unit_of(project["region"]).place())
        return {**project_record_view(record), "positions_at": {"funding": position}}

    @rpc(expected_exceptions=EXPECTED)
    def review(self, project_id, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        app = self.funding.app
        project = app.get_project(project_id)
        programme = app.get_programme(project.programme_id)
        access.authorize_review(
            actor, project, form["level"], programme.level_scopes.get(form["level"])
        )
        return project_view(
            app.review(project_id, **form, idempotency=self._keyed(actor, idempotency))
        )

    @rpc(expected_exceptions=EXPECTED)
    def publicize(self, project_id, form, actor, idempotency=None):
        return self._owner_step("publicize", project_id, form, actor, idempotency)

    @rpc(expected_exceptions=EXPECTED)
    def confirm(self, project_id, form, actor, idempotency=None):
        return self._owner_step("confirm", project_id, form, actor, idempotency)

    def _owner_step(self, action, project_id, form, actor, idempotency):
        actor = Actor.from_dict(actor)
        app = self.funding.app
        access.authorize_owner(actor, app.get_programme(app.get_project(project_id).programme_id))
        project = getattr(app, action)(
            project_id, **form, idempotency=self._keyed(actor, idempotency)
        )
        return project_view(project)

    # -- disbursements --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def disburse(self, form, actor, idempotency=None):
        actor = Actor.from_dict(actor)
        require_writer(actor)
        app = self.funding.app
        project = app.referenced_project(form["project_id"])
        access.authorize_owner(actor, app.get_programme(project.programme_id))
        expert_id = project.applicant.get("expert_id")
        payee = self._payee(expert_id, "account") if expert_id else None
        disbursement = app.disburse(
            **form, payee=payee, idempotency=self._keyed(actor, idempotency)
        )
        return disbursement_view(disbursement)

    # -- figures --------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def summary(self, unit, year=None, as_of=None):
        """Item 11 of the statistics table for ``unit`` (national, province:P, city:P/C,
        county:P/C/X, society:S): approved projects, money paid in fen and 万元 (a number rounded
        to 4 decimals), quota places; ``year`` None = all years, ``as_of`` None = all recorded."""
        position, figures = self.funding.read(
            lambda views: queries.summary(views, unit, year, as_of)
        )
        return {
            **figures,
            "positions": {"funding": position},
            "checkpoints": {"funding": self._checkpoint(position)},
        }

    def _payee(self, expert_id, field):
        try:
            return self.registry_rpc.payee(expert_id)
        except RuleViolation:
            raise RuleViolation(
                f"no registered expert with id {expert_id}", {field: ["not a registered expert"]}
            ) from None


def default_programme_unit(actor):
    """A programme belongs to the configuring office's unit unless the form names one."""
    return actor.scope if actor.unit.kind == "province" else "national"
