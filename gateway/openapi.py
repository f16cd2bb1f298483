"""OpenAPI 3 generated from the marshmallow schemas (apispec), so the document cannot drift."""
import functools

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway import schemas

ERROR = {"description": "error contract: {error, message, details}"}
WRITE_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "409": ERROR, "422": ERROR}

PATHS = [
    ("/experts", "post", "登记科技专家 Register an expert", schemas.ExpertSchema, None),
    ("/experts", "get", "List experts", None, schemas.ExpertListQuery),
    ("/experts/{expert_id}", "get", "Read an expert", None, None),
    ("/households", "post", "登记建档立卡贫困户 Register a household", schemas.HouseholdSchema, None),
    ("/pairings", "post", "结对帮扶备案 File a pairing agreement", schemas.PairingSchema, None),
    ("/two-counts", "get", "两数 for a unit as of a date", None, schemas.TwoCountsQuery),
]


@functools.lru_cache(maxsize=1)
def openapi_document():
    spec = APISpec(title="科技助力精准扶贫 platform API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   servers=[{"url": "/api/v1"}],
                   components={"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}})
    for path, method, summary, body, query in PATHS:
        operation = {"summary": summary, "security": [{"bearer": []}],
                     "responses": {"200": {"description": "ok"}, **WRITE_ERRORS}}
        if body is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": body}}}
            operation["responses"] = {"201": {"description": "created"}, **WRITE_ERRORS}
        if query is not None:
            operation["parameters"] = [{"in": "query", "schema": query}]
        if "{expert_id}" in path:
            operation.setdefault("parameters", []).append(
                {"in": "path", "name": "expert_id", "required": True, "schema": {"type": "string"}})
        spec.path(path=path, operations={method: operation})
    return spec.to_dict()
