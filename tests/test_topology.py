"""The deployed topology (deploy/docker-compose.yml) as OS processes running the containers'
commands with the containers' environment, on the real RabbitMQ, PostgreSQL and the MongoDB
stand-in (tests/topology.py): a cross-service scenario over HTTP, two registry replicas sharing
the load, graceful shutdown, and faults — after which every acknowledged write is there exactly
once and every view equals a replay of the logs (``kjfp audit``)."""

import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from kjfp.bootstrap import declarations
from kjfp.sample_data import id_number
from services.registry.tests.forms import expert_form, household_form
from services.supervision.tests.forms import campaign_2017, self_inspection
from tests.http_client import pairing_body
from tests.infrastructure import wait_for_port
from tests.topology import Topology

LVLIANG = {"province": "山西", "city": "吕梁", "county": "岚县"}


def fresh_schemas(postgres_db):
    with psycopg.connect(
        f"host=127.0.0.1 user=postgres dbname={postgres_db}", autocommit=True
    ) as conn:
        for name in declarations():
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def topology(tmp_path, amqp_uri, postgres_db, mongo_uri):
    fresh_schemas(postgres_db)
    topology = Topology(tmp_path, amqp_uri, postgres_db, mongo_uri)
    yield topology
    topology.stop_all()


def created(response):
    assert response.status_code == 201, response.text
    return response.json()


def audit_is_clean(topology):
    """Every log verifies against its chain and every view equals a replay of the logs."""
    verified = topology.kjfp("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    replayed = topology.kjfp("audit", "replay")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    return verified.stdout + replayed.stdout


def test_the_compose_topology_serves_a_cross_service_scenario(topology):
    topology.start_all()
    for name in ("registry", "supervision", "funding", "awards", "gateway"):
        check = topology.health_check(name)
        assert check.returncode == 0, check.stderr
    api = topology.client

    # The registers of 山西 (registry) …
    experts = [
        created(
            api.post(
                "/experts",
                expert_form(
                    name=f"专家{n}",
                    id_number=id_number("140102", "19950101", f"{n:03d}"),
                    unit="province:山西",
                    location=LVLIANG,
                    effective_date="2017-03-01",
                ),
            )
        )
        for n in (1, 2)
    ]
    for code in ("1411290001", "1411290002"):
        created(
            api.post(
                "/households", household_form(code, location=LVLIANG, effective_date="2017-03-01")
            )
        )
    created(
        api.post(
            "/pairings",
            {
                **pairing_body(experts[0]["id"], ["1411290001", "1411290002"]),
                "start": "2017-04-01",
                "end": "2017-12-31",
                "effective_date": "2017-04-01",
            },
        )
    )
    # … a supervision campaign reading them, with item 11 from the funding service …
    campaign = created(api.post("/campaigns", campaign_2017()))
    shanxi = api.token("provincial_office", "province:山西")
    created(
        api.post(
            f"/campaigns/{campaign['id']}/self-inspections",
            self_inspection("province:山西", experts=2),
            token=shanxi,
        )
    )
    table = api.get(
        f"/campaigns/{campaign['id']}/statistics-table",
        params={"unit": "province:山西"},
        token=shanxi,
    )
    assert table.status_code == 200, table.text
    items = {item["no"]: item for item in table.json()["items"]}
    assert (items[8]["registered"], items[9]["registered"]) == (2, {"households": 2, "people": 8})
    assert (items[11]["available"], items[11]["registered"]) == (True, 0.0)
    # … a funding programme and an award round loaded by the command line through the gateway.
    shandong = api.token("provincial_office", "province:山东")
    loaded = topology.kjfp(
        "programme",
        "load",
        "shandong",
        "--url",
        api.base,
        "--token",
        shandong,
        "--effective-date",
        "2016-03-01",
    )
    assert loaded.returncode == 0, loaded.stderr
    programme = api.get(f"/programmes/{loaded.stdout.strip().splitlines()[-1]}", token=shandong)
    assert programme.status_code == 200 and programme.json()["unit"] == "province:山东"
    loaded = topology.kjfp("award-round", "load", "2020", "--url", api.base, "--token", api.token())
    assert loaded.returncode == 0, loaded.stderr
    assert api.get(f"/award-rounds/{loaded.stdout.strip().splitlines()[-1]}").json()["year"] == 2020

    report = audit_is_clean(topology)
    assert all(f"{name}: OK" in report for name in declarations())
    assert all(code == 0 for code in topology.stop_all().values())  # SIGTERM: a clean exit


def test_two_registry_replicas_share_the_load_with_nothing_lost_or_doubled(topology):
    topology.start_all()
    topology.start("registry", replica=2)
    api = topology.client
    topology.wait_for(
        lambda: topology.health_check("registry").returncode == 0, what="the second replica"
    )
    codes = [f"3713210{n:05d}" for n in range(60)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda code: api.post("/households", household_form(code)).status_code, codes)
        )
        twins = list(pool.map(lambda _: api.post("/experts", expert_form()).status_code, range(2)))
    assert statuses == [201] * 60
    assert sorted(twins) == [201, 409]  # the same person registered twice at once: once

    handled = [
        topology.handled(key, "registry.register_household") for key in ("registry-1", "registry-2")
    ]
    assert sum(handled) == 60 and min(handled) > 0, handled
    registered = [
        e for e in stored_events(api, "registry") if e["topic"].endswith("HouseholdRegistered")
    ]
    assert len(registered) == 60
    topology.wait_for(
        lambda: api.get("/two-counts", params={"unit": "national"}).status_code == 200
    )
    audit_is_clean(topology)


def stored_events(api, service):
    auditor, after, events = api.token("auditor", "national"), 0, []
    while after is not None:
        page = api.get(
            "/audit/events",
            params={"service": service, "after": after, "limit": 1000},
            token=auditor,
        )
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        after = page.json()["next_cursor"]
    return events


class Writer(threading.Thread):
    """A client writing one record after another, as a county clerk's tool would: each request
    with its own Idempotency-Key, retried after an error until acknowledged."""

    def __init__(self, api, path, bodies):
        super().__init__(daemon=True)
        self.api, self.path, self.bodies = api, path, bodies  # {idempotency key: body}
        self.acknowledged, self.errors = {}, 0

    def run(self):
        for key, body in self.bodies.items():
            while key not in self.acknowledged:
                try:
                    reply = self.api.post(self.path, body, headers={"Idempotency-Key": key})
                except requests.RequestException:
                    reply = None
                if reply is not None and reply.status_code == 201:
                    self.acknowledged[key] = (
                        reply.json()["id"] if "id" in reply.json() else reply.json()["code"]
                    )
                else:  # only an outage may fail a valid write, and it must say so
                    assert reply is None or reply.status_code >= 500, reply.text
                    self.errors += 1
                    time.sleep(0.2)

    def wait_for(self, count, timeout=60.0):
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.05)
        assert len(self.acknowledged) >= count, f"only {len(self.acknowledged)} acknowledged"


def households(prefix, count):
    return {f"{prefix}{n:04d}": household_form(f"{prefix}{n:04d}") for n in range(count)}


def service_logs_of(expert_id, count):
    """Help activities: no natural key, so only the idempotency key keeps a redelivery from
    recording one twice."""
    dates = [f"2020-03-{1 + n % 28:02d}" for n in range(count)]
    return {
        f"log-{n}": {
            "expert_id": expert_id,
            "date": dates[n],
            "place": "西岭村",
            "form": "田间指导",
            "content": f"第{n}次指导",
            "participants": 12,
            "hours": 2,
            "effective_date": dates[n],
        }
        for n in range(count)
    }


class StandIn:
    """This test's own MongoDB stand-in, to stop and start at will."""

    def __init__(self, tmp_path):
        from tests.infrastructure import _nx_binary, free_port

        self.binary, self.port, self.data = _nx_binary(), free_port(), tmp_path / "nx"
        self.data.mkdir()
        self.uri = f"mongodb://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                self.binary,
                "--data-dir",
                str(self.data),
                "--port",
                str(self.port),
                "--log-file",
                str(self.data / "nx.log"),
                "--pid-file",
                str(self.data / "nx.pid"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def test_faults_lose_no_acknowledged_write_and_leave_the_views_equal_to_the_logs(
    tmp_path, amqp_uri, postgres_db
):
    fresh_schemas(postgres_db)
    stand_in = StandIn(tmp_path)
    stand_in.start()
    topology = Topology(tmp_path, amqp_uri, postgres_db, stand_in.uri)
    writers = []
    try:
        topology.start_all()
        api = topology.client

        expert = created(api.post("/experts", expert_form()))
        created(api.post("/households", household_form("371321000001")))
        created(api.post("/pairings", pairing_body(expert["id"], ["371321000001"])))

        # A registry killed (SIGKILL) in the middle of a stream of writes, then started again.
        writers.append(Writer(api, "/service-logs", service_logs_of(expert["id"], 40)))
        writers[-1].start()
        writers[-1].wait_for(10)
        topology.crash("registry-1")  # the restart policy starts it again
        writers[-1].join(120)

        # RabbitMQ restarted during a run.
        writers.append(Writer(api, "/households", households("37132102", 40)))
        writers[-1].start()
        writers[-1].wait_for(10)
        rabbitmqctl("stop_app")
        time.sleep(2)
        rabbitmqctl("start_app")
        wait_for_port(5672)
        writers[-1].join(180)

        # The view store stopped and brought back; writes go on meanwhile, reads say they cannot.
        writers.append(Writer(api, "/households", households("37132103", 20)))
        stand_in.stop()
        writers[-1].start()
        down = topology.health_check("registry")
        assert down.returncode == 1 and "view store" in down.stderr
        assert api.get("/two-counts", params={"unit": "national"}).status_code >= 500
        time.sleep(2)
        stand_in.start()
        writers[-1].join(120)

        assert ("registry-1", -signal.SIGKILL) in topology.restarts
        for writer in writers:
            assert not writer.is_alive() and len(writer.acknowledged) == len(writer.bodies)
        events = stored_events(api, "registry")
        logged = [e["originator_id"] for e in events if e["topic"].endswith("ServiceLogged")]
        assert sorted(logged) == sorted(writers[0].acknowledged.values())  # each once, nothing else
        registered = [e for e in events if e["topic"].endswith("HouseholdRegistered")]
        assert len(registered) == 1 + 40 + 20
        topology.wait_for(
            lambda: api.get("/two-counts", params={"unit": "national"}).status_code == 200,
            what="views reachable again",
        )
        audit_is_clean(topology)
    finally:
        topology.stop_all()
        stand_in.stop()


def test_sigterm_lets_in_flight_requests_finish_and_half_writes_nothing(topology):
    """``docker stop`` sends SIGTERM. A registry stopped in the middle of a 20,000-household import
    finishes the batch in hand and exits cleanly; the rest waits on the bus for the next replica.
    A gateway stopped while answering finishes that answer first."""
    topology.start_all()
    api = topology.client
    rows = [household_form(f"3713219{n:05d}") for n in range(20000)]
    replies = []
    importing = threading.Thread(
        target=lambda: replies.append(api.post("/households/import", rows))
    )
    importing.start()
    topology.wait_for(
        lambda: topology.handled("registry-1", "registry.import_households") >= 3, what="an import"
    )
    assert topology.stop("registry-1") == 0
    log = topology.log("registry-1").read_text(encoding="utf-8")
    assert "registry.import_households failed" not in log  # the batch in hand was finished, not cut
    topology.start("registry", replica=2)
    importing.join(120)
    assert replies[0].status_code == 200 and replies[0].json()["created"] == 20000, replies[0].text[
        :300
    ]
    again = api.post("/households/import", rows[:1000]).json()
    assert (again["created"], again["duplicate"]) == (0, 1000)  # recorded once, none half-written

    slow = [household_form(f"3713218{n:05d}") for n in range(5000)]
    before = topology.handled("registry-2", "registry.import_households")
    importing = threading.Thread(
        target=lambda: replies.append(api.post("/households/import", slow))
    )
    importing.start()
    topology.wait_for(
        lambda: topology.handled("registry-2", "registry.import_households") >= before + 2,
        what="an import",
    )
    assert topology.stop("gateway-1") == 0
    importing.join(60)
    assert replies[1].status_code == 200 and replies[1].json()["created"] == 5000, replies[1].text[
        :300
    ]


def test_a_request_no_replica_takes_is_answered_503_and_its_retry_returns_the_first_result(
    tmp_path, amqp_uri, postgres_db, mongo_uri
):
    fresh_schemas(postgres_db)
    topology = Topology(
        tmp_path, amqp_uri, postgres_db, mongo_uri, tuning={"RPC_TIMEOUT_SECONDS": "3"}
    )
    try:
        topology.start_all()
        api = topology.client
        assert topology.stop("registry-1") == 0
        form, key = expert_form(), {"Idempotency-Key": "expert-1"}
        refused = api.post("/experts", form, headers=key)
        assert refused.status_code == 503 and refused.json()["error"] == "UNAVAILABLE", refused.text
        ready = requests.get(api.base + "/ready", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["registry"].startswith(
            "unavailable"
        )

        topology.start("registry", replica=2)  # the command waiting on the bus is carried out now
        topology.wait_for(
            lambda: api.post("/experts", form, headers=key).status_code == 201, what="the retry"
        )
        first = api.post("/experts", form, headers=key).json()
        assert api.post("/experts", form, headers=key).json()["id"] == first["id"]
        registered = [
            e for e in stored_events(api, "registry") if e["topic"].endswith("ExpertRegistered")
        ]
        assert len(registered) == 1
    finally:
        topology.stop_all()
