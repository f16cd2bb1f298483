"""The HTTP entrypoint that speaks JSON and maps every exception to the one error contract."""
import json
import logging

from marshmallow import ValidationError
from nameko.exceptions import safe_for_serialization
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from kernel.errors import EXPECTED, DomainError

log = logging.getLogger(__name__)


def json_response(status, body, headers=None):
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    mimetype="application/json")


def error_body(code, message, details=None):
    return {"error": code, "message": message, "details": details or {}}


class HttpEntrypoint(HttpRequestHandler):
    """Handlers return ``(status, body)`` or ``body``; bodies are dicts or lists rendered as JSON."""

    def __init__(self, method, url, **kwargs):
        kwargs.setdefault("expected_exceptions", EXPECTED + (ValidationError,))
        super().__init__(method, url, **kwargs)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, body = result if isinstance(result, tuple) else (200, result)
        return json_response(status, body)

    def response_from_exception(self, exc):
        if isinstance(exc, DomainError):
            return json_response(exc.status, exc.to_dict())
        if isinstance(exc, ValidationError):
            return json_response(400, error_body("VALIDATION_ERROR", "the request is not valid",
                                                 _flatten(exc.messages)))
        if isinstance(exc, HTTPException):
            return json_response(exc.code, error_body(exc.name.upper().replace(" ", "_"), exc.description))
        # Only the exception's type is logged: its text could carry request data.
        log.error("unhandled %s in %s", type(exc).__name__, self.method_name)
        return json_response(500, error_body("INTERNAL", "internal error",
                                             {"type": [safe_for_serialization(type(exc).__name__)]}))


def _flatten(messages, prefix=""):
    """marshmallow's nested messages → ``{"location.province": ["..."]}``."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(_flatten(value, name))
            else:
                flat[name] = value if isinstance(value, list) else [value]
    else:
        flat[prefix or "_body"] = messages if isinstance(messages, list) else [messages]
    return flat


http = HttpEntrypoint.decorator
