"""HTTP paths of the registry (API.md "Registry"), relayed to the registry service over RPC."""

from werkzeug.wrappers import Response

from gateway import imports
from gateway import registry_schemas as schemas
from gateway.openapi import route
from gateway.requests import keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from kernel.auth import ERASERS, WRITERS
from services.registry.queries import MAX_PAGE, csv_lines


class RegistryRoutes:
    SERVICE = "registry"

    registry = BoundedRpcProxy("registry")

    @route("POST", "/experts", "登记科技专家 Register an expert", body=schemas.ExpertSchema)
    def register_expert(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ExpertSchema())
        return 201, self.registry.register_expert(form, actor.to_dict(), keyed_request(request))

    @route("GET", "/experts/<string:expert_id>", "Read an expert")
    def get_expert(self, request, expert_id):
        actor = self.auth.actor(request)
        return self.registry.get_expert(expert_id, actor.to_dict())

    @route("GET", "/experts", "List experts", query=schemas.ExpertListQuery)
    def list_experts(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.ExpertListQuery())
        return self.registry.list_experts(
            actor.to_dict(),
            query.get("unit"),
            query.get("specialty"),
            query["cursor"],
            query["limit"],
        )

    @route(
        "POST",
        "/households",
        "登记建档立卡贫困户 Register a household",
        body=schemas.HouseholdSchema,
    )
    def register_household(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.HouseholdSchema())
        return 201, self.registry.register_household(form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/households/import",
        "批量导入 Import households (JSON array or CSV)",
        body=imports.BODIES,
    )
    def import_households(self, request):
        actor = self.auth.actor(request, WRITERS)
        rows, rejected = imports.validate(imports.parse(request))
        results = [
            self.registry.import_households(batch, actor.to_dict())
            for batch in imports.batches(rows)
        ]
        return imports.summary(results, rejected)

    @route("POST", "/pairings", "结对帮扶备案 File a pairing agreement", body=schemas.PairingSchema)
    def file_pairing(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.PairingSchema())
        return 201, self.registry.file_pairing(form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/experts/<string:expert_id>/revoke",
        "Revoke an expert's registration",
        body=schemas.RevocationSchema,
    )
    def revoke_expert(self, request, expert_id):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.RevocationSchema())
        return self.registry.revoke_expert(
            expert_id, change, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/experts/<string:expert_id>/corrections",
        "Correct an expert's record",
        body=schemas.ExpertCorrectionSchema,
    )
    def correct_expert(self, request, expert_id):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.ExpertCorrectionSchema())
        return self.registry.correct_expert(
            expert_id, change, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/experts/<string:expert_id>/erase",
        "Erase an expert's personal data (national office)",
        body=schemas.ErasureSchema,
    )
    def erase_expert(self, request, expert_id):
        actor = self.auth.actor(request, ERASERS)
        form = load_body(request, schemas.ErasureSchema())
        return self.registry.erase_expert(expert_id, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/associations",
        "登记农技协/联合会 Register an association or federation",
        body=schemas.AssociationSchema,
    )
    def register_association(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.AssociationSchema())
        return 201, self.registry.register_association(
            form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/associations/<string:credit_code>/revoke",
        "Revoke an association",
        body=schemas.RevocationSchema,
    )
    def revoke_association(self, request, credit_code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.RevocationSchema())
        return self.registry.revoke_association(
            credit_code, change, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/associations/<string:credit_code>/corrections",
        "Correct an association",
        body=schemas.AssociationCorrectionSchema,
    )
    def correct_association(self, request, credit_code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.AssociationCorrectionSchema())
        return self.registry.correct_association(
            credit_code, change, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/households/<string:code>/revoke",
        "Revoke a household",
        body=schemas.RevocationSchema,
    )
    def revoke_household(self, request, code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.RevocationSchema())
        return self.registry.revoke_household(code, change, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/households/<string:code>/corrections",
        "Correct a household",
        body=schemas.HouseholdCorrectionSchema,
    )
    def correct_household(self, request, code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.HouseholdCorrectionSchema())
        return self.registry.correct_household(
            code, change, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/households/<string:code>/erase",
        "Erase a household head's personal data (national office)",
        body=schemas.ErasureSchema,
    )
    def erase_household(self, request, code):
        actor = self.auth.actor(request, ERASERS)
        form = load_body(request, schemas.ErasureSchema())
        return self.registry.erase_household(code, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/households/<string:code>/lifted-out",
        "脱贫 Record a household lifted out of poverty",
        body=schemas.LiftedOutSchema,
    )
    def lift_out(self, request, code):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.LiftedOutSchema())
        return 201, self.registry.lift_out(code, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST", "/service-logs", "工作台账 Record a help activity", body=schemas.ServiceLogSchema
    )
    def log_service(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ServiceLogSchema())
        return 201, self.registry.log_service(form, actor.to_dict(), keyed_request(request))

    @route(
        "PUT",
        "/targets/<path:unit>",
        "目标任务 Set a unit's targets for a year",
        body=schemas.TargetsSchema,
    )
    def set_targets(self, request, unit):
        actor = self.auth.actor(request, WRITERS)
        schemas.TwoCountsQuery().load({"unit": unit})
        form = load_body(request, schemas.TargetsSchema())
        year, effective_date = form.pop("year"), form.pop("effective_date")
        return self.registry.set_targets(
            unit,
            {"year": year, "targets": form, "effective_date": effective_date},
            actor.to_dict(),
            keyed_request(request),
        )

    @route(
        "GET",
        "/two-counts/explain",
        "The records and events behind one figure",
        query=schemas.ExplainQuery,
    )
    def explain(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.ExplainQuery())
        args = (query["unit"], query["metric"], query["as_of"], actor.to_dict())
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

    @route("GET", "/two-counts", "两数 for a unit as of a date", query=schemas.TwoCountsQuery)
    def two_counts(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.TwoCountsQuery())
        return self.registry.two_counts(query["unit"], query["as_of"])


def _csv_stream(registry, args, page):
    """The CSV lines of every record behind a figure, asking the registry for one page at a time."""

    def records(page):
        while True:
            yield from page["records"]
            if page["next_cursor"] is None:
                return
            page = registry.explain(*args, limit=MAX_PAGE, cursor=page["next_cursor"])

    return (line.encode() for line in csv_lines(page["metric"], records(page)))
