"""Start services in this process: all of them (embedded) or one (distributed)."""
from nameko.runners import ServiceRunner

from kernel import memory_transport
from kjfp.bootstrap import service_classes


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
