"""What a service package declares about itself, once, in its ``__init__``:
``SERVICE = Declaration(...)``. The composition root (kjfp/bootstrap.py) finds the declarations;
the processes that run a service, the gateway and the auditor tools take everything they need
from it, so a service added later needs no change to any of them.

The nameko class and the gateway's route mixin are named by import path (``module:Class``) and
imported only when asked for: a process that audits a log need not load the gateway's schemas,
and the service's own nameko module imports this declaration back."""

import pkgutil
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from kernel import eventstore


@dataclass(frozen=True)
class Declaration:
    name: str
    application: Any  # a kernel.application.ServiceApplication subclass
    projections: tuple  # kernel.projection.Projection classes fed by this service's log
    personal_fields: tuple = ()  # payload fields masked on the bus and sealed in RPC requests
    rpc: str | None = None  # "module:Class": the nameko service class (None: not run as a service)
    routes: str | None = None  # "module:Class": the gateway's route mixin, with its schemas

    def service_class(self):
        assert self.rpc, f"{self.name} declares no nameko class"
        return pkgutil.resolve_name(self.rpc)

    def routes_class(self):
        assert self.routes, f"{self.name} declares no gateway routes"
        return pkgutil.resolve_name(self.routes)

    def open(self, settings):
        """The service's Application on its event store (created on first use)."""
        return self.application(
            env=eventstore.application_env(settings, self.name), pii_hash_key=settings.pii_hash_key
        )

    def recorder(self, settings):
        """The log's recorder for reading only: no cipher (the stored bytes are read as they
        are), no tables or schemas created."""
        env = {
            k: v
            for k, v in eventstore.application_env(settings, self.name, create=False).items()
            if not k.startswith("CIPHER_")
        }
        env["CREATE_TABLE"] = "n"
        factory = InfrastructureFactory.construct(Environment(self.application.name, env))
        return factory.application_recorder()

    def scratch(self, cipher_key, person_keys=None):
        """The Application in memory, touching no store: its mapper decodes stored events with
        the key (and the person keys given, a kernel.personal table: without them, sealed
        personal fields read as erased), and stored events inserted into its recorder rebuild
        its aggregates."""
        return self.application(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.popo",
                "CIPHER_TOPIC": eventstore.CIPHER_TOPIC,
                "CIPHER_KEY": cipher_key,
            },
            person_keys=person_keys,
        )
