"""Reading a request: its JSON body, its query and its Idempotency-Key, each through a schema."""

import json
import re
from urllib.parse import parse_qsl

from kernel.errors import ValidationFailed
from kernel.idempotency import KeyedRequest

API = "/api/v1"
# C0/C1 controls other than tab and line breaks, and lone UTF-16 surrogates (not encodable as UTF-8).
UNRECORDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def json_text(request):
    """The body as text: JSON travels as UTF-8 (RFC 8259). Decoding strictly refuses a GBK or
    otherwise mis-encoded body, which ``get_data(as_text=True)`` would silently garble."""
    try:
        return request.get_data().decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as bad:
        raise ValidationFailed(
            "the body is not UTF-8 text",
            {"_body": [f"not UTF-8 (byte {bad.start}): send JSON encoded as UTF-8"]},
        ) from None


def parse_json(text):
    """JSON text → value; NaN, Infinity, unpaired surrogates and control characters are refused."""
    try:
        value = json.loads(text or "null", parse_constant=_no_constant)
    except (ValueError, RecursionError) as bad:
        raise ValidationFailed(
            "the body is not valid JSON", {"_body": [f"invalid JSON: {type(bad).__name__}"]}
        ) from None
    bad = _bad_text(value)
    if bad:
        raise ValidationFailed(
            "the body holds text that cannot be recorded", {bad[0] or "_body": [bad[1]]}
        )
    return value


def load_body(request, schema):
    body = parse_json(json_text(request))
    if not isinstance(body, dict):
        raise ValidationFailed(
            "the body must be a JSON object", {"_body": ["expected a JSON object"]}
        )
    return schema.load(body)


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _bad_text(value):
    """``(field path, reason)`` of the first string (or key) that is not recordable text, else None.
    Iterative: a deeply nested body that json.loads accepted must not exhaust the stack here."""
    stack = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            found = UNRECORDABLE.search(item)
            if found:
                char = found.group()
                kind = (
                    "an unpaired surrogate"
                    if "\ud800" <= char <= "\udfff"
                    else "a control character"
                )
                return path, f"contains {kind} (U+{ord(char):04X})"
            continue
        children = (
            item.items()
            if isinstance(item, dict)
            else enumerate(item)
            if isinstance(item, list)
            else ()
        )
        for key, child in children:
            name = f"{path}.{key}" if path else str(key)
            stack.extend([(name, child), (name, key)])
    return None


def keyed_request(request):
    """The write with its ``Idempotency-Key`` header and what the client sent (None without a
    key); the service binds it to the requester."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ValidationFailed(
            "Idempotency-Key is too long", {"Idempotency-Key": ["at most 200 characters"]}
        )
    if not key:
        return None
    return KeyedRequest(key, request.method, request.path, parse_json(json_text(request)))


def load_query(request, schema):
    """The query, strictly: percent-encoded UTF-8, each parameter once, recordable text."""
    raw = request.query_string
    try:
        if not raw.isascii():
            raise UnicodeDecodeError("ascii", raw, 0, len(raw), "not percent-encoded")
        pairs = parse_qsl(
            raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        raise ValidationFailed(
            "the query is not percent-encoded UTF-8", {"_query": ["percent-encoded UTF-8"]}
        ) from None
    query = {}
    for name, value in pairs:
        if name in query:
            raise ValidationFailed(f"{name} is given twice", {name: ["given twice"]})
        query[name] = value
    bad = _bad_text(query)
    if bad:
        raise ValidationFailed(
            "the query holds text that cannot be read", {bad[0] or "_query": [bad[1]]}
        )
    return schema.load(query)
