"""OpenAPI 3 generated from the marshmallow schemas (apispec), so the document cannot drift."""
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

ERROR = {"description": "error contract: {error, message, details}"}
WRITE_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "409": ERROR, "422": ERROR}


@functools.lru_cache(maxsize=1)
def openapi_document(routes):
    """The document for the route mixins ``routes`` (each lists its ``PATHS``)."""
    spec = APISpec(title="科技助力精准扶贫 platform API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   servers=[{"url": "/api/v1"}],
                   components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}})
    for path, method, summary, body, query in (p for r in routes for p in r.PATHS):
        operation = {"summary": summary, "security": [{"bearer": []}],
                     "responses": {"200": {"description": "ok"}, **WRITE_ERRORS}}
        if body is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": body}}}
            operation["responses"] = {"201": {"description": "created"}, **WRITE_ERRORS}
        if query is not None:
            operation["parameters"] = [{"in": "query", "schema": query}]
        for name in re.findall(r"{(\w+)}", path):
            operation.setdefault("parameters", []).append(
                {"in": "path", "name": name, "required": True, "schema": {"type": "string"}})
        spec.path(path=path, operations={method: operation})
    return spec.to_dict()
