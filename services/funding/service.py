"""Nameko adapter for funding: RPC methods check jurisdiction and call the Application; the
registry is asked over RPC for what funding needs of an expert. No rules live here."""
import os

from nameko.events import EventDispatcher
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy, rpc
from nameko.timer import timer

from kernel import config, eventstore, views
from kernel.auth import Actor, authorize_read, require_writer
from kernel.errors import EXPECTED, NotFound, RuleViolation
from kernel.idempotency import from_request
from kernel.outbox import Outbox
from kernel.projection import ProjectionRunner
from services.funding import access, queries
from services.funding.application import FundingApplication
from services.funding.domain import PERSONAL_FIELDS, location_of
from services.funding.presenters import (
    disbursement_view, programme_view, project_record_view, project_view)
from services.funding.projection import FundingProjection

# nameko fixes a timer's interval when the class is defined, so this one setting is read here.
POLL_SECONDS = float(os.environ.get("POLL_INTERVAL", "0.2"))


class Funding:
    """What one funding process holds: the write side, its outbox and its projection."""

    def __init__(self, settings):
        self.settings = settings
        self.app = FundingApplication(
            env=eventstore.application_env(settings, "funding"), pii_hash_key=settings.pii_hash_key)
        self.views = views.connect(settings)
        self.views_client = self.views.client
        self.outbox = Outbox("funding", self.app, PERSONAL_FIELDS)
        self.ledger = ProjectionRunner(self.app, self.views, FundingProjection())

    def close(self):
        self.app.close()
        if self.settings.mongo_uri:  # the embedded in-process store lives as long as the process
            self.views_client.close()


class FundingProvider(DependencyProvider):
    def setup(self):
        self.funding = Funding(config.from_container(self.container))

    def stop(self):
        self.funding.close()

    def get_dependency(self, worker_ctx):
        return self.funding


class FundingService:
    name = "funding"

    funding = FundingProvider()
    registry_rpc = RpcProxy("registry")
    dispatch = EventDispatcher()

    # -- programmes -----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def configure_programme(self, form, actor, idempotency_key=None):
        actor = Actor.from_dict(actor)
        form = {**form, "unit": form.get("unit") or default_programme_unit(actor)}
        access.authorize_programme(actor, form["unit"])
        programme = self.funding.app.configure_programme(**form, idempotency=self._keyed(actor, idempotency_key, form))
        return programme_view(programme)

    @rpc(expected_exceptions=EXPECTED)
    def get_programme(self, programme_id, actor):
        return programme_view(self.funding.app.get_programme(programme_id))

    # -- projects -------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def apply(self, form, actor, idempotency_key=None):
        actor = Actor.from_dict(actor)
        region = form["region"]
        access.authorize_application(actor, form.get("unit") or f"province:{location_of(region)['province']}", region)
        expert = None
        if form["applicant"]["type"] == "individual":
            expert = self._payee(form["applicant"]["expert_id"], "applicant.expert_id")
        project = self.funding.app.apply(**form, expert=expert, idempotency=self._keyed(actor, idempotency_key, form))
        return project_view(project)

    @rpc(expected_exceptions=EXPECTED)
    def get_project(self, project_id, actor):
        """The project with its history and payments, each with its log position."""
        position, record = self.funding.ledger.read(lambda views: queries.project_record(views, project_id))
        if record is None:
            raise NotFound(f"no project with id {project_id}", {"project_id": ["not found"]})
        project = record["project"]
        authorize_read(Actor.from_dict(actor), project["unit"], location_of(project["region"]))
        return {**project_record_view(record), "positions_at": {"funding": position}}

    @rpc(expected_exceptions=EXPECTED)
    def review(self, project_id, form, actor, idempotency_key=None):
        actor = Actor.from_dict(actor)
        app = self.funding.app
        project = app.get_project(project_id)
        programme = app.get_programme(project.programme_id)
        access.authorize_review(actor, project, form["level"], programme.level_scopes.get(form["level"]))
        return project_view(app.review(project_id, **form, idempotency=self._keyed(actor, idempotency_key, form)))

    @rpc(expected_exceptions=EXPECTED)
    def publicize(self, project_id, form, actor, idempotency_key=None):
        return self._owner_step("publicize", project_id, form, actor, idempotency_key)

    @rpc(expected_exceptions=EXPECTED)
    def confirm(self, project_id, form, actor, idempotency_key=None):
        return self._owner_step("confirm", project_id, form, actor, idempotency_key)

    def _owner_step(self, action, project_id, form, actor, idempotency_key):
        actor = Actor.from_dict(actor)
        app = self.funding.app
        access.authorize_owner(actor, app.get_programme(app.get_project(project_id).programme_id))
        project = getattr(app, action)(project_id, **form, idempotency=self._keyed(actor, idempotency_key, form))
        return project_view(project)

    # -- disbursements --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def disburse(self, form, actor, idempotency_key=None):
        actor = Actor.from_dict(actor)
        require_writer(actor)
        app = self.funding.app
        project = app.referenced_project(form["project_id"])
        access.authorize_owner(actor, app.get_programme(project.programme_id))
        expert_id = project.applicant.get("expert_id")
        payee = self._payee(expert_id, "account") if expert_id else None
        disbursement = app.disburse(**form, payee=payee, idempotency=self._keyed(actor, idempotency_key, form))
        return disbursement_view(disbursement)

    # -- figures --------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def summary(self, unit, year=None, as_of=None):
        """Item 11 of the statistics table for ``unit`` (national, province:P, city:P/C,
        county:P/C/X, society:S): approved projects, money paid in fen and 万元 (a number rounded
        to 4 decimals), quota places; ``year`` None = all years, ``as_of`` None = all recorded."""
        position, figures = self.funding.ledger.read(lambda views: queries.summary(views, unit, year, as_of))
        return {**figures, "positions": {"funding": position}}

    @rpc(expected_exceptions=EXPECTED)
    def notifications(self, after=0, limit=100):
        """The published form of the log (masked), for consumers catching up."""
        return self.funding.outbox.read(after, min(limit, 1000))

    @rpc
    def ready(self):
        self.funding.app.recorder.max_notification_id()
        self.funding.views.command("ping")
        return True

    def _payee(self, expert_id, field):
        try:
            return self.registry_rpc.payee(expert_id)
        except RuleViolation:
            raise RuleViolation(f"no registered expert with id {expert_id}", {field: ["not a registered expert"]})

    def _keyed(self, actor, request_key, form):
        return from_request(self.name, actor, request_key, form, self.funding.settings.pii_hash_key)

    @timer(interval=POLL_SECONDS)
    def pump(self):
        """Publish newly recorded events, then bring the views up to date."""
        self.funding.outbox.publish_pending(self.dispatch)
        self.funding.ledger.run()


def default_programme_unit(actor):
    """A programme belongs to the configuring office's unit unless the form names one."""
    return actor.scope if actor.scope.startswith("province:") else "national"
