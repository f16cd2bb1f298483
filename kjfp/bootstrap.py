"""The composition root: every service package under ``services`` that declares
``SERVICE = Declaration(...)`` (kernel/declaration.py) is found here, and the runner, the
gateway's routes and OpenAPI document, and the auditor tools take their services from here."""

import importlib
import pkgutil

from kernel.declaration import Declaration


def declarations():
    """Every service's declaration, by name."""
    import services

    found = {}
    for module in pkgutil.iter_modules(services.__path__):
        declared = getattr(importlib.import_module(f"services.{module.name}"), "SERVICE", None)
        if isinstance(declared, Declaration):
            found[declared.name] = declared
    return dict(sorted(found.items()))


def declaration(name):
    found = declarations()
    if name not in found:
        raise KeyError(f"no service {name!r} keeps a log here; one of {', '.join(found)}")
    return found[name]


def route_mixins():
    """The gateway's route mixin of every service that has one."""
    return tuple(d.routes_class() for d in declarations().values() if d.routes)


def service_classes():
    """The nameko class of every service, and the gateway's, by name: what a process can run."""
    from gateway.service import GatewayService

    return {
        **{name: d.service_class() for name, d in declarations().items() if d.rpc},
        "gateway": GatewayService,
    }
