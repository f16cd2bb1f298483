"""HTTP paths of the registry (API.md "Registry"), relayed to the registry service over RPC."""

from werkzeug.wrappers import Response

from gateway import imports
from gateway import registry_schemas as schemas
from gateway.openapi import route
from gateway.relay import command, lookup
from gateway.requests import keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from kernel.auth import ERASERS, WRITERS
from services.registry.queries import MAX_PAGE, csv_lines


class RegistryRoutes:
    SERVICE = "registry"

    registry = BoundedRpcProxy("registry")

    register_expert = command(
        "POST",
        "/experts",
        "登记科技专家 Register an expert",
        "registry.register_expert",
        schemas.ExpertSchema,
        WRITERS,
        status=201,
    )
    get_expert = lookup("/experts/<string:expert_id>", "Read an expert", "registry.get_expert")

    list_experts = lookup(
        "/experts", "List experts", "registry.list_experts", query=schemas.ExpertListQuery
    )

    register_household = command(
        "POST",
        "/households",
        "登记建档立卡贫困户 Register a household",
        "registry.register_household",
        schemas.HouseholdSchema,
        WRITERS,
        status=201,
    )

    @route(
        "POST",
        "/households/import",
        "批量导入 Import households (JSON array or CSV)",
        body=imports.BODIES,
    )
    def import_households(self, request):
        self.auth.authenticate(request, WRITERS)
        rows, rejected = imports.validate(imports.parse(request))
        batches = list(imports.batches(rows))
        results = [
            self.registry.import_households(batch, last=number == len(batches))
            for number, batch in enumerate(batches, start=1)
        ]
        return imports.summary(results, rejected)

    file_pairing = command(
        "POST",
        "/pairings",
        "结对帮扶备案 File a pairing agreement",
        "registry.file_pairing",
        schemas.PairingSchema,
        WRITERS,
        status=201,
    )
    revoke_expert = command(
        "POST",
        "/experts/<string:expert_id>/revoke",
        "Revoke an expert's registration",
        "registry.revoke",
        schemas.RevocationSchema,
        WRITERS,
        args=("expert",),
    )
    correct_expert = command(
        "POST",
        "/experts/<string:expert_id>/corrections",
        "Correct an expert's record",
        "registry.correct",
        schemas.ExpertCorrectionSchema,
        WRITERS,
        args=("expert",),
    )
    erase_expert = command(
        "POST",
        "/experts/<string:expert_id>/erase",
        "Erase an expert's personal data (national office)",
        "registry.erase_expert",
        schemas.ErasureSchema,
        ERASERS,
    )
    register_association = command(
        "POST",
        "/associations",
        "登记农技协/联合会 Register an association or federation",
        "registry.register_association",
        schemas.AssociationSchema,
        WRITERS,
        status=201,
    )
    revoke_association = command(
        "POST",
        "/associations/<string:credit_code>/revoke",
        "Revoke an association",
        "registry.revoke",
        schemas.RevocationSchema,
        WRITERS,
        args=("association",),
    )
    correct_association = command(
        "POST",
        "/associations/<string:credit_code>/corrections",
        "Correct an association",
        "registry.correct",
        schemas.AssociationCorrectionSchema,
        WRITERS,
        args=("association",),
    )
    revoke_household = command(
        "POST",
        "/households/<string:code>/revoke",
        "Revoke a household",
        "registry.revoke",
        schemas.RevocationSchema,
        WRITERS,
        args=("household",),
    )
    correct_household = command(
        "POST",
        "/households/<string:code>/corrections",
        "Correct a household",
        "registry.correct",
        schemas.HouseholdCorrectionSchema,
        WRITERS,
        args=("household",),
    )
    erase_household = command(
        "POST",
        "/households/<string:code>/erase",
        "Erase a household head's personal data (national office)",
        "registry.erase_household",
        schemas.ErasureSchema,
        ERASERS,
    )
    lift_out = command(
        "POST",
        "/households/<string:code>/lifted-out",
        "脱贫 Record a household lifted out of poverty",
        "registry.lift_out",
        schemas.LiftedOutSchema,
        WRITERS,
        status=201,
    )
    log_service = command(
        "POST",
        "/service-logs",
        "工作台账 Record a help activity",
        "registry.log_service",
        schemas.ServiceLogSchema,
        WRITERS,
        status=201,
    )

    @route(
        "PUT",
        "/targets/<path:unit>",
        "目标任务 Set a unit's targets for a year",
        body=schemas.TargetsSchema,
    )
    def set_targets(self, request, unit):
        self.auth.authenticate(request, WRITERS)
        schemas.TwoCountsQuery().load({"unit": unit})
        form = load_body(request, schemas.TargetsSchema())
        year, effective_date = form.pop("year"), form.pop("effective_date")
        return self.registry.set_targets(
            unit,
            {"year": year, "targets": form, "effective_date": effective_date},
            keyed_request(request),
        )

    @route(
        "GET",
        "/two-counts/explain",
        "The records and events behind one figure",
        query=schemas.ExplainQuery,
    )
    def explain(self, request):
        self.auth.authenticate(request)
        query = load_query(request, schemas.ExplainQuery())
        args = (query["unit"], query["metric"], query["as_of"])
        if query["format"] == "json":
            return self.registry.explain(*args, limit=query["limit"], cursor=query.get("cursor"))
        # CSV: every record, streamed a page at a time (memory bounded by a page). The first page
        # is read here, so that a refusal is still an error response, not a broken stream.
        first = self.registry.explain(*args, limit=MAX_PAGE)
        return Response(
            _csv_stream(self.registry, args, first),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{query["metric"]}-{query["as_of"]}.csv"',
                "X-Figure": str(first["total"]),
                "X-Registry-Position": str(first["positions"]["registry"]),
            },
        )

    two_counts = lookup(
        "/two-counts",
        "两数 for a unit as of a date",
        "registry.two_counts",
        query=schemas.TwoCountsQuery,
    )


def _csv_stream(registry, args, page):
    """The CSV lines of every record behind a figure, asking the registry for one page at a time."""

    def records(page):
        while True:
            yield from page["records"]
            if page["next_cursor"] is None:
                return
            page = registry.explain(*args, limit=MAX_PAGE, cursor=page["next_cursor"])

    return (line.encode() for line in csv_lines(page["metric"], records(page)))
