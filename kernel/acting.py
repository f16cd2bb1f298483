"""Who a call is made for travels beside its arguments, in nameko's context data: the gateway
records the signed-in actor in its worker's context (gateway/auth.py), nameko copies a worker's
context data into the headers of every RPC request the worker makes (``nameko.actor``), and the
called service's worker reads it back through ``CurrentActor``.

A service asking another service asks as itself (``PeerRpcProxy``): it has already authorised
its own caller, and what it asks for (an expert's record for an eligibility rule, a province's
figures for a statistics table) is its own need, so the called service sees
``service:<name>``, a nationwide reader, never the user the first call was made for.

The broker is trusted with this header as it is with the arguments: whoever can publish on the
RPC exchange can name any actor, so the exchange is not open to anyone but the services."""

import eventlet
from nameko.exceptions import MethodNotFound, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy, ServiceProxy

from kernel.auth import ROLES, Actor
from kernel.errors import Unauthorized

ACTOR = "actor"  # the context data key (the AMQP header ``nameko.actor``)
SERVICE_ROLE = "auditor"  # a service reads any record and writes none through another service
ANSWER_SECONDS = 10


def context_data(actor):
    """The context data naming ``actor`` (an Actor or its dict), as a standalone
    ``ClusterRpcProxy(config, context_data=...)`` takes it."""
    return {ACTOR: actor.to_dict() if isinstance(actor, Actor) else dict(actor)}


def service_actor(name):
    """The identity a service asks another service with."""
    return Actor(f"service:{name}", SERVICE_ROLE, "national")


def actor_from(data):
    """The Actor the context data names; Unauthorized when it names none or not one we know."""
    found = data.get(ACTOR)
    if found is None:
        raise Unauthorized(
            "the call names no actor", {"actor": ["the caller's actor travels in context data"]}
        )
    try:
        actor = Actor.from_dict(found)
    except (KeyError, TypeError, AttributeError):
        raise Unauthorized(
            "the call's actor is not readable", {"actor": ["subject, role and scope required"]}
        ) from None
    if actor.role not in ROLES or not isinstance(actor.scope, str):
        raise Unauthorized("the call's actor is not readable", {"actor": ["unknown role"]})
    return actor


class Unnamed:
    """The actor of a call that names none: any use of it refuses with 401, so that a method
    which needs no actor (a figure, readiness, the pump) still runs."""

    def __init__(self, refusal):
        self._refusal = refusal

    def __getattr__(self, name):
        raise self._refusal


class CurrentActor(DependencyProvider):
    """The actor the call was made for, from the worker's context data."""

    def get_dependency(self, worker_ctx):
        try:
            return actor_from(worker_ctx.data)
        except Unauthorized as refusal:
            return Unnamed(refusal)


class _AskingAs:
    """A worker's context as the RPCs it makes see it, with another actor in its data."""

    def __init__(self, worker_ctx, actor):
        self._worker_ctx, self._actor = worker_ctx, actor

    def __getattr__(self, name):
        return getattr(self._worker_ctx, name)

    @property
    def context_data(self):
        return {**self._worker_ctx.context_data, **context_data(self._actor)}


class PeerRpcProxy(RpcProxy):
    """RPC to another service, asking as this service (``service_actor``)."""

    def setup(self):
        super().setup()
        self.actor = service_actor(self.container.service_name)

    def get_dependency(self, worker_ctx):
        return ServiceProxy(
            _AskingAs(worker_ctx, self.actor),
            self.target_service,
            self.rpc_reply_listener,
            **self.options,
        )


def asked(method, *args, seconds=ANSWER_SECONDS):
    """What another service's ``method`` answers, or None when no service serves it or none
    answers within ``seconds``: the in-process transport cannot tell that no one serves a queue
    and would wait for ever."""
    try:
        with eventlet.Timeout(seconds):
            return method(*args)
    except (UnknownService, MethodNotFound, eventlet.Timeout):
        return None
