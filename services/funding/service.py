"""Nameko adapter for funding: RPC methods check jurisdiction and call the Application; the
registry is asked over RPC for what funding needs of an expert. No rules live here."""

from kernel.acting import PeerRpcProxy
from kernel.auth import authorize_read, require_writer, unit_of
from kernel.erasure import AppliesErasures
from kernel.errors import EXPECTED, NotFound, RuleViolation
from kernel.sealed import rpc
from kernel.service_parts import LogService
from services.funding import SERVICE, access, presenters, queries


class FundingService(AppliesErasures, LogService, serves=SERVICE):
    registry = PeerRpcProxy("registry")

    # -- programmes -----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def configure_programme(self, form, idempotency=None):
        form = {**form, "unit": form.get("unit") or default_programme_unit(self.actor)}
        access.authorize_programme(self.actor, form["unit"])
        programme = self.parts.app.configure_programme(**form, idempotency=self._keyed(idempotency))
        return presenters.programme_view(programme)

    @rpc(expected_exceptions=EXPECTED)
    def get_programme(self, programme_id):
        return presenters.programme_view(self.parts.app.get_programme(programme_id))

    # -- projects -------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def apply(self, form, idempotency=None):
        region = form["region"]
        access.authorize_application(
            self.actor, form.get("unit") or unit_of(region).lineage[1], region
        )
        expert = None
        if form["applicant"]["type"] == "individual":
            expert = self._payee(form["applicant"]["expert_id"], "applicant.expert_id")
        project = self.parts.app.apply(**form, expert=expert, idempotency=self._keyed(idempotency))
        return presenters.project_view(project)

    @rpc(expected_exceptions=EXPECTED)
    def get_project(self, project_id):
        """The project with its history and payments, each with its log position."""
        position, record = self.parts.read(lambda views: queries.project_record(views, project_id))
        if record is None:
            raise NotFound(f"no project with id {project_id}", {"project_id": ["not found"]})
        project = record["project"]
        authorize_read(self.actor, project["unit"], unit_of(project["region"]).place())
        return {**presenters.project_record_view(record), "positions_at": {"funding": position}}

    @rpc(expected_exceptions=EXPECTED)
    def review(self, project_id, form, idempotency=None):
        app = self.parts.app
        project = app.get_project(project_id)
        programme = app.get_programme(project.programme_id)
        access.authorize_review(
            self.actor, project, form["level"], programme.level_scopes.get(form["level"])
        )
        return presenters.project_view(
            app.review(project_id, **form, idempotency=self._keyed(idempotency))
        )

    @rpc(expected_exceptions=EXPECTED)
    def publicize(self, project_id, form, idempotency=None):
        return self._owner_step("publicize", project_id, form, idempotency)

    @rpc(expected_exceptions=EXPECTED)
    def confirm(self, project_id, form, idempotency=None):
        return self._owner_step("confirm", project_id, form, idempotency)

    def _owner_step(self, action, project_id, form, idempotency):
        app = self.parts.app
        access.authorize_owner(
            self.actor, app.get_programme(app.get_project(project_id).programme_id)
        )
        project = getattr(app, action)(project_id, **form, idempotency=self._keyed(idempotency))
        return presenters.project_view(project)

    # -- disbursements --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def disburse(self, form, idempotency=None):
        require_writer(self.actor)
        app = self.parts.app
        project = app.referenced_project(form["project_id"])
        access.authorize_owner(self.actor, app.get_programme(project.programme_id))
        expert_id = project.applicant.get("expert_id")
        payee = self._payee(expert_id, "account") if expert_id else None
        disbursement = app.disburse(**form, payee=payee, idempotency=self._keyed(idempotency))
        return presenters.disbursement_view(disbursement)

    # -- figures --------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def summary(self, unit, year=None, as_of=None):
        """Item 11 of the statistics table for ``unit`` (national, province:P, city:P/C,
        county:P/C/X, society:S): approved projects, money paid in fen and 万元 (a number rounded
        to 4 decimals), quota places; ``year`` None = all years, ``as_of`` None = all recorded."""
        position, figures = self.parts.read(lambda views: queries.summary(views, unit, year, as_of))
        return {
            **figures,
            "positions": {"funding": position},
            "checkpoints": {"funding": self._checkpoint(position)},
        }

    def _payee(self, expert_id, field):
        try:
            return self.registry.payee(expert_id)
        except RuleViolation:
            raise RuleViolation(
                f"no registered expert with id {expert_id}", {field: ["not a registered expert"]}
            ) from None


def default_programme_unit(actor):
    """A programme belongs to the configuring office's unit unless the form names one."""
    return actor.scope if actor.unit.kind == "province" else "national"
