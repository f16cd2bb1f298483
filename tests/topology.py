"""deploy/docker-compose.yml's Python containers as OS processes on this machine: each runs its
container's command with its container's environment (env.example, plus the compose file's
``environment`` with the secrets filled in), only the addresses of RabbitMQ, PostgreSQL and
MongoDB mapped to the local ones — there is no Docker engine here (ARCHITECTURE.md)."""

import os
import re
import signal
import subprocess
import threading
import time
import uuid

import requests
import yaml

from tests import processes
from tests.http_client import Client
from tests.infrastructure import PYTHON, ROOT, free_port

COMPOSE = yaml.safe_load((ROOT / "deploy/docker-compose.yml").read_text(encoding="utf-8"))
SECRETS = {
    "POSTGRES_PASSWORD": "unused-with-trust-auth",
    "TOKEN_SECRET": "topology-test-token-secret-32-bytes!",
    "TOKEN_SECRET_PREVIOUS": "",
    "CIPHER_KEY": "dG9wb2xvZ3ktdGVzdC1jaXBoZXIta2V5LTMyLWJ5dGU=",
    "PII_HASH_KEY": "topology-test-pii-hash-key-32-bytes!!",
    "CHECKPOINT_SIGNING_KEY": "dG9wb2xvZ3ktdGVzdC1jaGVja3BvaW50LWtleS0zMmI=",
}
# Only these differ from the containers' environment: where things are.
ADDRESSES = (
    "AMQP_URI",
    "POSTGRES_HOST",
    "POSTGRES_DB",
    "MONGO_URI",
    "VIEWS_DB",
    "HTTP_PORT",
    "KJFP_DATA_DIR",
)
# … and, where a test says so, a timing (to wait seconds rather than a minute).
TUNABLE = ("RPC_TIMEOUT_SECONDS",)


def _interpolate(value):
    """Compose's ``${NAME:?message}`` and ``${NAME:-default}``, from SECRETS."""

    def one(match):
        name, operator, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in SECRETS and SECRETS[name]:
            return SECRETS[name]
        if operator == ":?":
            raise KeyError(f"compose needs {name}: {rest}")
        return rest

    return re.sub(r"\$\{(\w+)(:\?|:-)?([^}]*)\}", one, str(value))


def container_env(name):
    """The environment compose gives the container ``name``."""
    text = (ROOT / "deploy" / COMPOSE["services"][name]["env_file"]).read_text(encoding="utf-8")
    env = dict(re.findall(r"^(\w+)=(.*)$", text, re.MULTILINE))
    env.update(
        {k: _interpolate(v) for k, v in COMPOSE["services"][name].get("environment", {}).items()}
    )
    return env


class Topology:
    def __init__(self, tmp_path, amqp_uri, postgres_db, mongo_uri, tuning=None):
        self.logs = tmp_path
        self.port = free_port()
        self.local = {
            "AMQP_URI": amqp_uri,
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_DB": postgres_db,
            "MONGO_URI": mongo_uri,
            "VIEWS_DB": f"views_{uuid.uuid4().hex[:8]}",
            "HTTP_PORT": str(self.port),
            "KJFP_DATA_DIR": str(tmp_path / "data"),
        }
        assert set(self.local) <= set(ADDRESSES)
        assert set(tuning or {}) <= set(TUNABLE)
        self.local.update(tuning or {})
        self.running = {}  # "registry-1" → Popen
        self.restarts = []  # (key, exit code) of every restart the policy made
        self.client = Client(f"http://127.0.0.1:{self.port}", SECRETS["TOKEN_SECRET"])
        self._lock = threading.Lock()
        self._watching = True
        threading.Thread(target=self._restart_policy, daemon=True).start()

    def _restart_policy(self):
        """compose's ``restart: unless-stopped``: a process that exits without being stopped
        (SIGKILL, or a container that died) is started again, its log continued."""
        while self._watching:
            with self._lock:
                for key, process in list(self.running.items()):
                    if process.poll() is not None:
                        self.restarts.append((key, process.returncode))
                        name = key.rsplit("-", 1)[0]
                        self.running[key] = processes.start(
                            self.command(name)[1:], self.env(name), self.log(key)
                        )
            time.sleep(0.2)

    def env(self, name):
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in container_env(name) and not k.startswith("KJFP")
        }
        return {**env, **container_env(name), **self.local, "PYTHONUNBUFFERED": "1"}

    def command(self, name):
        return COMPOSE["services"][name]["command"]

    def start(self, name, replica=1):
        key = f"{name}-{replica}"
        command = self.command(name)
        assert command[0] == "kjfp"
        with self._lock:
            self.running[key] = processes.start(command[1:], self.env(name), self.log(key))
        return key

    def log(self, key):
        return self.logs / f"{key}.log"

    def start_all(self):
        for name in COMPOSE["services"]:
            if COMPOSE["services"][name].get("image") == "kjfp:latest":
                self.start(name)
        self.wait_ready()

    def wait_ready(self, timeout=60.0):
        with self._lock:
            gateway = self.running["gateway-1"]
        processes.wait_ready(self.client.base, gateway, self.log("gateway-1"), timeout)

    def stop(self, key):
        """``docker stop``: SIGTERM, and no restart; returns the exit code."""
        with self._lock:
            process = self.running.pop(key)
        process.send_signal(signal.SIGTERM)
        return process.wait(30)

    def crash(self, key):
        """``docker kill``: SIGKILL; the restart policy brings it back."""
        with self._lock:
            self.running[key].kill()

    def kjfp(self, *args, name="registry", timeout=120):
        """A ``kjfp`` command run as a container of ``name`` would run it (compose run / exec)."""
        return subprocess.run(
            [PYTHON, "-m", "kjfp.cli", *args],
            cwd=ROOT,
            env=self.env(name),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def health_check(self, name):
        test = COMPOSE["services"][name]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "kjfp"]
        return self.kjfp(*test[2:], name=name, timeout=60)

    def handled(self, key, method):
        """How many calls of ``method`` the process ``key`` handled (from its call log)."""
        return len(re.findall(rf"\b{method} ok\b", self.log(key).read_text(encoding="utf-8")))

    def stop_all(self):
        self._watching = False
        with self._lock:
            codes = {key: processes.stop(process) for key, process in self.running.items()}
            self.running.clear()
        return codes

    def wait_for(self, predicate, timeout=60.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{what} not met within {timeout}s")
