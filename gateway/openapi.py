"""OpenAPI 3 generated from the marshmallow schemas (apispec), so the document cannot drift."""
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway import schemas

ERROR = {"description": "error contract: {error, message, details}"}
WRITE_ERRORS = {"400": ERROR, "401": ERROR, "403": ERROR, "409": ERROR, "422": ERROR}

PATHS = [
    ("/experts", "post", "登记科技专家 Register an expert", schemas.ExpertSchema, None),
    ("/experts", "get", "List experts", None, schemas.ExpertListQuery),
    ("/experts/{expert_id}", "get", "Read an expert", None, None),
    ("/experts/{expert_id}/revoke", "post", "Revoke an expert's registration", schemas.RevocationSchema, None),
    ("/experts/{expert_id}/corrections", "post", "Correct an expert's record", schemas.ExpertCorrectionSchema, None),
    ("/associations", "post", "登记农技协/联合会 Register an association or federation", schemas.AssociationSchema, None),
    ("/associations/{credit_code}/revoke", "post", "Revoke an association", schemas.RevocationSchema, None),
    ("/associations/{credit_code}/corrections", "post", "Correct an association",
     schemas.AssociationCorrectionSchema, None),
    ("/households", "post", "登记建档立卡贫困户 Register a household", schemas.HouseholdSchema, None),
    ("/households/import", "post", "批量导入 Import households (JSON array or CSV)", None, None),
    ("/households/{code}/revoke", "post", "Revoke a household", schemas.RevocationSchema, None),
    ("/households/{code}/corrections", "post", "Correct a household", schemas.HouseholdCorrectionSchema, None),
    ("/households/{code}/lifted-out", "post", "脱贫 Record a household lifted out of poverty",
     schemas.LiftedOutSchema, None),
    ("/pairings", "post", "结对帮扶备案 File a pairing agreement", schemas.PairingSchema, None),
    ("/service-logs", "post", "工作台账 Record a help activity", schemas.ServiceLogSchema, None),
    ("/targets/{unit}", "put", "目标任务 Set a unit's targets for a year", schemas.TargetsSchema, None),
    ("/two-counts", "get", "两数 for a unit as of a date", None, schemas.TwoCountsQuery),
    ("/two-counts/explain", "get", "The records and events behind one figure", None, schemas.ExplainQuery),
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
        for name in re.findall(r"{(\w+)}", path):
            operation.setdefault("parameters", []).append(
                {"in": "path", "name": name, "required": True, "schema": {"type": "string"}})
        spec.path(path=path, operations={method: operation})
    return spec.to_dict()
