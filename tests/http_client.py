"""A small requests-based API client and an embedded system to aim it at (nameko's web_session
fixture breaks on werkzeug 3). Only one embedded system may run in a process at a time: they
would share kombu's in-process broker and consume each other's RPC queues."""
import requests

from kernel import auth
from kjfp import runner
from tests.infrastructure import free_port, settings_for

API = "/api/v1"


class Client:
    def __init__(self, base, settings):
        self.base, self.settings = base, settings

    def token(self, role="national_office", scope="national"):
        return auth.mint(self.settings.token_secret, role, scope, "tester")

    def call(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not False:
            headers["Authorization"] = f"Bearer {token or self.token()}"
        return requests.request(method, self.base + API + path, headers=headers, timeout=30, **kwargs)

    def post(self, path, body, **kwargs):
        return self.call("POST", path, json=body, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)


def start_system(tmp_path):
    settings = settings_for(tmp_path, http_port=free_port())
    return runner.start(settings), Client(f"http://127.0.0.1:{settings.http_port}", settings)


def log_position(client):
    return client.get("/two-counts", params={"unit": "national"}).json()["positions"]["registry"]


def pairing_body(expert_id, codes):
    return {"expert_id": expert_id, "household_codes": codes, "village": "西岭村",
            "start": "2020-02-01", "end": "2020-12-31", "goals": "技术脱贫", "tasks": "入户指导",
            "mechanism": "专家+农户", "effective_date": "2020-02-01"}
