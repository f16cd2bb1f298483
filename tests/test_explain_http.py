"""Issue 14: GET /two-counts/explain pages (limit, cursor, total = the figure) and streams every
record behind a figure as CSV (format=csv). On the embedded system (in-process memory://
transport, SQLite event store, the embedded view store)."""

import csv
import io

import pytest

from services.registry.tests.forms import expert_form, household_form
from tests.http_client import pairing_body, start_system

CODES = [f"3713210000{n:02d}" for n in range(1, 8)]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One expert paired with seven households of 1..7 people."""
    service_runner, client = start_system(tmp_path_factory.mktemp("explain"))
    expert = client.post("/experts", expert_form(effective_date="2020-01-06")).json()
    for n, code in enumerate(CODES, start=1):
        assert client.post("/households", household_form(code, people=n)).status_code == 201
    assert client.post("/pairings", pairing_body(expert["id"], CODES)).status_code == 201
    yield client
    service_runner.stop()


def test_explain_pages_through_every_record_once(api):
    """Issue 14: pages of ``limit`` records in code order; next_cursor leads to the next page
    and is null on the last; every page's total is the figure."""
    query = {
        "unit": "county:山东/临沂/沂南",
        "metric": "people_in_paired_households",
        "as_of": "2020-12-31",
        "limit": 3,
    }
    seen, cursor = [], None
    for _ in range(10):
        page = api.get(
            "/two-counts/explain", params={**query, **({"cursor": cursor} if cursor else {})}
        ).json()
        assert page["total"] == sum(range(1, 8)) and len(page["records"]) <= 3
        seen += [r["code"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == CODES


def test_explain_streams_every_record_as_csv(api, monkeypatch):
    """Issue 14: format=csv gives a header and one line per record, masked, with the figure in
    a header; the gateway asks the registry for a page at a time (pages of 2 here, in process)."""
    monkeypatch.setattr("gateway.registry_routes.MAX_PAGE", 2)
    response = api.get(
        "/two-counts/explain",
        params={
            "unit": "province:山东",
            "metric": "households_paired",
            "as_of": "2020-12-31",
            "format": "csv",
        },
        stream=True,
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["X-Figure"] == "7"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["code"] for r in rows] == CODES
    assert [int(r["people"]) for r in rows] == list(range(1, 8))
    assert all("*" in r["head_id_number"] for r in rows) and rows[0]["county"] == "沂南"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_paging_is_a_400_naming_the_field(api, params, field):
    response = api.get(
        "/two-counts/explain", params={"unit": "national", "metric": "experts", **params}
    )
    assert response.status_code == 400 and field in response.json()["details"]
