"""The gateway service: HTTP in, RPC to the services out. Validation and auth live here.

Each service's paths are a mixin in its own module; nameko finds inherited entrypoints."""
import eventlet

from gateway.audit_routes import AuditRoutes
from gateway.auth import Auth
from gateway.awards_routes import AwardsRoutes
from gateway.entrypoints import http
from gateway.funding_routes import FundingRoutes
from gateway.openapi import openapi_document
from gateway.registry_routes import RegistryRoutes
from gateway.requests import API
from gateway.supervision_routes import SupervisionRoutes
from gateway.web_routes import WebRoutes

READY_SECONDS = 5  # a probe must answer sooner than a request may wait
ROUTES = (RegistryRoutes, SupervisionRoutes, AwardsRoutes, FundingRoutes, AuditRoutes, WebRoutes)


class GatewayService(*ROUTES):
    name = "gateway"

    auth = Auth()

    # -- operations -----------------------------------------------------------------------
    @http("GET", API + "/openapi.json")
    def openapi(self, request):
        return openapi_document(ROUTES)

    @http("GET", "/health")
    def health(self, request):
        return {"status": "ok"}

    @http("GET", "/ready")
    def ready(self, request):
        checks = {}
        for name in (routes.SERVICE for routes in ROUTES if routes.SERVICE):
            try:
                with eventlet.Timeout(READY_SECONDS):
                    checks[name] = "ok" if getattr(self, name).ready() else "not ready"
            except eventlet.Timeout:
                checks[name] = f"unavailable: no answer within {READY_SECONDS} s"
            except Exception as down:  # noqa: BLE001 - readiness reports, it does not raise
                checks[name] = f"unavailable: {type(down).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return (200 if ready else 503), {"ready": ready, "checks": checks}
