"""Erasure with the chain intact (issue 16), over HTTP on the embedded system: the national office
erases an expert and a household; their name, ID number, phone and account read ``erased``
everywhere (responses, explain lists, the auditor's replay), while the 两数, the dedup of ID
numbers, the chain and the proofs stay as they were. An expert paid a subsidy and nominated for an
award is erased in funding and awards too: the payment's account and the nomination's name, ID
number and phone read ``erased`` there, while the totals, the chains and the proofs stay."""

import json

import pytest
from click.testing import CliRunner

from kjfp import runner
from kjfp.cli import main
from kjfp.sample_data import id_number
from services.awards.rounds import round_2020
from services.registry.tests.forms import expert_form, household_form
from tests.auditing import embedded_parts, replay
from tests.http_client import Client, log_position, pairing_body
from tests.infrastructure import free_port, settings_for
from tests.test_awards_scenario import individual
from tests.test_funding_http import Actors, apply, load_shandong, pay, take_effect
from tests.test_projection_resilience import (
    until,
)  # the erasure reaches funding and awards over the bus

ACCOUNT = "6222020200112233445"
NAME, PHONE = "王建国", "13800000001"
COUNTS = {"unit": "province:山东", "as_of": "2020-12-31"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    settings = settings_for(tmp_path_factory.mktemp("erasure"), http_port=free_port())
    service_runner = runner.start(settings)
    api = Client(f"http://127.0.0.1:{settings.http_port}", settings.token_secret)
    expert = api.post("/experts", expert_form(bank_account=ACCOUNT)).json()
    for n in (1, 2):
        assert (
            api.post("/households", household_form(f"37132100000{n}", people=3)).status_code == 201
        )
    assert (
        api.post(
            "/pairings", pairing_body(expert["id"], ["371321000001", "371321000002"])
        ).status_code
        == 201
    )
    yield api, settings, expert["id"], service_runner
    service_runner.stop()


def audit(settings, *args):
    return CliRunner().invoke(
        main,
        ["audit", "--data-dir", str(settings.data_dir), *args],
        env={"CIPHER_KEY": settings.cipher_key},
    )


def test_only_the_national_office_erases_and_bad_requests_record_nothing(world):
    api, _, expert_id, _ = world
    before = log_position(api)
    province = api.token("provincial_office", "province:山东")
    refused = api.post(f"/experts/{expert_id}/erase", {"reason": "本人申请"}, token=province)
    assert refused.status_code == 403
    assert api.post(f"/experts/{expert_id}/erase", {}).json()["details"].keys() == {"reason"}
    assert api.post(f"/experts/{expert_id}/erase", {"reason": "x" * 1001}).status_code == 400
    assert (
        api.post("/experts/9f0c1d2e-0000-0000-0000-000000000000/erase", {"reason": "x"}).status_code
        == 404
    )
    assert api.post("/households/371321999999/erase", {"reason": "x"}).status_code == 404
    assert log_position(api) == before
    assert api.get(f"/experts/{expert_id}").json()["name"] == NAME


def test_an_erased_expert_reads_erased_and_every_figure_and_proof_stays(world):
    api, settings, expert_id, _ = world
    counts_before = api.get("/two-counts", params=COUNTS).json()
    assert audit(settings, "verify", "registry").exit_code == 0

    erased = api.post(
        f"/experts/{expert_id}/erase",
        {"reason": "本人申请删除个人信息"},
        headers={"Idempotency-Key": "erase-1"},
    )
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert {body[k] for k in ("name", "id_number", "phone", "bank_account")} == {"erased"}
    assert body["erased"] is True and body["unit"] == "province:山东"
    for clear in (NAME, PHONE, ACCOUNT, expert_form()["id_number"]):
        assert clear not in erased.text
    assert api.get(f"/experts/{expert_id}").json()["name"] == "erased"

    # Erasing again: 409; the same request again (same Idempotency-Key): its first answer.
    assert api.post(f"/experts/{expert_id}/erase", {"reason": "again"}).status_code == 409
    repeated = api.post(
        f"/experts/{expert_id}/erase",
        {"reason": "本人申请删除个人信息"},
        headers={"Idempotency-Key": "erase-1"},
    )
    assert repeated.status_code == 200 and repeated.json()["id"] == expert_id

    counts_after = api.get("/two-counts", params=COUNTS).json()
    figures = [
        k for k in counts_before if k not in ("positions", "checkpoints", "checkpoint", "stale")
    ]
    assert {k: counts_after[k] for k in figures} == {k: counts_before[k] for k in figures}
    listed = api.get("/two-counts/explain", params={**COUNTS, "metric": "experts"}).json()
    assert [(r["name"], r["id_number"]) for r in listed["records"]] == [("erased", "erased")]

    # The dedup hash stays: the same ID number is still a duplicate.
    again = api.post("/experts", expert_form(name="李四", phone="13900000000"))
    assert again.status_code == 409 and "id_number" in again.json()["details"]

    # The chain and the proofs still verify, and the auditor's replay reads erased too.
    verified = audit(settings, "verify", "registry")
    assert verified.exit_code == 0, verified.output
    explained = audit(
        settings,
        "explain",
        "--unit",
        "province:山东",
        "--metric",
        "experts",
        "--as-of",
        "2020-12-31",
    )
    assert explained.exit_code == 0, explained.output
    assert NAME not in explained.output and PHONE not in explained.output
    assert [r["name"] for r in json.loads(explained.output)["records"]] == ["erased"]


def test_an_erased_household_reads_erased_in_explain_lists(world):
    api, settings, _, _ = world
    erased = api.post("/households/371321000001/erase", {"reason": "户主申请"})
    assert erased.status_code == 200, erased.text
    assert (erased.json()["head_name"], erased.json()["head_id_number"]) == ("erased", "erased")
    assert erased.json()["people"] == 3
    assert api.get("/households/371321000001/erase").status_code in (404, 405)
    listed = api.get("/two-counts/explain", params={**COUNTS, "metric": "households_paired"}).json()
    heads = {r["code"]: (r["head_name"], r["head_id_number"]) for r in listed["records"]}
    assert heads["371321000001"] == ("erased", "erased")
    assert heads["371321000002"][0] == "张三"
    assert (
        api.post(
            "/households/371321000001/corrections",
            {"changes": {"head_name": "李四"}, "reason": "更正"},
        ).status_code
        == 422
    )
    exported = audit(settings, "verify", "registry")
    assert exported.exit_code == 0, exported.output


PAID = {"name": "李建华", "phone": "13800000077", "account": "6222020200177889900"}
PAID_ID = id_number("371321", "19700101", "077")


def test_an_expert_paid_and_nominated_reads_erased_in_funding_and_awards_too(world):
    api, settings, _, service_runner = world
    expert_id = api.post(
        "/experts",
        expert_form(
            name=PAID["name"],
            id_number=PAID_ID,
            phone=PAID["phone"],
            bank_account=PAID["account"],
            effective_date="2016-01-10",
        ),
    ).json()["id"]
    actors = Actors(api)
    programme_id = load_shandong(api, actors)
    applied = apply(
        api,
        actors,
        programme_id,
        "county:山东/临沂/沂南",
        {"type": "individual", "expert_id": expert_id},
    )
    project = take_effect(api, actors, applied.json())
    paid = pay(api, actors, project["id"], PAID["account"])
    assert paid.status_code == 201, paid.text
    round_id = api.post("/award-rounds", round_2020()).json()["id"]
    commendation = {"year": 2018, "category": "individual", "unit": "province:山东"}
    assert api.post("/commendations", {**commendation, "expert_id": expert_id}).status_code == 201
    endorsed = api.post(
        f"/award-rounds/{round_id}/endorsements",
        {"expert_id": expert_id, "justification": "事迹特别突出"},
    )
    assert endorsed.status_code == 201, endorsed.text
    nominated = api.post(
        f"/award-rounds/{round_id}/nominations",
        {**individual(expert_id, id_number=PAID_ID), "unit": "province:山东"},
        token=api.token("provincial_office", "province:山东"),
    )
    assert nominated.status_code == 201, nominated.text
    nomination = nominated.json()
    assert (nomination["name"], nomination["contact"]) == (PAID["name"], PAID["phone"])
    summary_before = api.get("/funding/summary", params={"unit": "province:山东"}).json()
    disbursement_position = api.get(f"/projects/{project['id']}").json()["disbursements"][0][
        "position"
    ]
    auditor = api.token("auditor")
    proof_before = api.get(
        "/audit/proofs/inclusion",
        params={"service": "funding", "position": disbursement_position},
        token=auditor,
    ).json()

    assert api.post(f"/experts/{expert_id}/erase", {"reason": "本人申请"}).status_code == 200

    def payment():
        found = api.get(f"/projects/{project['id']}").json()["disbursements"][0]
        return found if found["account"] == "erased" else None

    until(payment)
    form = until(
        lambda: (n := api.get(f"/nominations/{nomination['id']}").json())["name"] == "erased" and n
    )
    assert (form["id_number"], form["contact"], form["expert_id"]) == (
        "erased",
        "erased",
        expert_id,
    )
    listed = api.get(f"/award-rounds/{round_id}/nominations", params={"as_of": "2020-07-01"}).json()
    assert [(n["name"], n["id_number"]) for n in listed["items"]] == [("erased", "erased")]
    commended = api.get("/commendations", params={"year": 2018}).json()
    assert [c["name"] for c in commended["items"]] == ["erased"]
    for clear in (PAID["name"], PAID["phone"], PAID["account"], PAID_ID):
        assert clear not in json.dumps(listed, ensure_ascii=False)

    # The figures, the chains and the proofs are as they were.
    summary_after = api.get("/funding/summary", params={"unit": "province:山东"}).json()
    figures = [k for k in summary_before if k not in ("positions", "checkpoints", "stale")]
    assert {k: summary_after[k] for k in figures} == {k: summary_before[k] for k in figures}
    proof_after = api.get(
        "/audit/proofs/inclusion",
        params={
            "service": "funding",
            "position": disbursement_position,
            "tree_size": proof_before["tree_size"],
        },
        token=auditor,
    ).json()
    assert proof_after["leaf_hash"] == proof_before["leaf_hash"]
    assert proof_after["proof"] == proof_before["proof"]
    for service in ("funding", "awards"):
        verified = audit(settings, "verify", service)
        assert verified.exit_code == 0, verified.output
    # The auditor's replay of the logs reads erased as the live views do.
    replayed = replay(*embedded_parts(service_runner), ["funding", "awards"])
    assert all(not c.differences for c in replayed.values()), [c.lines() for c in replayed.values()]
