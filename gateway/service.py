"""The gateway service: HTTP in, RPC to the services out. Validation and auth live here."""
import json

from nameko.rpc import RpcProxy

from gateway import imports, schemas
from gateway.auth import Auth
from gateway.entrypoints import http
from gateway.openapi import openapi_document
from kernel.auth import WRITERS
from kernel.errors import NotFound, ValidationFailed

API = "/api/v1"


def load_body(request, schema):
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except (ValueError, RecursionError) as bad:
        raise ValidationFailed("the body is not valid JSON", {"_body": [f"invalid JSON: {type(bad).__name__}"]})
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", {"_body": ["expected a JSON object"]})
    return schema.load(body)


def idempotency_key(request):
    """The ``Idempotency-Key`` header, if any (the service binds it to the requester and body)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ValidationFailed("Idempotency-Key is too long", {"Idempotency-Key": ["at most 200 characters"]})
    return key or None


def load_query(request, schema):
    return schema.load(request.args.to_dict())


class GatewayService:
    name = "gateway"

    auth = Auth()
    registry = RpcProxy("registry")

    # -- registry -------------------------------------------------------------------------
    @http("POST", API + "/experts")
    def register_expert(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ExpertSchema())
        return 201, self.registry.register_expert(form, actor.to_dict(), idempotency_key(request))

    @http("GET", API + "/experts/<string:expert_id>")
    def get_expert(self, request, expert_id):
        actor = self.auth.actor(request)
        return self.registry.get_expert(expert_id, actor.to_dict())

    @http("GET", API + "/experts")
    def list_experts(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.ExpertListQuery())
        return self.registry.list_experts(actor.to_dict(), query.get("unit"), query.get("specialty"),
                                          query["cursor"], query["limit"])

    @http("POST", API + "/households")
    def register_household(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.HouseholdSchema())
        return 201, self.registry.register_household(form, actor.to_dict(), idempotency_key(request))

    @http("POST", API + "/households/import")
    def import_households(self, request):
        actor = self.auth.actor(request, WRITERS)
        rows, rejected = imports.validate(imports.parse(request))
        results = [self.registry.import_households(batch, actor.to_dict()) for batch in imports.batches(rows)]
        return imports.summary(results, rejected)

    @http("POST", API + "/pairings")
    def file_pairing(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.PairingSchema())
        return 201, self.registry.file_pairing(form, actor.to_dict(), idempotency_key(request))

    @http("POST", API + "/experts/<string:expert_id>/revoke")
    def revoke_expert(self, request, expert_id):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.RevocationSchema())
        return self.registry.revoke_expert(expert_id, change, actor.to_dict())

    @http("POST", API + "/experts/<string:expert_id>/corrections")
    def correct_expert(self, request, expert_id):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.ExpertCorrectionSchema())
        return self.registry.correct_expert(expert_id, change, actor.to_dict())

    @http("POST", API + "/associations")
    def register_association(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.AssociationSchema())
        return 201, self.registry.register_association(form, actor.to_dict(), idempotency_key(request))

    @http("POST", API + "/associations/<string:credit_code>/revoke")
    def revoke_association(self, request, credit_code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.RevocationSchema())
        return self.registry.revoke_association(credit_code, change, actor.to_dict())

    @http("POST", API + "/associations/<string:credit_code>/corrections")
    def correct_association(self, request, credit_code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.AssociationCorrectionSchema())
        return self.registry.correct_association(credit_code, change, actor.to_dict())

    @http("POST", API + "/households/<string:code>/revoke")
    def revoke_household(self, request, code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.RevocationSchema())
        return self.registry.revoke_household(code, change, actor.to_dict())

    @http("POST", API + "/households/<string:code>/corrections")
    def correct_household(self, request, code):
        actor = self.auth.actor(request, WRITERS)
        change = load_body(request, schemas.HouseholdCorrectionSchema())
        return self.registry.correct_household(code, change, actor.to_dict())

    @http("POST", API + "/households/<string:code>/lifted-out")
    def lift_out(self, request, code):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.LiftedOutSchema())
        return 201, self.registry.lift_out(code, form, actor.to_dict(), idempotency_key(request))

    @http("POST", API + "/service-logs")
    def log_service(self, request):
        actor = self.auth.actor(request, WRITERS)
        form = load_body(request, schemas.ServiceLogSchema())
        return 201, self.registry.log_service(form, actor.to_dict(), idempotency_key(request))

    @http("PUT", API + "/targets/<path:unit>")
    def set_targets(self, request, unit):
        actor = self.auth.actor(request, WRITERS)
        schemas.TwoCountsQuery().load({"unit": unit})
        form = load_body(request, schemas.TargetsSchema())
        year, effective_date = form.pop("year"), form.pop("effective_date")
        return self.registry.set_targets(unit, {"year": year, "targets": form, "effective_date": effective_date},
                                         actor.to_dict())

    @http("GET", API + "/two-counts/explain")
    def explain(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.ExplainQuery())
        return self.registry.explain(query["unit"], query["metric"], query["as_of"], actor.to_dict())

    @http("GET", API + "/two-counts")
    def two_counts(self, request):
        self.auth.actor(request)
        query = load_query(request, schemas.TwoCountsQuery())
        return self.registry.two_counts(query["unit"], query["as_of"])

    # -- operations -----------------------------------------------------------------------
    @http("GET", API + "/openapi.json")
    def openapi(self, request):
        return openapi_document()

    @http("GET,POST,PUT,PATCH,DELETE", "/<path:anything>")
    def unknown(self, request, anything):
        raise NotFound(f"no such path: /{anything}", {"path": ["unknown"]})

    @http("GET", "/health")
    def health(self, request):
        return {"status": "ok"}

    @http("GET", "/ready")
    def ready(self, request):
        checks = {}
        for name, proxy in (("registry", self.registry),):
            try:
                checks[name] = "ok" if proxy.ready() else "not ready"
            except Exception as down:  # noqa: BLE001 - readiness reports, it does not raise
                checks[name] = f"unavailable: {type(down).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return (200 if ready else 503), {"ready": ready, "checks": checks}
