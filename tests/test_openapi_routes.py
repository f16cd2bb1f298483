"""The OpenAPI document is built from the routes' own declarations: every path the gateway serves
under the API is described there with the method it answers, and nothing else is."""

import re

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from gateway.openapi import openapi_document
from gateway.requests import API
from gateway.service import ROUTES, GatewayService

# Served under the API but not operations of it: the document itself, readiness, and the catch-all
# that names the rectification moves there are.
NOT_OPERATIONS = {
    ("get", "/openapi.json"),
    ("get", "/ready"),
    ("post", "/rectifications/{item_id}/{move}"),
}


def served():
    found = set()
    for name in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, name), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if entrypoint.url.startswith(API + "/"):
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", entrypoint.url.removeprefix(API))
                found.add((entrypoint.method.lower(), path))
    return found


def test_the_document_describes_exactly_the_operations_served():
    described = {
        (method, path)
        for path, item in openapi_document(ROUTES)["paths"].items()
        for method in item
    }
    assert described == served() - NOT_OPERATIONS
