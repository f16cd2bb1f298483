"""HTTP paths of supervision (API.md "Supervision"), relayed to the supervision service over RPC."""

from gateway import supervision_schemas as schemas
from gateway.entrypoints import http
from gateway.openapi import route
from gateway.requests import API, keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from kernel.auth import WRITERS
from kernel.errors import NotFound

RESPONSIBLE_UNITS = tuple(role for role in WRITERS if role != "national_office")
CHECKERS = ("inspector", "national_office")


class SupervisionRoutes:
    SERVICE = "supervision"

    supervision = BoundedRpcProxy("supervision")

    @route(
        "POST", "/campaigns", "专项督查 Launch a supervision campaign", body=schemas.CampaignSchema
    )
    def launch_campaign(self, request):
        actor = self.auth.actor(request, ("national_office",))
        form = load_body(request, schemas.CampaignSchema())
        return 201, self.supervision.launch_campaign(form, actor.to_dict(), keyed_request(request))

    @route(
        "GET",
        "/campaigns",
        "The campaigns in the order they were launched",
        query=schemas.CampaignListQuery,
    )
    def campaigns(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.CampaignListQuery())
        return self.supervision.campaigns(
            query.get("year"), query.get("cursor") or 0, query["limit"]
        )

    @route("GET", "/campaigns/<string:campaign_id>", "Read a campaign with its inspection groups")
    def get_campaign(self, request, campaign_id):
        self.auth.actor(request)
        return self.supervision.get_campaign(campaign_id)

    @route(
        "POST",
        "/campaigns/<string:campaign_id>/close",
        "Close a campaign",
        body=schemas.CloseSchema,
    )
    def close_campaign(self, request, campaign_id):
        actor = self.auth.actor(request, ("national_office",))
        form = load_body(request, schemas.CloseSchema())
        return self.supervision.close_campaign(
            campaign_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/campaigns/<string:campaign_id>/self-inspections",
        "自查 File a unit's self-inspection report",
        body=schemas.SelfInspectionSchema,
    )
    def submit_self_inspection(self, request, campaign_id):
        actor = self.auth.actor(request, RESPONSIBLE_UNITS)
        form = load_body(request, schemas.SelfInspectionSchema())
        return 201, self.supervision.submit_self_inspection(
            campaign_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "GET",
        "/campaigns/<string:campaign_id>/statistics-table",
        "统计表 Declared vs registered, with discrepancies",
        query=schemas.StatisticsTableQuery,
    )
    def statistics_table(self, request, campaign_id):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.StatisticsTableQuery())
        return self.supervision.statistics_table(campaign_id, query["unit"], actor.to_dict())

    @route(
        "POST",
        "/campaigns/<string:campaign_id>/field-inspections",
        "实地督查 Schedule inspection groups",
        body=schemas.FieldInspectionSchema,
    )
    def schedule_field_inspection(self, request, campaign_id):
        actor = self.auth.actor(request, ("national_office",))
        form = load_body(request, schemas.FieldInspectionSchema())
        return 201, self.supervision.schedule_field_inspection(
            campaign_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/campaigns/<string:campaign_id>/findings",
        "Record a finding (an assigned inspector)",
        body=schemas.FindingSchema,
    )
    def record_finding(self, request, campaign_id):
        actor = self.auth.actor(request, ("inspector",))
        form = load_body(request, schemas.FindingSchema())
        return 201, self.supervision.record_finding(
            campaign_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/campaigns/<string:campaign_id>/spot-checks",
        "抽查 Draw a reproducible sample",
        body=schemas.SpotCheckSchema,
    )
    def draw_spot_check(self, request, campaign_id):
        actor = self.auth.actor(request, CHECKERS)
        form = load_body(request, schemas.SpotCheckSchema())
        return 201, self.supervision.draw_spot_check(
            campaign_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "GET",
        "/rectifications",
        "整改 Rectification tracking as of a date",
        query=schemas.RectificationQuery,
    )
    def rectifications(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.RectificationQuery())
        return self.supervision.rectifications(
            actor.to_dict(),
            query.get("unit"),
            query.get("campaign"),
            query.get("status"),
            query["as_of"],
            query["cursor"],
            query["limit"],
        )

    @route(
        "GET",
        "/rectifications/summary",
        "Open, overdue and verified items per unit",
        query=schemas.RectificationSummaryQuery,
    )
    def rectification_summary(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.RectificationSummaryQuery())
        return self.supervision.rectification_summary(
            query.get("unit"), query["as_of"], query.get("campaign")
        )

    @route(
        "POST",
        "/rectifications/<string:item_id>/progress",
        "Report progress on an item",
        body=schemas.ProgressSchema,
    )
    def report_rectification_progress(self, request, item_id):
        return self._move(request, item_id, "progress", RESPONSIBLE_UNITS, schemas.ProgressSchema)

    @route(
        "POST",
        "/rectifications/<string:item_id>/submit",
        "Submit evidence",
        body=schemas.SubmitSchema,
    )
    def submit_rectification(self, request, item_id):
        return self._move(request, item_id, "submit", RESPONSIBLE_UNITS, schemas.SubmitSchema)

    @route(
        "POST",
        "/rectifications/<string:item_id>/verify",
        "Verify an item",
        body=schemas.VerifySchema,
    )
    def verify_rectification(self, request, item_id):
        return self._move(request, item_id, "verify", CHECKERS, schemas.VerifySchema)

    @route(
        "POST",
        "/rectifications/<string:item_id>/reopen",
        "Reopen an item",
        body=schemas.ReopenSchema,
    )
    def reopen_rectification(self, request, item_id):
        return self._move(request, item_id, "reopen", CHECKERS, schemas.ReopenSchema)

    @http("POST", API + "/rectifications/<string:item_id>/<string:move>")
    def unknown_rectification_move(self, request, item_id, move):
        raise NotFound(
            f"no such move: {move}", {"path": ["one of progress, submit, verify, reopen"]}
        )

    def _move(self, request, item_id, move, roles, schema):
        actor = self.auth.actor(request, roles)
        form = load_body(request, schema())
        return self.supervision.move_rectification(
            item_id, move, form, actor.to_dict(), keyed_request(request)
        )
