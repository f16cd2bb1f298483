"""The public HTTP API (API.md) end to end on the embedded system: the gateway and the registry in
this process on kombu's in-process memory:// transport, SQLite event store, the embedded view store.
Each test gets a fresh system. (The same paths over RabbitMQ, PostgreSQL and MongoDB:
test_distributed_smoke.py.)"""

import base64
import time
from uuid import UUID

import pytest
from eventsourcing.persistence import Notification

from kernel.chain import GENESIS, link
from services.registry.tests.forms import expert_form, household_form
from tests.http_client import acceptance_scenario, pairing_body, start_system


@pytest.fixture
def api(tmp_path):
    service_runner, client = start_system(tmp_path)
    yield client
    service_runner.stop()


def test_acceptance_register_pair_and_read_the_two_counts(api):
    acceptance_scenario(api)


def test_responses_never_show_personal_numbers(api):
    form = expert_form(bank_account="6222020200112233445")
    created = api.post("/experts", form).json()
    read = api.get(f"/experts/{created['id']}").json()
    listed = api.get("/experts", params={"unit": "province:山东"}).json()
    for body in (created, read, listed):
        assert form["id_number"] not in str(body) and "6222020200112233445" not in str(body)
    assert read["bank_account"] == "6222***********3445"
    assert [e["id"] for e in listed["items"]] == [created["id"]]


def test_writes_outside_ones_jurisdiction_or_role_are_403(api):
    hebei = api.token("provincial_office", "province:河北")
    shandong = api.token("provincial_office", "province:山东")
    auditor = api.token("auditor", "national")
    yinan = api.token("county_association", "county:山东/临沂/沂南")
    lanshan = api.token("county_association", "county:山东/临沂/兰山")

    refused = api.post("/experts", expert_form(), token=hebei)
    assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN"
    assert api.post("/experts", expert_form(), token=auditor).status_code == 403
    assert api.post("/households", household_form("371321000001"), token=lanshan).status_code == 403
    assert api.post("/households", household_form("371321000001"), token=yinan).status_code == 201
    expert = api.post("/experts", expert_form(), token=shandong)
    assert expert.status_code == 201
    assert (
        api.post(
            "/pairings", pairing_body(expert.json()["id"], ["371321000001"]), token=hebei
        ).status_code
        == 403
    )
    assert (
        api.get("/two-counts", params={"unit": "province:山东"}, token=auditor).json()[
            "households_paired"
        ]
        == 0
    )


def test_a_write_retried_with_its_idempotency_key_returns_the_first_result(api):
    expert = api.post("/experts", expert_form(), headers={"Idempotency-Key": "exp-1"})
    retried = api.post("/experts", expert_form(), headers={"Idempotency-Key": "exp-1"})
    assert retried.status_code == 201 and retried.json()["id"] == expert.json()["id"]
    api.post("/households", household_form("371321000001"))
    body = pairing_body(expert.json()["id"], ["371321000001"])
    first = api.post("/pairings", body, headers={"Idempotency-Key": "pair-1"})
    position = api.get("/two-counts", params={"unit": "national"}).json()["positions"]["registry"]

    again = api.post("/pairings", body, headers={"Idempotency-Key": "pair-1"})

    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    counts = api.get("/two-counts", params={"unit": "national"}).json()
    assert counts["positions"]["registry"] == position and counts["households_paired"] == 1
    reused = api.post("/pairings", {**body, "goals": "别的"}, headers={"Idempotency-Key": "pair-1"})
    assert reused.status_code == 409 and "Idempotency-Key" in reused.json()["details"]


def test_a_province_pairs_only_its_own_households_and_reads_only_its_own_experts(api):
    shandong = api.token("provincial_office", "province:山东")
    hebei_reader = api.token("expert", "province:河北")
    society = api.token("society", "society:中国农学会")
    hebei_home = {"province": "河北", "city": "保定", "county": "阜平"}
    assert (
        api.post(
            "/households",
            household_form(
                "130624000001", location=hebei_home, head_id_number="11010519491231002X"
            ),
        ).status_code
        == 201
    )
    expert = api.post("/experts", expert_form(), token=shandong).json()

    refused = api.post("/pairings", pairing_body(expert["id"], ["130624000001"]), token=shandong)
    assert refused.status_code == 403 and "household_codes" in refused.json()["details"]
    assert api.get(f"/experts/{expert['id']}", token=hebei_reader).status_code == 403
    assert (
        api.get(f"/experts/{expert['id']}", token=api.token("auditor", "national")).status_code
        == 200
    )
    assert (
        api.get("/experts", params={"unit": "province:山东"}, token=hebei_reader).status_code == 403
    )
    assert api.get("/experts", token=society).json()["items"] == []  # defaults to its own unit
    assert (
        api.get(
            "/two-counts/explain",
            params={"unit": "province:山东", "metric": "experts"},
            token=hebei_reader,
        ).status_code
        == 403
    )


def test_auditors_read_each_services_checkpoints_and_stored_log(api):
    """Issue 7: the log as stored (state encrypted) with the chain hash each event went out with,
    paged; the checkpoints in a form ``kjfp audit verify --checkpoints`` takes; auditors only."""
    form = expert_form()
    api.post("/experts", form)
    api.post("/households", household_form("371321000001"))
    auditor = api.token("auditor", "national")
    position = api.get("/two-counts", params={"unit": "national"}).json()["positions"]["registry"]
    deadline = time.monotonic() + 10
    while (
        not (
            checkpoints := api.get(
                "/audit/checkpoints", params={"service": "registry"}, token=auditor
            ).json()
        )["checkpoints"]
        or checkpoints["checkpoints"][-1]["position"] < position
    ):
        assert time.monotonic() < deadline, "the pump never published"
        time.sleep(0.1)

    first = api.get(
        "/audit/events", params={"service": "registry", "limit": 2}, token=auditor
    ).json()
    rest = api.get(
        "/audit/events",
        params={"service": "registry", "after": first["next_cursor"]},
        token=auditor,
    ).json()
    events = first["items"] + rest["items"]
    assert [e["position"] for e in events] == list(range(1, position + 1)) and rest[
        "next_cursor"
    ] is None
    expected = GENESIS
    for event in events:
        stored = Notification(
            id=event["position"],
            originator_id=UUID(event["originator_id"]),
            originator_version=event["version"],
            topic=event["topic"],
            state=base64.b64decode(event["state"]),
        )
        expected = link(expected, stored)
        assert event["chain_hash"] == expected
    assert checkpoints["checkpoints"][-1]["hash"] == events[-1]["chain_hash"]
    assert form["name"] not in str(events) and form["id_number"] not in str(events)

    assert api.get("/audit/events", params={"service": "registry"}).status_code == 403
    unknown = api.get("/audit/checkpoints", params={"service": "ledger"}, token=auditor)
    assert unknown.status_code == 400 and "service" in unknown.json()["details"]
    too_many = api.get(
        "/audit/events", params={"service": "registry", "limit": 5000}, token=auditor
    )
    assert too_many.status_code == 400 and "limit" in too_many.json()["details"]
    assert {"/audit/checkpoints", "/audit/events"} <= set(api.get("/openapi.json").json()["paths"])
