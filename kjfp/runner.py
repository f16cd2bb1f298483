"""Start services in this process: all of them (embedded) or one (distributed)."""
from nameko.runners import ServiceRunner

from kernel import memory_transport


def service_classes():
    from gateway.service import GatewayService
    from services.awards.service import AwardsService
    from services.funding.service import FundingService
    from services.registry.service import RegistryService
    from services.supervision.service import SupervisionService

    return {"registry": RegistryService, "supervision": SupervisionService, "awards": AwardsService, "funding": FundingService, "gateway": GatewayService}


def start(settings, names=None):
    """Start the named services (default: all) and return the running ``ServiceRunner``."""
    settings.check()
    if settings.embedded:
        memory_transport.apply()
    classes = service_classes()
    runner = ServiceRunner(settings.nameko_config())
    for name in names or classes:
        if name not in classes:
            raise ValueError(f"unknown service {name!r}; one of {', '.join(classes)}")
        runner.add_service(classes[name])
    runner.start()
    return runner
