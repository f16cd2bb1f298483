"""OpenAPI 3 generated from the routes themselves: each route of the JSON API is declared with
``@route``, nameko's ``@http`` carrying what the document says of it (summary, body schema, query
schema), and the document is built from those declarations and the marshmallow schemas
(apispec), so it cannot drift from what is served. Query schemas become one parameter per field;
every refusal is described by the error contract."""

import functools
import re
from dataclasses import dataclass

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.entrypoints import http
from gateway.requests import API

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "details"],
    "additionalProperties": False,
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "details": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
ERROR = {
    "description": "error contract: {error, message, details}",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "a retry with the same key returns the first result and records nothing",
    "schema": {"type": "string", "maxLength": 200},
}
REFUSALS = ("400", "401", "403", "404", "405", "409", "413", "414", "422", "431", "503")


@dataclass(frozen=True)
class Operation:
    method: str  # "get", "post", "put"
    path: str  # under the API's root, with OpenAPI's {name} for each variable
    summary: str
    body: object = None  # a schema class, or a ready requestBody content map
    query: object = None  # a schema class: one query parameter per field


def route(method, rule, summary, body=None, query=None):
    """``@http(method, API + rule)`` (a werkzeug rule: ``/projects/<string:project_id>``) that the
    OpenAPI document describes as one operation."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    operation = Operation(method.lower(), path, summary, body, query)
    entrypoint = http(method, API + rule)

    def declare(handler):
        handler.operation = operation
        return entrypoint(handler)

    return declare


def operations(routes):
    """The operations the route mixins ``routes`` declare, in the order they are written."""
    return [
        member.operation
        for mixin in routes
        for member in vars(mixin).values()
        if isinstance(getattr(member, "operation", None), Operation)
    ]


@functools.lru_cache(maxsize=1)
def openapi_document(routes):
    """The document for the operations the route mixins ``routes`` declare with ``@route``."""
    spec = APISpec(
        title="科技助力精准扶贫 platform API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": "/api/v1"}],
        components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    )
    spec.components.schema("Error", ERROR_SCHEMA)
    for declared in operations(routes):
        success = {"200": {"description": "ok"}}
        if declared.method == "post":
            success["201"] = {"description": "created"}
        operation = {
            "summary": declared.summary,
            "security": [{"bearer": []}],
            "responses": {**success, **{status: ERROR for status in REFUSALS}},
        }
        body, query = declared.body, declared.query
        if body is not None:
            content = body if isinstance(body, dict) else {"application/json": {"schema": body}}
            operation["requestBody"] = {"required": True, "content": content}
        if query is not None:
            operation["parameters"] = [{"in": "query", "schema": query}]
        if declared.method in ("post", "put"):
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
        for name in re.findall(r"{(\w+)}", declared.path):
            operation.setdefault("parameters", []).append(
                {
                    "in": "path",
                    "name": name,
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                }
            )
        spec.path(path=declared.path, operations={declared.method: operation})
    return spec.to_dict()
