"""Refusals at the gateway (400 naming the field, 401) and the OpenAPI document, on one embedded
system shared by the module (in-process memory:// transport, SQLite, the embedded view store): every test
here records nothing, and checks that it did not."""

import pytest
import requests

from kernel import auth
from services.registry.tests.forms import expert_form, household_form
from tests.http_client import log_position, pairing_body, start_system


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory):
    service_runner, client = start_system(tmp_path_factory.mktemp("shared"))
    yield client
    service_runner.stop()


@pytest.mark.parametrize(
    "body, field",
    [
        ({**expert_form(), "gender": "x"}, "gender"),
        ({k: v for k, v in expert_form().items() if k != "name"}, "name"),
        ({**expert_form(), "id_number": "371321199603120112"}, "id_number"),  # wrong check digit
        ({**expert_form(), "id_number": "12345"}, "id_number"),
        ({**expert_form(), "unit": "山东"}, "unit"),
        ({**expert_form(), "location": {"city": "临沂"}}, "location.province"),
        ({**expert_form(), "effective_date": "2999-01-01"}, "effective_date"),
        ({**expert_form(), "effective_date": "2020-13-01"}, "effective_date"),
        ({**expert_form(), "email": "not-an-email"}, "email"),
        ({**expert_form(), "salary": 1}, "salary"),
    ],
)
def test_bad_expert_input_is_a_400_naming_the_field_and_records_nothing(shared_api, body, field):
    before = log_position(shared_api)
    response = shared_api.post("/experts", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert field in response.json()["details"]
    assert log_position(shared_api) == before


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/households", {**household_form("371321000001"), "people": "4"}, "people"),
        ("/households", {**household_form("371321000001"), "people": 0}, "people"),
        (
            "/households",
            {**household_form("371321000001"), "location": {"province": "山东"}},
            "location",
        ),
        (
            "/households",
            {**household_form("371321000001"), "head_id_number": "37132119980101000X"},
            "head_id_number",
        ),
        ("/pairings", {**pairing_body("x", ["371321000001"]), "end": "2019-01-01"}, "end"),
        ("/pairings", {**pairing_body("x", ["371321000001", "371321000001"])}, "household_codes"),
        ("/pairings", {**pairing_body("x", [])}, "household_codes"),
    ],
)
def test_bad_household_and_pairing_input_is_a_400_naming_the_field(shared_api, path, body, field):
    before = log_position(shared_api)
    response = shared_api.post(path, body)
    assert response.status_code == 400, response.text
    assert field in response.json()["details"]
    assert log_position(shared_api) == before


def test_bad_json_and_bad_queries_are_400s(shared_api):
    api = shared_api
    for raw in ("{not json", "[1, 2]", ""):
        response = api.call(
            "POST", "/experts", data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400 and "_body" in response.json()["details"], raw
    assert "unit" in api.get("/two-counts").json()["details"]
    assert api.get("/two-counts", params={"unit": "planet:mars"}).status_code == 400
    assert (
        "as_of"
        in api.get("/two-counts", params={"unit": "national", "as_of": "yesterday"}).json()[
            "details"
        ]
    )


def test_missing_or_invalid_tokens_are_401(shared_api):
    api = shared_api
    assert api.get("/two-counts", token=False, params={"unit": "national"}).status_code == 401
    assert api.post("/experts", expert_form(), token="not.a.token").status_code == 401
    expired = auth.mint(api.token_secret, "national_office", "national", ttl_seconds=-10)
    response = api.post("/experts", expert_form(), token=expired)
    assert response.status_code == 401 and response.json()["error"] == "UNAUTHORIZED"
    forged = auth.mint("another-secret-that-is-32-bytes-long!", "national_office", "national")
    assert api.post("/experts", expert_form(), token=forged).status_code == 401


def test_openapi_describes_the_paths_and_health_answers(shared_api):
    api = shared_api
    spec = api.get("/openapi.json", token=False).json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/experts",
        "/households",
        "/households/import",
        "/pairings",
        "/associations",
        "/service-logs",
        "/households/{code}/lifted-out",
        "/targets/{unit}",
        "/two-counts",
        "/two-counts/explain",
    } <= set(spec["paths"])
    assert set(spec["paths"]["/experts"]) == {"post", "get"}
    body = spec["paths"]["/experts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Expert"}
    assert "id_number" in spec["components"]["schemas"]["Expert"]["required"]
    assert requests.get(api.base + "/health", timeout=5).json() == {"status": "ok"}
    assert requests.get(api.base + "/ready", timeout=5).json()["ready"] is True


def test_unknown_paths_and_malformed_token_scopes_answer_in_the_error_contract(shared_api):
    missing = shared_api.get("/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND"
    import time

    import jwt

    odd = jwt.encode(
        {"sub": "x", "role": "national_office", "scope": "galaxy", "exp": int(time.time()) + 60},
        shared_api.token_secret,
        algorithm="HS256",
    )
    response = shared_api.get("/two-counts", params={"unit": "national"}, token=odd)
    assert response.status_code == 401 and response.json()["error"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    "schema, correctable",
    [
        ("ExpertChanges", "EXPERT_CORRECTABLE"),
        ("HouseholdChanges", "HOUSEHOLD_CORRECTABLE"),
        ("AssociationChanges", "ASSOCIATION_CORRECTABLE"),
    ],
)
def test_a_correction_schema_takes_exactly_the_fields_the_registry_lets_a_correction_change(
    schema, correctable
):
    """Issue 15: the registry's contract names what a correction may change; the gateway's schema
    declares how each is checked, and the two cannot drift apart."""
    from gateway import registry_schemas as schemas
    from services.registry import contract

    assert set(getattr(schemas, schema)().fields) == set(getattr(contract, correctable))
