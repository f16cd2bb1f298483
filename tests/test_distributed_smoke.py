"""Distributed mode for real: every service and the gateway as separate OS processes (the same
``kjfp service NAME`` commands the containers run) on RabbitMQ, the event store in PostgreSQL
and the views in MongoDB over pymongo. One HTTP round trip from POST /experts to GET /two-counts."""

import psycopg
import pytest

from kernel.note import open_checkpoint
from kjfp.runner import service_classes
from tests import processes
from tests.http_client import Client, acceptance_scenario
from tests.infrastructure import distributed_env, free_port

SECRET = "distributed-test-token-secret-32-bytes"
SERVICES = [name for name in service_classes() if name != "gateway"]


@pytest.fixture
def cluster(tmp_path, amqp_uri, postgres_db, mongo_uri):
    with psycopg.connect(
        f"host=127.0.0.1 user=postgres dbname={postgres_db}", autocommit=True
    ) as conn:
        for name in SERVICES:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    port = free_port()
    env = distributed_env(amqp_uri, postgres_db, mongo_uri, HTTP_PORT=port)
    log = tmp_path / "services.log"
    services = [processes.start(["service", name], env, log) for name in SERVICES]
    gateway = processes.start(["service", "gateway"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_ready(base, gateway, log)
        yield base
    finally:
        assert processes.stop(gateway) == 0, log.read_text()[-3000:]
        for service in services:
            assert processes.stop(service) == 0, log.read_text()[-3000:]


def test_http_round_trip_across_processes(cluster):
    api = Client(cluster, SECRET)
    acceptance_scenario(api)
    # Issue 16: the 两数 name a signed checkpoint holding their position, its note verifying with
    # the key the audit API publishes (the registry's tables in PostgreSQL).
    counts = api.get("/two-counts", params={"unit": "national"}).json()
    named = counts["checkpoints"]["registry"]
    served = api.get(
        "/audit/checkpoints", params={"service": "registry"}, token=api.token("auditor")
    ).json()
    checkpoint = open_checkpoint(named["note"], served["verifier_keys"])
    assert (
        checkpoint.tree_size == named["tree_size"]
        and named["position"] >= counts["positions"]["registry"] > 0
    )
