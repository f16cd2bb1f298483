"""The HTTP entrypoint that speaks JSON and maps every exception to the one error contract, and
the web server under it: whatever it answers (404, 405, 413, 414, 431, a malformed request) is
that contract too, with security headers on every response."""

import json
import logging
import socket

from eventlet import wsgi
from marshmallow import ValidationError
from nameko.exceptions import safe_for_serialization
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from kernel.errors import EXPECTED, DomainError

log = logging.getLogger(__name__)

MAX_URI = 8192  # characters of path and query
MAX_HEADER = 8192  # characters of one header's value (the token has its own, smaller bound)
MAX_BODY = 64 * 2**20  # a 200,000-row import as CSV fits
# Personal data must not be cached or sniffed into something executable; the API is never framed.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
]
# eventlet.wsgi answers over-long request lines and header lines itself, in plain text, before any
# application code runs. Its limits are raised above ours, which answer with the contract; beyond
# them ContractProtocol answers (and http.server's own checks: 65,536 per line, 100 headers).
READ_LIMIT = 65_536
wsgi.MAX_HEADER_LINE = READ_LIMIT + 2
wsgi.MAX_TOTAL_HEADER_SIZE = 101 * (READ_LIMIT + 2)


def json_response(status, body, headers=None):
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def error_body(code, message, details=None):
    return {"error": code, "message": message, "details": details or {}}


class ContractRequest(Request):
    max_content_length = MAX_BODY  # also bounds a chunked body, which has no Content-Length


class ContractWsgiApp(WsgiApp):
    """nameko's WSGI app, answering routing errors and oversized requests with the contract."""

    def __call__(self, environ, start_response):
        def with_security_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            added = [h for h in SECURITY_HEADERS if h[0].lower() not in present]
            return start_response(status, headers + added, exc_info)

        response = _refusal(environ)
        if response is None:
            request = ContractRequest(environ, shallow=True)
            try:
                provider, request.path_values = self.url_map.bind_to_environ(environ).match()
                response = provider.handle_request(request)
            except RequestRedirect as redirect:
                response = redirect.get_response(environ)
            except HTTPException as refused:
                response = http_error_response(refused)
        return response(environ, with_security_headers)


def _refusal(environ):
    """A request refused before routing: over-long URI or header."""
    uri = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
    if uri > MAX_URI:
        return json_response(
            414,
            error_body(
                "URI_TOO_LONG",
                f"the URI is longer than {MAX_URI} characters",
                {"_uri": [f"at most {MAX_URI} characters"]},
            ),
        )
    long_headers = [
        k[5:].replace("_", "-").title()
        for k, v in environ.items()
        if k.startswith("HTTP_") and k != "HTTP_AUTHORIZATION" and len(v) > MAX_HEADER
    ]
    if long_headers:
        details = {name: [f"at most {MAX_HEADER} characters"] for name in long_headers}
        return json_response(
            431, error_body("HEADER_TOO_LARGE", "a request header is too long", details)
        )
    return None


def http_error_response(exc):
    """A werkzeug HTTPException (404, 405, 413, ...) as the contract, keeping its headers (Allow)."""
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    details = {}
    if getattr(exc, "valid_methods", None):
        details = {"method": [f"one of {', '.join(exc.valid_methods)}"]}
    if exc.code == 404:
        details = {"path": ["unknown"]}
    return json_response(
        exc.code, error_body(exc.name.upper().replace(" ", "_"), exc.description, details), headers
    )


class ContractProtocol(HttpOnlyProtocol):
    """Refusals made before the application runs, as the contract, closing the connection."""

    CODES = {
        400: "BAD_REQUEST",
        413: "PAYLOAD_TOO_LARGE",
        414: "URI_TOO_LONG",
        431: "HEADER_TOO_LARGE",
    }

    def setup(self):
        super().setup()
        # eventlet writes a response's head and body separately: with Nagle's algorithm the body
        # waited for the client's delayed ACK, ~40 ms on every answer longer than one segment.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not a TCP socket
            pass

    def _read_request_line(self):
        """eventlet answers a request line of ``url_length_limit`` bytes with its own plain 414."""
        line = super()._read_request_line()
        if len(line) >= self.server.url_length_limit:
            self.send_error(414, f"the request line is longer than {READ_LIMIT} bytes")
            return ""  # eventlet then closes the connection
        return line

    def parse_request(self):
        """http.server's checks, then the declared body's size: a body too large is refused here,
        before eventlet would read (and discard) it all to keep the connection."""
        if not super().parse_request():
            return False
        declared = self.headers.get("Content-Length")
        if declared is not None and self.headers.get("Transfer-Encoding") is not None:
            self.send_error(
                400, "Content-Length and Transfer-Encoding together"
            )  # eventlet's check, plain
            return False
        if declared is not None and not (declared.isascii() and declared.strip().isdigit()):
            self.send_error(400, "Content-Length is not a whole number")
            return False
        if declared is not None and int(declared) > MAX_BODY:
            self.send_error(413, f"the body is larger than {MAX_BODY // 2**20} MiB")
            return False
        return True

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a malformed request line, too many or too long headers)."""
        body = json.dumps(
            error_body(
                self.CODES.get(code, f"HTTP_{code}"), message or "the request cannot be read"
            )
        ).encode()
        head = [
            f"HTTP/1.1 {code} {self.responses.get(code, ('Error',))[0]}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        head += [f"{k}: {v}" for k, v in SECURITY_HEADERS]
        self.close_connection = True
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()
        self._drain()

    def _drain(self, limit=4 * READ_LIMIT, seconds=2):
        """Read (a bounded amount of) what the client is still sending before the connection
        closes: closing on unread data resets it, and the client may lose the answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(seconds)
            while limit > 0 and (chunk := self.connection.recv(min(limit, READ_LIMIT))):
                limit -= len(chunk)
        except OSError:
            pass


class ContractWebServer(WebServer):
    def get_wsgi_app(self):
        return ContractWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=ContractProtocol, debug=False):
        return wsgi.Server(
            sock,
            sock.getsockname(),
            wsgi_app,
            protocol=protocol,
            debug=debug,
            log=logging.getLogger("nameko.web.server"),
            url_length_limit=READ_LIMIT,
        )


class HttpEntrypoint(HttpRequestHandler):
    """Handlers return ``(status, body)`` or ``body``; bodies are dicts or lists rendered as JSON."""

    server = ContractWebServer()

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
            return json_response(
                400,
                error_body("VALIDATION_ERROR", "the request is not valid", _flatten(exc.messages)),
            )
        if isinstance(exc, HTTPException):
            return http_error_response(exc)
        # Only the exception's type is logged: its text could carry request data.
        log.error("unhandled %s in %s", type(exc).__name__, self.method_name)
        return json_response(
            500,
            error_body(
                "INTERNAL", "internal error", {"type": [safe_for_serialization(type(exc).__name__)]}
            ),
        )


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
