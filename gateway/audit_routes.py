"""HTTP paths for auditors (read only): each service's chain checkpoints and its log as stored.
Any service the gateway routes to is answerable here: its ``LogService`` RPCs do the work."""
from marshmallow import Schema, fields, validate

from gateway.entrypoints import http
from gateway.requests import API, load_query
from kernel.errors import ValidationFailed

AUDITORS = ("auditor",)


class CheckpointsQuery(Schema):
    service = fields.String(required=True)


class StoredEventsQuery(CheckpointsQuery):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditRoutes:
    SERVICE = None  # reads every service's log
    PATHS = [
        ("/audit/checkpoints", "get", "审计 A service's chain checkpoints (position, hash, time)", None,
         CheckpointsQuery),
        ("/audit/events", "get", "审计 A service's log as stored (state encrypted), with chain hashes", None,
         StoredEventsQuery),
    ]

    @http("GET", API + "/audit/checkpoints")
    def audit_checkpoints(self, request):
        self.auth.actor(request, AUDITORS)
        query = load_query(request, CheckpointsQuery())
        return {"service": query["service"], "checkpoints": self._audited(query["service"]).checkpoints()}

    @http("GET", API + "/audit/events")
    def audit_events(self, request):
        self.auth.actor(request, AUDITORS)
        query = load_query(request, StoredEventsQuery())
        items = self._audited(query["service"]).stored_events(query["after"], query["limit"])
        return {"service": query["service"], "items": items,
                "next_cursor": items[-1]["position"] if len(items) == query["limit"] else None}

    def _audited(self, service):
        services = sorted({r.SERVICE for r in type(self).__mro__ if getattr(r, "SERVICE", None)})
        if service not in services:
            raise ValidationFailed(f"no service {service!r}", {"service": [f"one of {', '.join(services)}"]})
        return getattr(self, service)
