"""The one error contract, shared by services and gateway.

Domain code raises these; nameko carries them across RPC (it rebuilds a class registered with
``deserialize_to_instance`` from ``exc.args``, so message and details are both args), and the
gateway maps each ``code`` to an HTTP status.
"""

from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    code = "ERROR"
    status = 500

    def __init__(self, message="", details=None):
        super().__init__(message, details or {})
        self.message = message
        self.details = details or {}

    def __str__(self):
        return self.message

    def to_dict(self):
        return {"error": self.code, "message": self.message, "details": self.details}


@deserialize_to_instance
class ValidationFailed(DomainError):
    code, status = "VALIDATION_ERROR", 400


@deserialize_to_instance
class Unauthorized(DomainError):
    code, status = "UNAUTHORIZED", 401


@deserialize_to_instance
class Forbidden(DomainError):
    code, status = "FORBIDDEN", 403


@deserialize_to_instance
class NotFound(DomainError):
    code, status = "NOT_FOUND", 404


@deserialize_to_instance
class Conflict(DomainError):
    code, status = "CONFLICT", 409


@deserialize_to_instance
class RuleViolation(DomainError):
    code, status = "RULE_VIOLATION", 422


class Unavailable(DomainError):
    """A service did not answer in time: the request may yet be carried out, so the client
    retries with the same Idempotency-Key and gets the first result."""

    code, status = "UNAVAILABLE", 503


@deserialize_to_instance
class ViewsBuilding(DomainError):
    """A service's views are being built (a first start on an existing log, a rebuild), or stand
    mid-batch in another process's hands: its reads answer once they are not. ``details`` name
    each projection with its position and the log head."""

    code, status = "UNAVAILABLE", 503


EXPECTED = (
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RuleViolation,
    ViewsBuilding,
)
