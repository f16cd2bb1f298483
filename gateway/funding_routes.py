"""HTTP paths of funding (API.md "Funding"), relayed to the funding service over RPC."""
from gateway import funding_schemas as schemas
from gateway.entrypoints import http
from gateway.requests import API, keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from kernel.auth import WRITERS


class FundingRoutes:
    SERVICE = "funding"
    PATHS = [
        ("/programmes", "post", "资助项目计划 Configure a funding programme", schemas.ProgrammeSchema, None),
        ("/programmes/{programme_id}", "get", "Read a programme", None, None),
        ("/projects", "post", "项目书 Apply for a project", schemas.ProjectSchema, None),
        ("/projects/{project_id}", "get", "A project with its history and payments (log positions)", None, None),
        ("/projects/{project_id}/reviews", "post", "审核 One level's decision", schemas.ReviewSchema, None),
        ("/projects/{project_id}/publicize", "post", "公示 Start the public notice", schemas.StepSchema, None),
        ("/projects/{project_id}/confirm", "post", "生效 Confirm after the notice", schemas.StepSchema, None),
        ("/disbursements", "post", "拨付 Pay a project-year's subsidy", schemas.DisbursementSchema, None),
        ("/funding/summary", "get", "Approved projects, money paid (fen, 万元), quota places",
         None, schemas.SummaryQuery),
    ]

    funding = BoundedRpcProxy("funding")

    @http("POST", API + "/programmes")
    def configure_programme(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ProgrammeSchema())
        return 201, self.funding.configure_programme(form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/programmes/<string:programme_id>")
    def get_programme(self, request, programme_id):
        actor = self.auth.actor(request)
        return self.funding.get_programme(programme_id, actor.to_dict())

    @http("POST", API + "/projects")
    def apply_for_project(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ProjectSchema())
        return 201, self.funding.apply(form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/projects/<string:project_id>")
    def get_project(self, request, project_id):
        actor = self.auth.actor(request)
        return self.funding.get_project(project_id, actor.to_dict())

    @http("POST", API + "/projects/<string:project_id>/reviews")
    def review_project(self, request, project_id):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ReviewSchema())
        return 201, self.funding.review(project_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/projects/<string:project_id>/publicize")
    def publicize_project(self, request, project_id):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.StepSchema())
        return self.funding.publicize(project_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/projects/<string:project_id>/confirm")
    def confirm_project(self, request, project_id):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.StepSchema())
        return self.funding.confirm(project_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/disbursements")
    def disburse(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.DisbursementSchema())
        return 201, self.funding.disburse(form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/funding/summary")
    def funding_summary(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.SummaryQuery())
        return self.funding.summary(query["unit"], query["year"], query["as_of"])
