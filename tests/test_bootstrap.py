"""The composition root: a service package that declares itself is run, routed and audited with
no edit to the runner, the gateway or the auditor tools; the kernel imports no service."""

import ast
import sys
import textwrap

import pytest

import gateway.service  # noqa: F401 - composed now, so the service added below joins no later test's gateway
import services
from kjfp.bootstrap import declarations, route_mixins, service_classes
from tests.infrastructure import ROOT

PACKAGE = """
from kernel.application import ServiceApplication
from kernel.declaration import Declaration


class NoticeApplication(ServiceApplication):
    name = "notices"


SERVICE = Declaration("notices", NoticeApplication, (), ("author_id_number",),
                      rpc="services.notices.service:NoticeService", routes="services.notices.routes:NoticeRoutes")
"""
SERVICE = """
from nameko.rpc import rpc


class NoticeService:
    name = "notices"

    @rpc
    def ping(self):
        return "pong"
"""
ROUTES = """
class NoticeRoutes:
    SERVICE = "notices"
"""


@pytest.fixture
def notices(tmp_path, monkeypatch):
    package = tmp_path / "extra" / "notices"
    package.mkdir(parents=True)
    for name, text in (("__init__", PACKAGE), ("service", SERVICE), ("routes", ROUTES)):
        (package / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    monkeypatch.setattr(services, "__path__", [*services.__path__, str(tmp_path / "extra")])
    yield
    for module in ("services.notices", "services.notices.service", "services.notices.routes"):
        sys.modules.pop(module, None)


def test_a_declared_service_is_run_and_routed_with_no_edit_elsewhere(notices):
    assert declarations()["notices"].personal_fields == ("author_id_number",)
    assert service_classes()["notices"].__name__ == "NoticeService"
    assert "NoticeRoutes" in [mixin.__name__ for mixin in route_mixins()]
    assert set(service_classes()) == {
        "registry",
        "supervision",
        "funding",
        "awards",
        "notices",
        "gateway",
    }


def test_the_kernel_imports_no_service_gateway_or_command_line():
    for path in (ROOT / "kernel").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in ("services", "gateway", "kjfp"), (
                    f"{path.name} imports {name}"
                )
