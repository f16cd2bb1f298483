"""Issue 13 item 9: an Idempotency-Key on every write, its fingerprint over what the client sent.

On the embedded system (gateway and registry in this process, kombu memory://, SQLite event store,
the in-process view store): a retried write with the same key records nothing (the registry's log
position stays put) and answers the first result; the same key with another body is 409 naming
``Idempotency-Key``; the same body sent again after midnight — so that the server's defaulted
``effective_date`` differs — still answers the first result."""

import datetime

import pytest

from gateway import fields as gateway_fields
from services.registry.tests.forms import expert_form, household_form
from tests.http_client import log_position, start_system

ASSOCIATION = {
    "name": "沂南县苹果协会",
    "credit_code": "91110000600037341L",
    "kind": "association",
    "level": "county",
    "unit": "province:山东",
    "location": {"province": "山东", "city": "临沂", "county": "沂南"},
    "supported_by": "沂南县科协",
}


@pytest.fixture
def api(tmp_path):
    service_runner, client = start_system(tmp_path)
    yield client
    service_runner.stop()


@pytest.fixture
def records(api):
    expert = api.post("/experts", expert_form()).json()
    assert api.post("/households", household_form("371321000001")).status_code == 201
    assert api.post("/associations", ASSOCIATION).status_code == 201
    return {
        "expert": expert["id"],
        "household": "371321000001",
        "association": ASSOCIATION["credit_code"],
    }


def writes(records):
    """(method, path, body, another body) of each write that ignored its key before issue 13."""
    expert, household, association = records["expert"], records["household"], records["association"]
    return [
        (
            "POST",
            f"/experts/{expert}/corrections",
            {"changes": {"title": "教授"}, "reason": "职称晋升"},
            {"changes": {"title": "副教授"}, "reason": "职称晋升"},
        ),
        (
            "POST",
            f"/households/{household}/corrections",
            {"changes": {"people": 5}, "reason": "新生儿"},
            {"changes": {"people": 6}, "reason": "新生儿"},
        ),
        (
            "POST",
            f"/associations/{association}/corrections",
            {"changes": {"level": "township"}, "reason": "改组"},
            {"changes": {"level": "village"}, "reason": "改组"},
        ),
        (
            "PUT",
            "/targets/province:山东",
            {"year": 2020, "households_paired": 100},
            {"year": 2020, "households_paired": 200},
        ),
        ("POST", f"/experts/{expert}/revoke", {"reason": "调离"}, {"reason": "退休"}),
        ("POST", f"/households/{household}/revoke", {"reason": "迁出"}, {"reason": "合户"}),
        ("POST", f"/associations/{association}/revoke", {"reason": "注销"}, {"reason": "合并"}),
    ]


class AfterMidnight(datetime.date):
    """The gateway's clock one day on: a defaulted effective_date differs from the first request's."""

    @classmethod
    def today(cls):
        return datetime.date.today() + datetime.timedelta(days=1)


def test_every_registry_write_retried_with_its_key_records_nothing_and_answers_the_first_result(
    api, records
):
    """Issue 13 item 9: corrections, revocations and targets honour Idempotency-Key (a revocation
    retried without one would be refused as already revoked)."""
    for number, (method, path, body, _) in enumerate(writes(records)):
        key = {"Idempotency-Key": f"write-{number}"}
        first = api.call(method, path, json=body, headers=dict(key))
        assert first.status_code == 200, (path, first.text)
        position = log_position(api)

        again = api.call(method, path, json=body, headers=dict(key))

        assert (again.status_code, again.json()) == (200, first.json()), path
        assert log_position(api) == position, path


def test_the_same_key_with_another_body_is_409_naming_the_header_and_records_nothing(api, records):
    """Issue 13 item 9: a key reused for a different request is refused, whichever write it is."""
    for number, (method, path, body, other) in enumerate(writes(records)):
        key = {"Idempotency-Key": f"reuse-{number}"}
        assert api.call(method, path, json=body, headers=dict(key)).status_code == 200, path
        position = log_position(api)

        reused = api.call(method, path, json=other, headers=dict(key))

        assert reused.status_code == 409, (path, reused.text)
        assert "Idempotency-Key" in reused.json()["details"]
        assert log_position(api) == position


def test_a_retry_after_midnight_without_effective_date_answers_the_first_result(
    api, records, monkeypatch
):
    """Issue 13 item 9: the fingerprint covers the body as the client sent it, not the loaded form
    with the server-defaulted effective_date (which changes at midnight)."""
    body = {k: v for k, v in household_form("371321000002").items() if k != "effective_date"}
    first = api.post("/households", body, headers={"Idempotency-Key": "night-1"})
    assert first.status_code == 201, first.text
    correction = {"changes": {"people": 3}, "reason": "分户"}
    path = f"/households/{records['household']}/corrections"
    corrected = api.post(path, correction, headers={"Idempotency-Key": "night-2"})
    assert corrected.status_code == 200, corrected.text
    position = log_position(api)
    monkeypatch.setattr(
        gateway_fields, "date", AfterMidnight
    )  # the clock of every body's effective_date

    again = api.post("/households", body, headers={"Idempotency-Key": "night-1"})
    corrected_again = api.post(path, correction, headers={"Idempotency-Key": "night-2"})

    assert (again.status_code, again.json()) == (201, first.json())
    assert (corrected_again.status_code, corrected_again.json()) == (200, corrected.json())
    assert log_position(api) == position
    # the clock did move: the same body under a new key is registered as of the next day
    later = api.post(
        "/households", {**body, "code": "371321000003"}, headers={"Idempotency-Key": "night-3"}
    )
    assert (
        later.json()["registered_on"]
        == AfterMidnight.today().isoformat()
        != first.json()["registered_on"]
    )
