"""The offices' web page: ``GET /`` and its assets, served from the package (gateway/web/).

The page is static: it signs in with a bearer token and calls the same JSON API a client would,
so nothing here reads a register or knows a rule. No CDN: every asset ships in the package."""

import json
import re
from functools import lru_cache
from importlib import resources

from werkzeug.wrappers import Response

from gateway.entrypoints import http
from kernel.errors import NotFound
from kernel.places import _the_index

TYPES = {
    "html": "text/html",
    "js": "text/javascript",
    "css": "text/css",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
    "txt": "text/plain",
    "json": "application/json",
}
TEXT = ("html", "js", "css", "svg", "txt", "json")
# The page's own script and style only: no inline script, handler or style, nothing from elsewhere,
# never framed. (The gateway's default for JSON answers, default-src 'none', would block them.)
POLICY = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": POLICY}
# One plain file name under assets/: no directories, no dot files, so no way out of the folder.
ASSET_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


def _asset(request, name, cache):
    extension = name.rsplit(".", 1)[-1]
    try:
        data = resources.files("gateway.web").joinpath(name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotFound(f"no such asset: {name}", {"path": ["unknown"]}) from None
    mimetype = TYPES[extension] + ("; charset=utf-8" if extension in TEXT else "")
    response = Response(
        data, status=200, content_type=mimetype, headers={"Cache-Control": cache, **HEADERS}
    )
    response.add_etag()
    return response.make_conditional(request)


@lru_cache(maxsize=1)
def _divisions():
    """Province → city → counties, canonical names of every GB/T 2260 edition (what the API
    accepts), for the page's unit pickers: about 45 kB, built once."""
    root = _the_index().root
    tree = {
        province: {city: sorted(c.children) for city, c in sorted(p.children.items())}
        for province, p in root.children.items()
    }
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebRoutes:
    SERVICE = None  # asks no service

    @http("GET", "/")
    def page(self, request):
        # Revalidated on every load (a cheap 304), so a new release's page is never stale.
        return _asset(request, "index.html", "no-cache")

    @http("GET", "/assets/divisions.json")
    def divisions(self, request):
        response = Response(
            _divisions(),
            content_type="application/json; charset=utf-8",
            headers={"Cache-Control": "no-cache", **HEADERS},
        )
        response.add_etag()
        return response.make_conditional(request)

    @http("GET", "/assets/<path:name>")
    def asset(self, request, name):
        if not ASSET_NAME.match(name) or ".." in name or name.rsplit(".", 1)[-1] not in TYPES:
            raise NotFound(f"no such asset: {name}", {"path": ["unknown"]})
        return _asset(request, name, "no-cache")
