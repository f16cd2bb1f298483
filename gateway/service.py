"""The gateway service: HTTP in, RPC to the services out. Validation and auth live here.

Each service's paths are a mixin in its own module, named by the service's declaration and found
by the composition root (kjfp/bootstrap.py); nameko finds inherited entrypoints."""

import eventlet

from gateway.audit_routes import AuditRoutes
from gateway.auth import Auth
from gateway.entrypoints import http
from gateway.openapi import openapi_document
from gateway.requests import API
from gateway.web_routes import WebRoutes
from kjfp.bootstrap import route_mixins

READY_SECONDS = 5  # a probe must answer sooner than a request may wait
ROUTES = (*route_mixins(), AuditRoutes, WebRoutes)


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
        return self._readiness()

    @http("GET", API + "/ready")
    def ready_api(self, request):
        return self._readiness()

    def _readiness(self):
        """200 when every service answers and each of its projections is running and built; else
        503 naming the service, and for a projection stopped at an event it cannot apply, the
        projection, the log position and the error (reads answer meanwhile, marked stale)."""
        checks, problems = {}, []
        for name in (routes.SERVICE for routes in ROUTES if routes.SERVICE):
            try:
                with eventlet.Timeout(READY_SECONDS):
                    answer = getattr(self, name).ready()
            except eventlet.Timeout:
                checks[name] = f"unavailable: no answer within {READY_SECONDS} s"
                continue
            except Exception as down:  # noqa: BLE001 - readiness reports, it does not raise
                checks[name] = f"unavailable: {type(down).__name__}"
                continue
            if not isinstance(answer, dict):  # a replica of an earlier version: True when ready
                answer = {"ready": bool(answer), "projections": []}
            checks[name] = "ok" if answer["ready"] else "not ready"
            for projection in answer["projections"]:
                if projection["state"] == "stopped" or projection["building"]:
                    problems.append({"service": name, **projection})
        ready = all(v == "ok" for v in checks.values())
        return (200 if ready else 503), {"ready": ready, "checks": checks, "projections": problems}
