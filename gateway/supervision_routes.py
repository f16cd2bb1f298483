"""HTTP paths of supervision (API.md "Supervision"), relayed to the supervision service over RPC."""
from gateway import supervision_schemas as schemas
from gateway.entrypoints import http
from gateway.requests import API, keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from kernel.auth import WRITERS
from kernel.errors import NotFound

RESPONSIBLE_UNITS = tuple(role for role in WRITERS if role != "national_office")
CHECKERS = ("inspector", "national_office")


class SupervisionRoutes:
    SERVICE = "supervision"
    PATHS = [
        ("/campaigns", "post", "专项督查 Launch a supervision campaign", schemas.CampaignSchema, None),
        ("/campaigns/{campaign_id}", "get", "Read a campaign with its inspection groups", None, None),
        ("/campaigns/{campaign_id}/close", "post", "Close a campaign", schemas.CloseSchema, None),
        ("/campaigns/{campaign_id}/self-inspections", "post", "自查 File a unit's self-inspection report",
         schemas.SelfInspectionSchema, None),
        ("/campaigns/{campaign_id}/statistics-table", "get", "统计表 Declared vs registered, with discrepancies",
         None, schemas.StatisticsTableQuery),
        ("/campaigns/{campaign_id}/field-inspections", "post", "实地督查 Schedule inspection groups",
         schemas.FieldInspectionSchema, None),
        ("/campaigns/{campaign_id}/findings", "post", "Record a finding (an assigned inspector)",
         schemas.FindingSchema, None),
        ("/campaigns/{campaign_id}/spot-checks", "post", "抽查 Draw a reproducible sample", schemas.SpotCheckSchema, None),
        ("/rectifications", "get", "整改 Rectification tracking as of a date", None, schemas.RectificationQuery),
        ("/rectifications/summary", "get", "Open, overdue and verified items per unit", None,
         schemas.RectificationSummaryQuery),
        ("/rectifications/{item_id}/progress", "post", "Report progress on an item", schemas.ProgressSchema, None),
        ("/rectifications/{item_id}/submit", "post", "Submit evidence", schemas.SubmitSchema, None),
        ("/rectifications/{item_id}/verify", "post", "Verify an item", schemas.VerifySchema, None),
        ("/rectifications/{item_id}/reopen", "post", "Reopen an item", schemas.ReopenSchema, None),
    ]

    supervision = BoundedRpcProxy("supervision")

    @http("POST", API + "/campaigns")
    def launch_campaign(self, request):
        actor = self.auth.actor(request, ("national_office",))
        form = load_body(request, schemas.CampaignSchema())
        return 201, self.supervision.launch_campaign(form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/campaigns/<string:campaign_id>")
    def get_campaign(self, request, campaign_id):
        self.auth.actor(request)
        return self.supervision.get_campaign(campaign_id)

    @http("POST", API + "/campaigns/<string:campaign_id>/close")
    def close_campaign(self, request, campaign_id):
        actor = self.auth.actor(request, ("national_office",))
        form = load_body(request, schemas.CloseSchema())
        return self.supervision.close_campaign(campaign_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/campaigns/<string:campaign_id>/self-inspections")
    def submit_self_inspection(self, request, campaign_id):
        actor = self.auth.actor(request, RESPONSIBLE_UNITS)
        form = load_body(request, schemas.SelfInspectionSchema())
        return 201, self.supervision.submit_self_inspection(campaign_id, form, actor.to_dict(),
                                                            keyed_request(request))

    @http("GET", API + "/campaigns/<string:campaign_id>/statistics-table")
    def statistics_table(self, request, campaign_id):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.StatisticsTableQuery())
        return self.supervision.statistics_table(campaign_id, query["unit"], actor.to_dict())

    @http("POST", API + "/campaigns/<string:campaign_id>/field-inspections")
    def schedule_field_inspection(self, request, campaign_id):
        actor = self.auth.actor(request, ("national_office",))
        form = load_body(request, schemas.FieldInspectionSchema())
        return 201, self.supervision.schedule_field_inspection(campaign_id, form, actor.to_dict(),
                                                                 keyed_request(request))

    @http("POST", API + "/campaigns/<string:campaign_id>/findings")
    def record_finding(self, request, campaign_id):
        actor = self.auth.actor(request, ("inspector",))
        form = load_body(request, schemas.FindingSchema())
        return 201, self.supervision.record_finding(campaign_id, form, actor.to_dict(),
                                                    keyed_request(request))

    @http("POST", API + "/campaigns/<string:campaign_id>/spot-checks")
    def draw_spot_check(self, request, campaign_id):
        actor = self.auth.actor(request, CHECKERS)
        form = load_body(request, schemas.SpotCheckSchema())
        return 201, self.supervision.draw_spot_check(campaign_id, form, actor.to_dict(),
                                                     keyed_request(request))

    @http("GET", API + "/rectifications")
    def rectifications(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.RectificationQuery())
        return self.supervision.rectifications(actor.to_dict(), query.get("unit"), query.get("campaign"),
                                               query.get("status"), query["as_of"], query["cursor"], query["limit"])

    @http("GET", API + "/rectifications/summary")
    def rectification_summary(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.RectificationSummaryQuery())
        return self.supervision.rectification_summary(query.get("unit"), query["as_of"], query.get("campaign"))

    @http("POST", API + "/rectifications/<string:item_id>/<string:move>")
    def move_rectification(self, request, item_id, move):
        if move not in schemas.MOVE_SCHEMAS:
            raise NotFound(f"no such move: {move}", {"path": ["one of progress, submit, verify, reopen"]})
        actor = self.auth.actor(request, RESPONSIBLE_UNITS if move in ("progress", "submit") else CHECKERS)
        form = load_body(request, schemas.MOVE_SCHEMAS[move]())
        return self.supervision.move_rectification(item_id, move, form, actor.to_dict(),
                                                   keyed_request(request))
