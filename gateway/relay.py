"""Routes whose whole work is to relay the request to the service that owns it, declared in one
statement each by the route mixins: authenticate (the signed-in actor then travels with every RPC
in the context data, gateway/auth.py), load the body with the route's schema, and call the
service's method with the path's values and the form and Idempotency-Key (a write) or the
query's fields by name (a read). A route with more to do than that (a stream, a batch) is
written out in its mixin."""

import re

from gateway.openapi import route
from gateway.requests import keyed_request, load_body, load_query


def command(method, rule, summary, relay, body, roles, status=200, args=()):
    """A write: refused unless the actor's role is one of ``roles``; ``relay`` names the RPC
    (``"registry.erase_expert"``), given ``args`` (what the route itself adds, e.g. the kind of
    record), the path's values, the form and the Idempotency-Key; answered with ``status`` (201
    when it creates)."""
    call, values = _target(relay, rule)

    def handler(self, request, **path):
        self.auth.authenticate(request, roles)
        form = load_body(request, body())
        return status, call(self)(*args, *values(path), form, keyed_request(request))

    return route(method, rule, summary, body=body)(handler)


def lookup(rule, summary, relay, query=None):
    """A read: any signed-in actor (the service decides what the actor may see); the RPC is
    given the path's values and the fields of the ``query`` schema's load, by name."""
    call, values = _target(relay, rule)

    def handler(self, request, **path):
        self.auth.authenticate(request)
        fields = load_query(request, query()) if query else {}
        return call(self)(*values(path), **fields)

    return route("GET", rule, summary, query=query)(handler)


def _target(relay, rule):
    """The RPC ``relay`` names, on the gateway's proxy of its service, and the path's values in
    the order the rule names them."""
    service, method = relay.split(".")
    names = re.findall(r"<(?:\w+:)?(\w+)>", rule)
    return (
        lambda gateway: getattr(getattr(gateway, service), method),
        lambda path: [path[name] for name in names],
    )
