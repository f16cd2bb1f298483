"""HTTP paths of supervision (API.md "Supervision"), relayed to the supervision service over RPC."""

from gateway import supervision_schemas as schemas
from gateway.entrypoints import http
from gateway.relay import command, lookup
from gateway.requests import API
from gateway.rpc import BoundedRpcProxy
from kernel.auth import WRITERS
from kernel.errors import NotFound

RESPONSIBLE_UNITS = tuple(role for role in WRITERS if role != "national_office")
CHECKERS = ("inspector", "national_office")
NATIONAL = ("national_office",)


class SupervisionRoutes:
    SERVICE = "supervision"

    supervision = BoundedRpcProxy("supervision")

    launch_campaign = command(
        "POST",
        "/campaigns",
        "专项督查 Launch a supervision campaign",
        "supervision.launch_campaign",
        schemas.CampaignSchema,
        NATIONAL,
        status=201,
    )

    campaigns = lookup(
        "/campaigns",
        "The campaigns in the order they were launched",
        "supervision.campaigns",
        query=schemas.CampaignListQuery,
    )
    get_campaign = lookup(
        "/campaigns/<string:campaign_id>",
        "Read a campaign with its inspection groups",
        "supervision.get_campaign",
    )
    close_campaign = command(
        "POST",
        "/campaigns/<string:campaign_id>/close",
        "Close a campaign",
        "supervision.close_campaign",
        schemas.CloseSchema,
        NATIONAL,
    )
    submit_self_inspection = command(
        "POST",
        "/campaigns/<string:campaign_id>/self-inspections",
        "自查 File a unit's self-inspection report",
        "supervision.submit_self_inspection",
        schemas.SelfInspectionSchema,
        RESPONSIBLE_UNITS,
        status=201,
    )

    statistics_table = lookup(
        "/campaigns/<string:campaign_id>/statistics-table",
        "统计表 Declared vs registered, with discrepancies",
        "supervision.statistics_table",
        query=schemas.StatisticsTableQuery,
    )
    schedule_field_inspection = command(
        "POST",
        "/campaigns/<string:campaign_id>/field-inspections",
        "实地督查 Schedule inspection groups",
        "supervision.schedule_field_inspection",
        schemas.FieldInspectionSchema,
        NATIONAL,
        status=201,
    )
    record_finding = command(
        "POST",
        "/campaigns/<string:campaign_id>/findings",
        "Record a finding (an assigned inspector)",
        "supervision.record_finding",
        schemas.FindingSchema,
        ("inspector",),
        status=201,
    )
    draw_spot_check = command(
        "POST",
        "/campaigns/<string:campaign_id>/spot-checks",
        "抽查 Draw a reproducible sample",
        "supervision.draw_spot_check",
        schemas.SpotCheckSchema,
        CHECKERS,
        status=201,
    )

    rectifications = lookup(
        "/rectifications",
        "整改 Rectification tracking as of a date",
        "supervision.rectifications",
        query=schemas.RectificationQuery,
    )
    rectification_summary = lookup(
        "/rectifications/summary",
        "Open, overdue and verified items per unit",
        "supervision.rectification_summary",
        query=schemas.RectificationSummaryQuery,
    )
    report_rectification_progress = command(
        "POST",
        "/rectifications/<string:item_id>/progress",
        "Report progress on an item",
        "supervision.move_rectification",
        schemas.ProgressSchema,
        RESPONSIBLE_UNITS,
        args=("progress",),
    )
    submit_rectification = command(
        "POST",
        "/rectifications/<string:item_id>/submit",
        "Submit evidence",
        "supervision.move_rectification",
        schemas.SubmitSchema,
        RESPONSIBLE_UNITS,
        args=("submit",),
    )
    verify_rectification = command(
        "POST",
        "/rectifications/<string:item_id>/verify",
        "Verify an item",
        "supervision.move_rectification",
        schemas.VerifySchema,
        CHECKERS,
        args=("verify",),
    )
    reopen_rectification = command(
        "POST",
        "/rectifications/<string:item_id>/reopen",
        "Reopen an item",
        "supervision.move_rectification",
        schemas.ReopenSchema,
        CHECKERS,
        args=("reopen",),
    )

    @http("POST", API + "/rectifications/<string:item_id>/<string:move>")
    def unknown_rectification_move(self, request, item_id, move):
        raise NotFound(
            f"no such move: {move}", {"path": ["one of progress, submit, verify, reopen"]}
        )
