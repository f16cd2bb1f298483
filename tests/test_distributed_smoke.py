"""Distributed mode for real: the registry and the gateway as separate OS processes (the same
``kjfp service NAME`` commands the containers run) on RabbitMQ, the event store in PostgreSQL
and the views in MongoDB over pymongo. One HTTP round trip from POST /experts to GET /two-counts."""
import psycopg
import pytest
import requests

from kernel import auth
from services.registry.tests.test_registry_application import expert_form, household_form
from tests import processes
from tests.http_client import pairing_body
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
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + auth.mint(SECRET, "provincial_office", "province:山东")
    api = cluster + "/api/v1"

    expert = session.post(api + "/experts", json=expert_form(), timeout=30)
    assert expert.status_code == 201, expert.text
    assert session.post(api + "/experts", json=expert_form(name="重复"), timeout=30).status_code == 409
    for n in range(1, 4):
        assert session.post(api + "/households", json=household_form(f"37132100000{n}", people=n),
                            timeout=30).status_code == 201
    refused = session.post(api + "/pairings", json=pairing_body(expert.json()["id"], ["371321000001", "371321999999"]))
    assert refused.status_code == 422
    paired = session.post(api + "/pairings", json=pairing_body(expert.json()["id"], ["371321000001", "371321000003"]))
    assert paired.status_code == 201, paired.text

    counts = session.get(api + "/two-counts", params={"unit": "province:山东"}, timeout=30).json()

    assert (counts["experts"], counts["households_paired"], counts["people_in_paired_households"]) == (1, 2, 4)
    assert counts["positions"]["registry"] == 2 + 3 + 3
