"""Fixtures for the real parts: RabbitMQ, PostgreSQL and MongoDB (via its wire-protocol stand-in).

Each run gets its own RabbitMQ vhost and its own PostgreSQL database, so runs never see each
other's queues or events. ``MONGO_URI`` names a MongoDB to use (a real one works too); without
it the stand-in ``nx-27017`` is started on a free loopback port from ``NX_27017`` or
``.venv-mongo/bin/nx-27017`` (scripts/test.sh installs it there).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pymongo
import pytest

from kernel import config

ROOT = Path(__file__).resolve().parent.parent
RABBIT_HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")
POSTGRES_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, host="127.0.0.1", timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


@pytest.fixture(scope="session")
def amqp_uri():
    """A fresh vhost on the real RabbitMQ for this test run."""
    vhost = f"kjfp-test-{uuid.uuid4().hex[:8]}"
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    yield f"amqp://guest:guest@{RABBIT_HOST}:5672/{vhost}"
    subprocess.run([ctl, "delete_vhost", vhost], capture_output=True)


@contextlib.contextmanager
def fresh_database():
    """A new database on the real PostgreSQL, dropped afterwards."""
    name = f"kjfp_test_{uuid.uuid4().hex[:8]}"
    admin = f"host={POSTGRES_HOST} port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_db():
    """A fresh database on the real PostgreSQL for this test run (dropped afterwards)."""
    with fresh_database() as name:
        yield name


def _nx_binary():
    candidates = [
        os.environ.get("NX_27017"),
        ROOT / ".venv-mongo/bin/nx-27017",
        shutil.which("nx-27017"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise RuntimeError(
        "no MongoDB to test against: set MONGO_URI, or install the stand-in with "
        "scripts/test.sh (it creates .venv-mongo with nx-27017)"
    )


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    """A MongoDB reached through real pymongo over the wire."""
    if os.environ.get("MONGO_URI"):
        yield os.environ["MONGO_URI"]
        return
    port = free_port()
    data = tmp_path_factory.mktemp("nx-27017")
    process = subprocess.Popen(
        [
            _nx_binary(),
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--log-file",
            str(data / "nx.log"),
            "--pid-file",
            str(data / "nx.pid"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"mongodb://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def mongo_db(mongo_uri):
    """A fresh database on the MongoDB for one test."""
    client = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    name = f"views_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)
    client.close()


def settings_for(tmp_path, **overrides):
    """Embedded settings rooted in a test's own directory, with overrides."""
    base = config.Settings(data_dir=tmp_path / "data", views_db=f"views_{uuid.uuid4().hex[:8]}")
    return config.Settings(**{**base.__dict__, **overrides})


@contextlib.contextmanager
def applications(service, tmp_path, postgres_db=None):
    """A factory of the service's Application (its declaration's), each one made a replica on
    one event store: the embedded SQLite store in ``tmp_path``, or a fresh schema of the real
    PostgreSQL ``postgres_db``. Every one made is closed afterwards."""
    from kjfp.bootstrap import declaration

    if postgres_db:
        with psycopg.connect(
            f"host={POSTGRES_HOST} user=postgres dbname={postgres_db}", autocommit=True
        ) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {service} CASCADE")
        settings = settings_for(
            tmp_path, event_store="postgres", postgres_db=postgres_db, pii_hash_key="test-key"
        )
    else:
        settings = settings_for(tmp_path, pii_hash_key="test-key")
    made = []

    def make():
        made.append(declaration(service).open(settings))
        return made[-1]

    try:
        yield make
    finally:
        for application in made:
            application.close()


def distributed_env(amqp_uri, postgres_db, mongo_uri, **extra):
    """The environment a service process gets in the distributed mode (as in deploy/)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KJFP_", "EVENT_STORE"))}
    env.update(
        {
            "AMQP_URI": amqp_uri,
            "EVENT_STORE": "postgres",
            "POSTGRES_HOST": POSTGRES_HOST,
            "POSTGRES_DB": postgres_db,
            "POSTGRES_USER": "postgres",
            "MONGO_URI": mongo_uri,
            "VIEWS_DB": f"views_{uuid.uuid4().hex[:8]}",
            "PYTHONUNBUFFERED": "1",
            "TOKEN_SECRET": "distributed-test-token-secret-32-bytes",
            "CIPHER_KEY": "dGVzdC1vbmx5LWNpcGhlci1rZXktMzItYnl0ZXMuLi4=",
            "PII_HASH_KEY": "distributed-test-pii-hash-key-32-bytes",
            "CHECKPOINT_SIGNING_KEY": "dGVzdC1vbmx5LWNoZWNrcG9pbnQta2V5LTMyYnl0ZXM=",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def bus_listener(name, source, *event_types):
    """A nameko service that keeps every envelope ``source`` publishes under ``event_types`` in its
    ``heard`` list, as they arrive. Its handler for a type is named after the type, so
    ``entrypoint_waiter(container, "HouseholdPaired")`` waits for one."""
    from nameko.events import event_handler

    heard: list = []

    def handler(event_type):
        def keep(self, envelope):
            heard.append(envelope)

        keep.__name__ = event_type
        return event_handler(source, event_type)(keep)

    return type(name, (), {"name": name, "heard": heard} | {t: handler(t) for t in event_types})


@contextlib.contextmanager
def services_on_real_parts(
    monkeypatch, amqp_uri, postgres_db, mongo_uri, *service_classes, web_port=None
):
    """Nameko containers of ``service_classes`` configured by the environment, as ``kjfp service``
    would be, on the real RabbitMQ, PostgreSQL (every service's schema fresh) and MongoDB (a fresh
    views database, dropped afterwards); the gateway among them serves HTTP on ``web_port``.
    Yields the running ``ServiceRunner``."""
    from nameko.runners import ServiceRunner

    from kjfp.bootstrap import declarations

    with psycopg.connect(
        f"host={POSTGRES_HOST} user=postgres dbname={postgres_db}", autocommit=True
    ) as conn:
        for name in declarations():  # every service's, so no other test's log is found here
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    env = distributed_env(amqp_uri, postgres_db, mongo_uri)
    for name in (
        "AMQP_URI",
        "EVENT_STORE",
        "POSTGRES_DB",
        "MONGO_URI",
        "VIEWS_DB",
        "TOKEN_SECRET",
        "CIPHER_KEY",
        "PII_HASH_KEY",
        "CHECKPOINT_SIGNING_KEY",
    ):
        monkeypatch.setenv(name, env[name])
    web_address = f"127.0.0.1:{web_port or free_port()}"
    runner = ServiceRunner({"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": web_address})
    for cls in service_classes:
        runner.add_service(cls)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
        pymongo.MongoClient(mongo_uri).drop_database(env["VIEWS_DB"])


class Callers:
    """The services over RPC as each actor calls them: ``callers(actor).registry``. One standalone
    proxy per actor, naming it in the context data as the gateway does (kernel/acting.py); no
    actor for the calls that need none."""

    def __init__(self, amqp_uri, stack):
        self.amqp_uri, self.stack, self.proxies = amqp_uri, stack, {}

    def __call__(self, actor=None):
        from nameko.standalone.rpc import ClusterRpcProxy

        from kernel.acting import context_data

        key = None if actor is None else tuple(sorted(actor.items()))
        if key not in self.proxies:
            data = None if actor is None else context_data(actor)
            self.proxies[key] = self.stack.enter_context(
                ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=30, context_data=data)
            )
        return self.proxies[key]


@contextlib.contextmanager
def callers(amqp_uri):
    with contextlib.ExitStack() as stack:
        yield Callers(amqp_uri, stack)


PYTHON = sys.executable
