"""HTTP paths for auditors (read only): each service's chain checkpoints and signed Merkle
checkpoints, its log as stored, and inclusion and consistency proofs (RFC 9162, hashes base64).
Any service the gateway routes to is answerable here: its ``LogService`` RPCs do the work."""

from marshmallow import Schema, fields, validate

from gateway.fields import Position, QueryCount
from gateway.openapi import route
from gateway.requests import load_query
from kernel.errors import ValidationFailed

AUDITORS = ("auditor",)


class CheckpointsQuery(Schema):
    service = fields.String(required=True, validate=validate.Length(min=1, max=50))


LEAVES = validate.Range(min=1, max=2**53)  # positions and tree sizes: JSON-safe integers


class InclusionQuery(CheckpointsQuery):
    position = fields.Integer(required=True, validate=LEAVES)
    tree_size = fields.Integer(load_default=None, validate=LEAVES)  # default: the whole tree now


class ConsistencyQuery(CheckpointsQuery):
    first = fields.Integer(required=True, validate=LEAVES)
    second = fields.Integer(load_default=None, validate=LEAVES)  # default: the whole tree now


class StoredEventsQuery(CheckpointsQuery):
    after = Position()
    limit = QueryCount(1000, min=1, load_default=100)


class AuditRoutes:
    SERVICE = None  # reads every service's log

    @route(
        "GET",
        "/audit/checkpoints",
        "审计 A service's chain checkpoints (position, hash, time)",
        query=CheckpointsQuery,
    )
    def audit_checkpoints(self, request):
        self.auth.authenticate(request, AUDITORS)
        query = load_query(request, CheckpointsQuery())
        audited = self._audited(query["service"])
        tree = audited.signed_checkpoints()
        return {
            "service": query["service"],
            "checkpoints": audited.checkpoints(),
            "signed": [item.pop("note") for item in tree["signed"]],
            "signed_checkpoints": tree["signed"],
            "verifier_key": tree["verifier_key"],
            "verifier_keys": tree["verifier_keys"],
        }

    @route(
        "GET",
        "/audit/proofs/inclusion",
        "审计 An event's inclusion proof in its log's Merkle tree",
        query=InclusionQuery,
    )
    def audit_inclusion_proof(self, request):
        self.auth.authenticate(request, AUDITORS)
        query = load_query(request, InclusionQuery())
        return self._audited(query["service"]).inclusion_proof(
            query["position"], query["tree_size"]
        )

    @route(
        "GET",
        "/audit/proofs/consistency",
        "审计 A consistency proof between two sizes of a log's tree",
        query=ConsistencyQuery,
    )
    def audit_consistency_proof(self, request):
        self.auth.authenticate(request, AUDITORS)
        query = load_query(request, ConsistencyQuery())
        return self._audited(query["service"]).consistency_proof(query["first"], query["second"])

    @route(
        "GET",
        "/audit/events",
        "审计 A service's log as stored (state encrypted), with chain hashes",
        query=StoredEventsQuery,
    )
    def audit_events(self, request):
        self.auth.authenticate(request, AUDITORS)
        query = load_query(request, StoredEventsQuery())
        items = self._audited(query["service"]).stored_events(query["after"], query["limit"])
        return {
            "service": query["service"],
            "items": items,
            "next_cursor": items[-1]["position"] if len(items) == query["limit"] else None,
        }

    def _audited(self, service):
        services = sorted({r.SERVICE for r in type(self).__mro__ if getattr(r, "SERVICE", None)})
        if service not in services:
            raise ValidationFailed(
                f"no service {service!r}", {"service": [f"one of {', '.join(services)}"]}
            )
        return getattr(self, service)
