"""The registry service as deployed: a nameko container on the real RabbitMQ, its event store
in the real PostgreSQL, its views in MongoDB over real pymongo. Calls go over AMQP RPC and the
published events are caught by a second service listening on the bus."""

import os
import time

import pytest
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_container

from kernel.errors import Conflict, Forbidden, RuleViolation, Unauthorized
from kernel.pii import keyed_hash
from services.registry.service import RegistryService
from services.registry.tests.forms import expert_form, household_form, pairing_form
from tests.infrastructure import bus_listener, callers, services_on_real_parts

ADMIN = {"subject": "test", "role": "national_office", "scope": "national"}
HEBEI = {"subject": "hebei", "role": "provincial_office", "scope": "province:河北"}
SHANDONG = {"subject": "shandong", "role": "provincial_office", "scope": "province:山东"}
GUANGSHAN = {"province": "河南", "city": "信阳", "county": "光山"}
BusListener = bus_listener("bus_listener", "registry", "ExpertRegistered", "HouseholdPaired")
heard = BusListener.heard


@pytest.fixture
def runner(monkeypatch, amqp_uri, postgres_db, mongo_uri):
    """Configured by the environment, as ``kjfp service`` would be (see tests.infrastructure)."""
    heard.clear()
    with services_on_real_parts(
        monkeypatch, amqp_uri, postgres_db, mongo_uri, RegistryService, BusListener
    ) as service_runner:
        yield service_runner


@pytest.fixture
def distributed(runner, amqp_uri):
    with callers(amqp_uri) as calling:
        yield calling


def test_register_pair_and_count_over_rpc(distributed):
    registry = distributed(ADMIN).registry
    expert = registry.register_expert(expert_form(bank_account="6222020200112233445"))
    assert expert["id_number"].startswith("3713") and "*" in expert["id_number"]
    with pytest.raises(Conflict):
        registry.register_expert(expert_form(name="重复"))
    payee = registry.payee(expert["id"])  # what funding checks an account against
    assert payee["bank_account_hash"] == keyed_hash(
        os.environ["PII_HASH_KEY"], "6222 0202 0011 2233 445"
    )
    assert "6222020200112233445" not in str(payee)
    for n, code in enumerate(["371321000001", "371321000002", "371321000003"], start=1):
        registry.register_household(household_form(code, people=n + 1))
    with pytest.raises(RuleViolation):
        registry.file_pairing(pairing_form(expert["id"], ["371321000001", "371321999999"]))
    registry.file_pairing(pairing_form(expert["id"], ["371321000001", "371321000002"]))

    counts = registry.two_counts("province:山东", "2020-12-31")

    assert (
        counts["experts"],
        counts["households_paired"],
        counts["people_in_paired_households"],
    ) == (1, 2, 5)
    assert (
        counts["positions"]["registry"] == 2 + 3 + 4
    )  # expert+claim, 3 households, filed+taken+2 paired


def heard_soon(wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in heard if wanted(e)]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(
        f"not heard on the bus within {timeout}s; heard {[e['type'] for e in heard]}"
    )


def test_recorded_events_are_published_on_the_bus_masked_and_chained(distributed, runner):
    registry = distributed(ADMIN).registry
    form = expert_form(bank_account="6222020200112233445")
    expert = registry.register_expert(form)
    registry.register_household(household_form("371321000001"))
    registry.file_pairing(pairing_form(expert["id"], ["371321000001"]))
    # The listener's queue is durable: it may still hold what an earlier test published.
    registered = heard_soon(
        lambda e: e["type"] == "ExpertRegistered" and e["originator_id"] == expert["id"]
    )
    paired = heard_soon(
        lambda e: e["type"] == "HouseholdPaired" and e["payload"]["expert_id"] == expert["id"]
    )
    assert registered["service"] == "registry"
    assert registered["payload"]["name"] == "王建国"
    assert form["id_number"] not in str(heard) and "6222020200112233445" not in str(heard)
    assert registered["payload"]["id_number"] == expert["id_number"]
    assert paired["position"] > registered["position"]
    assert len(paired["chain_hash"]) == 64 and paired["chain_hash"] != registered["chain_hash"]
    # The same envelopes are what a consumer catching up over RPC reads.
    caught_up = registry.notifications(0, 100)
    assert [e for e in caught_up if e["position"] == paired["position"]] == [paired]


def test_writes_outside_the_jurisdiction_are_refused_by_the_service(distributed):
    with pytest.raises(Unauthorized):  # a call naming no actor in its context data
        distributed().registry.register_expert(expert_form())
    with pytest.raises(Forbidden):
        distributed(HEBEI).registry.register_expert(expert_form())
    with pytest.raises(Forbidden):
        distributed(HEBEI).registry.register_household(household_form("371321000001"))
    assert distributed().registry.two_counts("national", "2020-12-31")["positions"]["registry"] == 0


def test_a_pairing_outside_the_writers_jurisdiction_is_refused_before_its_own_rules(distributed):
    """Both the expert's unit and every household's place must lie in the writer's jurisdiction,
    as the command reads them; a refusal comes before the pairing's rules, and records nothing."""
    admin = distributed(ADMIN).registry
    shandong = distributed(SHANDONG).registry
    expert = admin.register_expert(expert_form())
    admin.register_household(household_form("371321000001"))
    admin.register_household(household_form("411522000002", location=GUANGSHAN))
    before = admin.two_counts("national", "2020-12-31")["positions"]["registry"]

    with pytest.raises(Forbidden) as henan_household:
        shandong.file_pairing(pairing_form(expert["id"], ["371321000001", "411522000002"]))
    assert henan_household.value.details == {"household_codes": ["outside your jurisdiction"]}
    with pytest.raises(Forbidden):  # Hebei's writer, Shandong's expert
        distributed(HEBEI).registry.file_pairing(pairing_form(expert["id"], ["371321000001"]))
    admin.revoke("expert", expert["id"], {"reason": "调离", "effective_date": "2020-01-10"})
    with pytest.raises(Forbidden):  # not "revoked": the writer may not learn it
        distributed(HEBEI).registry.file_pairing(pairing_form(expert["id"], ["371321000001"]))
    with pytest.raises(RuleViolation):
        shandong.file_pairing(pairing_form(expert["id"], ["371321000001"]))

    counts = admin.two_counts("national", "2020-12-31")
    assert counts["positions"]["registry"] == before + 1  # the revocation alone
    assert counts["households_paired"] == 0


def test_the_pump_publishes_and_projects_without_any_reader(distributed, runner):
    """The timer alone (no read catching the views up) brings the published log and the views
    to the end of the log; entrypoint_hook runs the same entrypoint the timer fires."""
    distributed(ADMIN).registry.register_household(household_form("371321000001"))
    container = get_container(runner, RegistryService)
    with entrypoint_hook(container, "pump") as pump:
        pump()
    provider = next(d for d in container.dependencies if d.attr_name == "parts").parts
    assert provider.outbox.ledger.head()[0] == provider.app.recorder.max_notification_id()
    assert provider.runners[0].position() == provider.app.recorder.max_notification_id()
