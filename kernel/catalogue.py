"""Which services keep an event log, and what each log needs to be run, published and audited.

A service package declares ``LOG = ServiceLog(...)`` in its ``__init__``; the processes that
run it and the auditor tools find it here by scanning the ``services`` package, so a service
added later is verified, exported and replayed without any change to the audit code.
"""
import importlib
import pkgutil
from dataclasses import dataclass

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from kernel import eventstore


@dataclass(frozen=True)
class ServiceLog:
    name: str
    application: type  # a kernel.application.ServiceApplication
    projections: tuple  # kernel.projection.Projection classes fed by this log
    personal_fields: tuple = ()  # payload fields masked on the bus

    def open(self, settings):
        """The service's Application on its event store (created on first use)."""
        return self.application(env=eventstore.application_env(settings, self.name),
                                pii_hash_key=settings.pii_hash_key)

    def recorder(self, settings):
        """The log's recorder for reading only: no cipher (the stored bytes are read as they
        are), no tables or schemas created."""
        env = {k: v for k, v in eventstore.application_env(settings, self.name, create=False).items()
               if not k.startswith("CIPHER_")}
        env["CREATE_TABLE"] = "n"
        factory = InfrastructureFactory.construct(Environment(self.application.name, env))
        return factory.application_recorder()

    def scratch(self, cipher_key):
        """The Application in memory, touching no store: its mapper decodes stored events with
        the key, and stored events inserted into its recorder rebuild its aggregates."""
        return self.application(env={"PERSISTENCE_MODULE": "eventsourcing.popo",
                                     "CIPHER_TOPIC": eventstore.CIPHER_TOPIC, "CIPHER_KEY": cipher_key})


def service_logs():
    """Every service's ``LOG``, by name."""
    import services

    found = {}
    for module in pkgutil.iter_modules(services.__path__):
        log = getattr(importlib.import_module(f"services.{module.name}"), "LOG", None)
        if isinstance(log, ServiceLog):
            found[log.name] = log
    return dict(sorted(found.items()))


def service_log(name):
    logs = service_logs()
    if name not in logs:
        raise KeyError(f"no service {name!r} keeps a log here; one of {', '.join(logs)}")
    return logs[name]
