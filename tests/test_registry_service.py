"""The registry service as deployed: a nameko container on the real RabbitMQ, its event store
in the real PostgreSQL, its views in MongoDB over real pymongo. Calls go over AMQP RPC and the
published events are caught by a second service listening on the bus."""
import eventlet
import psycopg
import pytest
from nameko.events import event_handler
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ClusterRpcProxy

from kernel.errors import Conflict, Forbidden, RuleViolation
from services.registry.service import RegistryService
from services.registry.tests.forms import expert_form, household_form, pairing_form

ADMIN = {"subject": "test", "role": "national_office", "scope": "national"}
HEBEI = {"subject": "hebei", "role": "provincial_office", "scope": "province:河北"}
heard = []


class BusListener:
    name = "bus_listener"

    @event_handler("registry", "ExpertRegistered")
    def expert_registered(self, envelope):
        heard.append(envelope)

    @event_handler("registry", "HouseholdPaired")
    def household_paired(self, envelope):
        heard.append(envelope)


@pytest.fixture
def distributed(monkeypatch, amqp_uri, postgres_db, mongo_uri):
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={postgres_db}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS registry CASCADE")
    for name, value in {"AMQP_URI": amqp_uri, "EVENT_STORE": "postgres", "POSTGRES_DB": postgres_db,
                        "MONGO_URI": mongo_uri, "VIEWS_DB": f"views_{id(monkeypatch)}"}.items():
        monkeypatch.setenv(name, value)
    heard.clear()
    config = {"AMQP_URI": amqp_uri}
    runner = ServiceRunner(config)
    runner.add_service(RegistryService)
    runner.add_service(BusListener)
    runner.start()
    with ClusterRpcProxy(config, timeout=30) as cluster:
        yield cluster
    runner.stop()


def wait_until(condition, timeout=10.0):
    with eventlet.Timeout(timeout):
        while not condition():
            eventlet.sleep(0.05)


def test_register_pair_and_count_over_rpc(distributed):
    registry = distributed.registry
    expert = registry.register_expert(expert_form(bank_account="6222020200112233445"), ADMIN)
    assert expert["id_number"].startswith("3713") and "*" in expert["id_number"]
    with pytest.raises(Conflict):
        registry.register_expert(expert_form(name="重复"), ADMIN)
    for n, code in enumerate(["371321000001", "371321000002", "371321000003"], start=1):
        registry.register_household(household_form(code, people=n + 1), ADMIN)
    with pytest.raises(RuleViolation):
        registry.file_pairing(pairing_form(expert["id"], ["371321000001", "371321999999"]), ADMIN)
    registry.file_pairing(pairing_form(expert["id"], ["371321000001", "371321000002"]), ADMIN)

    counts = registry.two_counts("province:山东", "2020-12-31")

    assert (counts["experts"], counts["households_paired"], counts["people_in_paired_households"]) == (1, 2, 5)
    assert counts["positions"]["registry"] == 2 + 3 + 4  # expert+claim, 3 households, filed+taken+2 paired


def test_recorded_events_are_published_on_the_bus_masked_and_chained(distributed):
    registry = distributed.registry
    form = expert_form(bank_account="6222020200112233445")
    expert = registry.register_expert(form, ADMIN)
    registry.register_household(household_form("371321000001"), ADMIN)
    registry.file_pairing(pairing_form(expert["id"], ["371321000001"]), ADMIN)

    wait_until(lambda: len(heard) >= 2)

    registered = next(e for e in heard if e["type"] == "ExpertRegistered")
    assert registered["service"] == "registry" and registered["originator_id"] == expert["id"]
    assert registered["payload"]["name"] == "王建国"
    assert form["id_number"] not in str(heard) and "6222020200112233445" not in str(heard)
    assert registered["payload"]["id_number"] == expert["id_number"]
    paired = next(e for e in heard if e["type"] == "HouseholdPaired")
    assert paired["position"] > registered["position"]
    assert len(paired["chain_hash"]) == 64 and paired["chain_hash"] != registered["chain_hash"]
    # The same envelopes are what a consumer catching up over RPC reads.
    caught_up = registry.notifications(0, 100)
    assert [e for e in caught_up if e["position"] == paired["position"]] == [paired]


def test_writes_outside_the_jurisdiction_are_refused_by_the_service(distributed):
    with pytest.raises(Forbidden):
        distributed.registry.register_expert(expert_form(), HEBEI)
    with pytest.raises(Forbidden):
        distributed.registry.register_household(household_form("371321000001"), HEBEI)
    assert distributed.registry.two_counts("national", "2020-12-31")["positions"]["registry"] == 0
