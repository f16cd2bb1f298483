"""Bearer-token authentication as a nameko dependency: the actor a request's token names goes
into the worker's context data, so that every RPC the request makes carries it (kernel/acting.py)."""

from nameko.extensions import DependencyProvider

from kernel import config
from kernel.acting import ACTOR
from kernel.auth import verify
from kernel.errors import Forbidden, Unauthorized

MAX_TOKEN = 4096  # ours are ~250 characters; a longer one is not worth decoding


class Authenticator:
    def __init__(self, secret, previous_secret=""):
        self.secret, self.previous_secret = secret, previous_secret

    def actor(self, request, roles=None):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "missing bearer token", {"Authorization": ["Bearer <token> required"]}
            )
        if len(token) > MAX_TOKEN:
            raise Unauthorized(
                "invalid token", {"Authorization": [f"a token is at most {MAX_TOKEN} characters"]}
            )
        actor = verify(self.secret, token.strip(), self.previous_secret)
        if roles is not None and actor.role not in roles:
            raise Forbidden(f"role {actor.role} may not do this")
        return actor


class Auth(DependencyProvider):
    def setup(self):
        settings = config.from_container(self.container)
        self.authenticator = Authenticator(settings.token_secret, settings.token_secret_previous)

    def get_dependency(self, worker_ctx):
        return Authentication(self.authenticator, worker_ctx)


class Authentication:
    """One request's sign-in."""

    def __init__(self, authenticator, worker_ctx):
        self.authenticator, self.worker_ctx = authenticator, worker_ctx

    def authenticate(self, request, roles=None):
        """The request's actor (refused unless its role is one of ``roles``, when given), from
        now on named in the context data of every RPC this request makes."""
        actor = self.authenticator.actor(request, roles)
        self.worker_ctx.data[ACTOR] = actor.to_dict()
        return actor
