"""Reading a request: its JSON body, its query and its Idempotency-Key, each through a schema."""
import json

from kernel.errors import ValidationFailed

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
