"""Distributed mode for real: the registry and the gateway as separate OS processes (the same
``kjfp service NAME`` commands the containers run) on RabbitMQ, the event store in PostgreSQL
and the views in MongoDB over pymongo. One HTTP round trip from POST /experts to GET /two-counts."""
import psycopg
import pytest

from tests import processes
from tests.http_client import Client, acceptance_scenario
from tests.infrastructure import distributed_env, free_port

SECRET = "distributed-test-token-secret-32-bytes"


@pytest.fixture
def cluster(tmp_path, amqp_uri, postgres_db, mongo_uri):
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={postgres_db}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS registry CASCADE")
    port = free_port()
    env = distributed_env(amqp_uri, postgres_db, mongo_uri, HTTP_PORT=port)
    log = tmp_path / "services.log"
    registry = processes.start(["service", "registry"], env, log)
    gateway = processes.start(["service", "gateway"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_ready(base, gateway, log)
        yield base
    finally:
        assert processes.stop(gateway) == 0, log.read_text()[-3000:]
        assert processes.stop(registry) == 0, log.read_text()[-3000:]


def test_http_round_trip_across_processes(cluster):
    acceptance_scenario(Client(cluster, SECRET))
