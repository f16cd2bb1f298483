"""OpenAPI 3 generated from the marshmallow schemas (apispec), so the document cannot drift.
Query schemas become one parameter per field; every refusal is described by the error contract."""
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

ERROR_SCHEMA = {
    "type": "object", "required": ["error", "message", "details"], "additionalProperties": False,
    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                   "details": {"type": "object", "additionalProperties": {"type": "array",
                                                                          "items": {"type": "string"}}}}}
ERROR = {"description": "error contract: {error, message, details}",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "description": "a retry with the same key returns the first result and records nothing",
                   "schema": {"type": "string", "maxLength": 200}}
REFUSALS = ("400", "401", "403", "404", "405", "409", "413", "414", "422", "431", "503")


@functools.lru_cache(maxsize=1)
def openapi_document(routes):
    """The document for the route mixins ``routes`` (each lists its ``PATHS``): ``(path, method,
    summary, body, query)`` where body is a schema class or a ready ``requestBody`` content map."""
    spec = APISpec(title="科技助力精准扶贫 platform API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   servers=[{"url": "/api/v1"}],
                   components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}})
    spec.components.schema("Error", ERROR_SCHEMA)
    for path, method, summary, body, query in (p for r in routes for p in r.PATHS):
        success = {"200": {"description": "ok"}}
        if method == "post":
            success["201"] = {"description": "created"}
        operation = {"summary": summary, "security": [{"bearer": []}],
                     "responses": {**success, **{status: ERROR for status in REFUSALS}}}
        if body is not None:
            content = body if isinstance(body, dict) else {"application/json": {"schema": body}}
            operation["requestBody"] = {"required": True, "content": content}
        if query is not None:
            operation["parameters"] = [{"in": "query", "schema": query}]
        if method in ("post", "put"):
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
        for name in re.findall(r"{(\w+)}", path):
            operation.setdefault("parameters", []).append(
                {"in": "path", "name": name, "required": True, "schema": {"type": "string", "minLength": 1}})
        spec.path(path=path, operations={method: operation})
    return spec.to_dict()
