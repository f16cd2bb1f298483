"""A small requests-based API client and an embedded system to aim it at (nameko's web_session
fixture breaks on werkzeug 3). Only one embedded system may run in a process at a time: they
would share kombu's in-process broker and consume each other's RPC queues."""

import requests

from kernel import auth
from kjfp import runner
from services.registry.tests.forms import expert_form, household_form
from tests.infrastructure import free_port, settings_for

API = "/api/v1"


class Client:
    def __init__(self, base, token_secret):
        self.base, self.token_secret = base, token_secret

    def token(self, role="national_office", scope="national", subject="tester"):
        return auth.mint(self.token_secret, role, scope, subject)

    def call(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not False:
            headers["Authorization"] = f"Bearer {token or self.token()}"
        return requests.request(
            method, self.base + API + path, headers=headers, timeout=30, **kwargs
        )

    def post(self, path, body, **kwargs):
        return self.call("POST", path, json=body, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)


def start_system(tmp_path):
    settings = settings_for(tmp_path, http_port=free_port())
    return runner.start(settings), Client(
        f"http://127.0.0.1:{settings.http_port}", settings.token_secret
    )


def log_position(client):
    return client.get("/two-counts", params={"unit": "national"}).json()["positions"]["registry"]


def pairing_body(expert_id, codes):
    return {
        "expert_id": expert_id,
        "household_codes": codes,
        "village": "西岭村",
        "start": "2020-02-01",
        "end": "2020-12-31",
        "goals": "技术脱贫",
        "tasks": "入户指导",
        "mechanism": "专家+农户",
        "effective_date": "2020-02-01",
    }


def acceptance_scenario(api):
    """Issue 2's acceptance: 3 experts (one a duplicate ID → 409), 5 households, a pairing naming
    an unregistered code (clear 4xx, nothing recorded), then 4 paired → the 两数."""
    # 3 experts, one a duplicate ID → 409
    first = api.post("/experts", expert_form())
    assert first.status_code == 201, first.text
    second = api.post(
        "/experts",
        expert_form(
            name="李秀英", gender="female", id_number="370102199002140086", phone="13800000002"
        ),
    )
    assert second.status_code == 201
    duplicate = api.post("/experts", expert_form(name="王建國"))
    assert duplicate.status_code == 409
    assert duplicate.json()["error"] == "CONFLICT" and "id_number" in duplicate.json()["details"]
    # 5 households
    people = {f"37132100000{n}": n + 1 for n in range(1, 6)}
    for code, n in people.items():
        assert api.post("/households", household_form(code, people=n)).status_code == 201
    # pairing with one unregistered code: clear 4xx, nothing recorded
    codes = list(people)[:4]
    before = api.get("/two-counts", params={"unit": "province:山东"}).json()
    refused = api.post("/pairings", pairing_body(first.json()["id"], codes[:3] + ["371321999999"]))
    assert refused.status_code == 422
    assert refused.json()["details"] == {"household_codes": ["371321999999: not registered"]}
    after_refusal = api.get("/two-counts", params={"unit": "province:山东"}).json()
    assert (
        after_refusal["positions"] == before["positions"]
        and after_refusal["households_paired"] == 0
    )
    # pairing 4 of them
    filed = api.post("/pairings", pairing_body(first.json()["id"], codes))
    assert filed.status_code == 201, filed.text

    counts = api.get("/two-counts", params={"unit": "province:山东"})

    assert counts.status_code == 200
    body = counts.json()
    assert (body["experts"], body["households_paired"]) == (2, 4)
    assert body["people_in_paired_households"] == sum(people[c] for c in codes)
    assert body["positions"]["registry"] > before["positions"]["registry"]
