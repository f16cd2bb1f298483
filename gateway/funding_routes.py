"""HTTP paths of funding (API.md "Funding"), relayed to the funding service over RPC."""

from gateway import funding_schemas as schemas
from gateway.relay import command, lookup
from gateway.rpc import BoundedRpcProxy
from kernel.auth import WRITERS


class FundingRoutes:
    SERVICE = "funding"

    funding = BoundedRpcProxy("funding")

    configure_programme = command(
        "POST",
        "/programmes",
        "资助项目计划 Configure a funding programme",
        "funding.configure_programme",
        schemas.ProgrammeSchema,
        WRITERS,
        status=201,
    )
    get_programme = lookup(
        "/programmes/<string:programme_id>", "Read a programme", "funding.get_programme"
    )
    apply_for_project = command(
        "POST",
        "/projects",
        "项目书 Apply for a project",
        "funding.apply",
        schemas.ProjectSchema,
        WRITERS,
        status=201,
    )
    get_project = lookup(
        "/projects/<string:project_id>",
        "A project with its history and payments (log positions)",
        "funding.get_project",
    )
    review_project = command(
        "POST",
        "/projects/<string:project_id>/reviews",
        "审核 One level's decision",
        "funding.review",
        schemas.ReviewSchema,
        WRITERS,
        status=201,
    )
    publicize_project = command(
        "POST",
        "/projects/<string:project_id>/publicize",
        "公示 Start the public notice",
        "funding.publicize",
        schemas.StepSchema,
        WRITERS,
    )
    confirm_project = command(
        "POST",
        "/projects/<string:project_id>/confirm",
        "生效 Confirm after the notice",
        "funding.confirm",
        schemas.StepSchema,
        WRITERS,
    )
    disburse = command(
        "POST",
        "/disbursements",
        "拨付 Pay a project-year's subsidy",
        "funding.disburse",
        schemas.DisbursementSchema,
        WRITERS,
        status=201,
    )
    funding_summary = lookup(
        "/funding/summary",
        "Approved projects, money paid (fen, 万元), quota places",
        "funding.summary",
        query=schemas.SummaryQuery,
    )
