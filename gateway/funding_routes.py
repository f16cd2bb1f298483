"""HTTP paths of funding (API.md "Funding"), relayed to the funding service over RPC."""

from gateway import funding_schemas as schemas
from gateway.openapi import route
from gateway.requests import keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from kernel.auth import WRITERS


class FundingRoutes:
    SERVICE = "funding"

    funding = BoundedRpcProxy("funding")

    @route(
        "POST",
        "/programmes",
        "资助项目计划 Configure a funding programme",
        body=schemas.ProgrammeSchema,
    )
    def configure_programme(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ProgrammeSchema())
        return 201, self.funding.configure_programme(form, actor.to_dict(), keyed_request(request))

    @route("GET", "/programmes/<string:programme_id>", "Read a programme")
    def get_programme(self, request, programme_id):
        actor = self.auth.actor(request)
        return self.funding.get_programme(programme_id, actor.to_dict())

    @route("POST", "/projects", "项目书 Apply for a project", body=schemas.ProjectSchema)
    def apply_for_project(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ProjectSchema())
        return 201, self.funding.apply(form, actor.to_dict(), keyed_request(request))

    @route(
        "GET",
        "/projects/<string:project_id>",
        "A project with its history and payments (log positions)",
    )
    def get_project(self, request, project_id):
        actor = self.auth.actor(request)
        return self.funding.get_project(project_id, actor.to_dict())

    @route(
        "POST",
        "/projects/<string:project_id>/reviews",
        "审核 One level's decision",
        body=schemas.ReviewSchema,
    )
    def review_project(self, request, project_id):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ReviewSchema())
        return 201, self.funding.review(project_id, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/projects/<string:project_id>/publicize",
        "公示 Start the public notice",
        body=schemas.StepSchema,
    )
    def publicize_project(self, request, project_id):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.StepSchema())
        return self.funding.publicize(project_id, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/projects/<string:project_id>/confirm",
        "生效 Confirm after the notice",
        body=schemas.StepSchema,
    )
    def confirm_project(self, request, project_id):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.StepSchema())
        return self.funding.confirm(project_id, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/disbursements",
        "拨付 Pay a project-year's subsidy",
        body=schemas.DisbursementSchema,
    )
    def disburse(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.DisbursementSchema())
        return 201, self.funding.disburse(form, actor.to_dict(), keyed_request(request))

    @route(
        "GET",
        "/funding/summary",
        "Approved projects, money paid (fen, 万元), quota places",
        query=schemas.SummaryQuery,
    )
    def funding_summary(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.SummaryQuery())
        return self.funding.summary(query["unit"], query["year"], query["as_of"])
