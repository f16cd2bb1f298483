"""Static checks of the container files (no Docker engine here): the compose file parses and
refers only to images, files, variables and commands that exist in this repository, and the
image installs from the same pinned requirements the tests run on."""

import re
from importlib import metadata

import pytest
import yaml
from click.testing import CliRunner

from kjfp.cli import main
from kjfp.runner import service_classes
from tests.infrastructure import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
OURS = {name: spec for name, spec in SERVICES.items() if spec.get("image") == "kjfp:latest"}
CODE = "".join(
    path.read_text(encoding="utf-8")
    for package in ("kernel", "services", "gateway", "kjfp")
    for path in (ROOT / package).rglob("*.py")
    if "tests" not in path.parts
)
# Every variable the code reads (kernel/config.py, and the two read where they are used).
CONFIG_VARIABLES = set(re.findall(r'(?:_env|os\.environ\.get)\("(\w+)"', CODE))


def env_file_entries():
    text = (DEPLOY / "env.example").read_text(encoding="utf-8")
    assigned = dict(re.findall(r"^(\w+)=(.*)$", text, re.MULTILINE))
    documented = set(assigned) | set(re.findall(r"^# (\w+):", text, re.MULTILINE))
    return assigned, documented


def test_the_topology_is_the_issues_with_health_restart_and_volumes():
    assert set(OURS) == set(
        service_classes()
    )  # every service and the gateway, nothing else of ours
    assert {"rabbitmq", "postgres", "mongo"} <= set(SERVICES)
    for name, spec in SERVICES.items():
        assert spec.get("restart") == "unless-stopped", name
        assert spec.get("healthcheck", {}).get("test"), name
    for name in ("rabbitmq", "postgres", "mongo"):
        volume = SERVICES[name]["volumes"][0].split(":")[0]
        assert volume in COMPOSE["volumes"], name
    assert "--replSet" in SERVICES["mongo"]["command"]
    assert "replicaSet=rs0" in env_file_entries()[0]["MONGO_URI"]
    assert SERVICES["gateway"]["ports"] == ["8000:8000"]
    for name in ("registry", "supervision", "funding", "awards"):
        assert "ports" not in SERVICES[name] and "container_name" not in SERVICES[name], (
            f"{name} must scale"
        )


def test_the_image_and_every_file_the_compose_file_names_exist():
    for spec in OURS.values():
        assert (DEPLOY / spec["build"]["context"] / spec["build"]["dockerfile"]).resolve().is_file()
        assert (DEPLOY / spec["env_file"]).is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_container_command_is_a_kjfp_command_that_runs_here(name):
    spec = OURS[name]
    for command in (spec["command"], spec["healthcheck"]["test"][1:]):
        assert command[0] == "kjfp", command
        assert command[-1] == name, command  # each container serves and checks itself
        result = CliRunner().invoke(main, [*command[1:-1], "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_every_variable_is_one_the_code_reads_and_every_one_it_reads_is_documented():
    assigned, documented = env_file_entries()
    assert CONFIG_VARIABLES <= documented, CONFIG_VARIABLES - documented
    assert set(assigned) <= CONFIG_VARIABLES, set(assigned) - CONFIG_VARIABLES
    interpolated = set(
        re.findall(r"\$\{(\w+)", (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    )
    assert interpolated <= CONFIG_VARIABLES and interpolated <= documented
    for spec in OURS.values():
        assert set(spec["environment"]) <= CONFIG_VARIABLES
    secrets = {
        "TOKEN_SECRET",
        "TOKEN_SECRET_PREVIOUS",
        "CIPHER_KEY",
        "PII_HASH_KEY",
        "POSTGRES_PASSWORD",
        "CHECKPOINT_SIGNING_KEY",
    }
    assert not secrets & set(assigned), (
        "secrets come from the shell or deploy/.env, never the example"
    )


def lock():
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$", text, re.MULTILINE)
    }


def test_the_image_and_the_scripts_install_from_the_same_pins_the_tests_run_on():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY requirements.lock" in dockerfile and "-c requirements.lock" in dockerfile
    for script in ("scripts/run.sh", "scripts/test.sh"):
        assert "-c requirements.lock" in (ROOT / script).read_text(encoding="utf-8"), script
    pins = lock()
    for requirement in metadata.requires("kjfp"):
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in requirements.lock"
    for name, version in pins.items():
        assert metadata.version(name) == version, (
            f"{name}: installed {metadata.version(name)}, pinned {version}"
        )
