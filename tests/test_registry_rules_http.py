"""Every registry rule violation over HTTP is a 422 with a reason, and records nothing.
On the embedded system (in-process memory:// transport, SQLite, the embedded view store)."""

import pytest

from kjfp.sample_data import id_number
from services.registry.tests.forms import expert_form, household_form
from tests.http_client import log_position, pairing_body, start_system


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """An expert paired with one household (2020); a second household unpaired; a third revoked."""
    service_runner, api = start_system(tmp_path_factory.mktemp("rules"))
    expert = api.post("/experts", expert_form(effective_date="2020-01-06")).json()
    for n in (1, 2, 3):
        assert (
            api.post("/households", household_form(f"37132100000{n}", people=3)).status_code == 201
        )
    assert (
        api.post(
            "/households/371321000003/revoke",
            {"reason": "重复建档", "effective_date": "2020-01-20"},
        ).status_code
        == 200
    )
    assert (
        api.post(
            "/pairings",
            {
                **pairing_body(expert["id"], ["371321000001"]),
                "start": "2020-02-01",
                "end": "2020-12-31",
            },
        ).status_code
        == 201
    )
    yield api, expert["id"]
    service_runner.stop()


def log(expert_id, **overrides):
    return {
        "expert_id": expert_id,
        "date": "2020-03-01",
        "place": "西岭村",
        "form": "田间指导",
        "content": "苹果树修剪",
        "participants": 12,
        "hours": 4,
        "effective_date": "2020-03-01",
        **overrides,
    }


CASES = [
    (
        "pairing an unregistered household",
        "/pairings",
        lambda e: pairing_body(e, ["371321999999"]),
        "household_codes",
    ),
    (
        "pairing a revoked household",
        "/pairings",
        lambda e: pairing_body(e, ["371321000003"]),
        "household_codes",
    ),
    (
        "a pairing by an unknown expert",
        "/pairings",
        lambda e: pairing_body("9f0c1d2e-0000-0000-0000-000000000000", ["371321000002"]),
        "expert_id",
    ),
    (
        "a service log for an unknown expert",
        "/service-logs",
        lambda e: log("9f0c1d2e-0000-0000-0000-000000000000"),
        "expert_id",
    ),
    (
        "a service log outside the agreement's span",
        "/service-logs",
        lambda e: log(e, date="2020-01-10"),
        "date",
    ),
    (
        "lifted out but never paired",
        "/households/371321000002/lifted-out",
        lambda e: {"date": "2020-06-01", "people": 2, "effective_date": "2020-06-01"},
        "date",
    ),
    (
        "lifted out before the pairing",
        "/households/371321000001/lifted-out",
        lambda e: {"date": "2020-01-15", "people": 2, "effective_date": "2020-06-01"},
        "date",
    ),
    (
        "more people lifted than the household has",
        "/households/371321000001/lifted-out",
        lambda e: {"date": "2020-06-01", "people": 4, "effective_date": "2020-06-01"},
        "people",
    ),
    (
        "lifting out a revoked household",
        "/households/371321000003/lifted-out",
        lambda e: {"date": "2020-06-01", "people": 1, "effective_date": "2020-06-01"},
        "code",
    ),
    (
        "revoking before the registration",
        "/households/371321000002/revoke",
        lambda e: {"reason": "x", "effective_date": "2018-01-01"},
        "effective_date",
    ),
]


@pytest.mark.parametrize("what, path, body, field", CASES, ids=[c[0] for c in CASES])
def test_a_rule_violation_is_a_422_with_a_reason_and_records_nothing(
    world, what, path, body, field
):
    api, expert_id = world
    before = log_position(api)
    response = api.post(path, body(expert_id))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "RULE_VIOLATION" and response.json()["message"]
    assert field in response.json()["details"]
    assert log_position(api) == before


def test_the_lawful_versions_are_accepted(world):
    api, expert_id = world
    assert api.post("/service-logs", log(expert_id)).status_code == 201
    lifted = api.post(
        "/households/371321000001/lifted-out",
        {"date": "2020-06-01", "people": 3, "effective_date": "2020-06-01"},
    )
    assert lifted.status_code == 201 and lifted.json()["lifted_on"] == "2020-06-01"
    again = api.post("/households/371321000001/lifted-out", {"date": "2020-07-01", "people": 3})
    assert again.status_code == 409
    counts = api.get("/two-counts", params={"unit": "province:山东", "as_of": "2020-12-31"}).json()
    assert (counts["households_lifted"], counts["people_lifted"]) == (1, 3)


def test_associations_are_registered_once_per_valid_credit_code(world):
    api, _ = world
    body = {
        "name": "沂南县苹果协会",
        "credit_code": "91110000600037341L",
        "kind": "association",
        "level": "county",
        "unit": "province:山东",
        "location": {"province": "山东", "city": "临沂", "county": "沂南"},
        "supported_by": "沂南县科协",
        "effective_date": "2020-01-01",
    }
    assert api.post("/associations", body).status_code == 201
    assert api.post("/associations", body).status_code == 409
    wrong = api.post("/associations", {**body, "credit_code": "91110000600037341X"})
    assert wrong.status_code == 400 and "credit_code" in wrong.json()["details"]
    hebei = api.token("provincial_office", "province:河北")
    assert (
        api.post(
            "/associations", {**body, "credit_code": "91110000600037342P"}, token=hebei
        ).status_code
        == 403
    )


def test_targets_are_set_by_the_office_above_and_read_back_with_completion(world):
    api, _ = world
    shandong = api.token("provincial_office", "province:山东")
    assert (
        api.call(
            "PUT", "/targets/province:山东", json={"year": 2020, "experts": 2}, token=shandong
        ).status_code
        == 403
    )
    assert (
        api.call("PUT", "/targets/province:山东", json={"year": 2020, "experts": 2}).status_code
        == 200
    )
    assert (
        api.call(
            "PUT", "/targets/city:山东/临沂", json={"year": 2020, "experts": 1}, token=shandong
        ).status_code
        == 200
    )
    assert (
        api.call("PUT", "/targets/planet:x", json={"year": 2020, "experts": 1}).status_code == 400
    )
    counts = api.get("/two-counts", params={"unit": "province:山东", "as_of": "2020-12-31"}).json()
    assert counts["targets"]["experts"] == 2 and counts["completion"]["experts"] == 0.5


def test_explain_over_http_names_the_records(world):
    api, _ = world
    explained = api.get(
        "/two-counts/explain",
        params={"unit": "province:山东", "metric": "experts", "as_of": "2020-12-31"},
    ).json()
    assert explained["figure"] == len(explained["records"]) == 1
    assert (
        explained["records"][0]["id_number"]
        == expert_form()["id_number"][:4] + "*" * 10 + expert_form()["id_number"][-4:]
    )
    assert (
        api.get("/two-counts/explain", params={"unit": "national", "metric": "bananas"}).status_code
        == 400
    )


def test_corrections_change_only_what_may_be_corrected(world):
    api, expert_id = world
    fixed = api.post(
        f"/experts/{expert_id}/corrections",
        {"changes": {"phone": "13911112222"}, "reason": "号码有误"},
    )
    assert fixed.status_code == 200 and fixed.json()["phone"] == "13911112222"
    refused = api.post(
        f"/experts/{expert_id}/corrections", {"changes": {"id_number": id_number()}, "reason": "x"}
    )
    assert refused.status_code == 400 and "changes.id_number" in refused.json()["details"]
