"""Bulk import of household base data over HTTP (JSON array and CSV), on the embedded system
(in-process memory:// transport, SQLite event store, the embedded view store)."""

import csv
import io

import pytest

from kjfp.sample_data import id_number
from tests.http_client import log_position, start_system

YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}


@pytest.fixture
def api(tmp_path):
    service_runner, client = start_system(tmp_path)
    yield client
    service_runner.stop()


def row(n, **overrides):
    return {
        "code": f"3713210{n:05d}",
        "head_name": f"户主{n}",
        "head_id_number": id_number("371321", "19980101", f"{n % 1000:03d}"),
        "people": 1 + n % 5,
        "location": YINAN,
        "effective_date": "2020-01-01",
        **overrides,
    }


def wrong_check_digit(number):
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def mixed_rows():
    rows = [row(n) for n in range(1, 9)]
    rows += [
        row(3),  # repeated in the file
        row(20, people=0),  # bad people
        row(21, head_id_number=wrong_check_digit(row(21)["head_id_number"])),
        row(22, location={"province": "山东"}),  # no county
        {k: v for k, v in row(23).items() if k != "head_name"},  # missing field
        "not an object",
    ]
    return rows


def test_mixed_rows_give_the_right_counts_and_a_reason_for_every_rejection(api):
    assert api.post("/households", row(8)).status_code == 201  # registered before the import

    result = api.post("/households/import", mixed_rows()).json()

    assert (result["created"], result["duplicate"], result["rejected"]) == (7, 2, 5)
    assert {(d["row"], d["code"]) for d in result["duplicates"]} == {
        (8, row(8)["code"]),
        (9, row(3)["code"]),
    }
    reasons = {r["row"]: r["reasons"] for r in result["rejections"]}
    assert set(reasons) == {10, 11, 12, 13, 14}
    assert "people" in reasons[10] and "head_id_number" in reasons[11]
    assert "location" in reasons[12] and "head_name" in reasons[13] and "_row" in reasons[14]


def test_re_running_the_same_file_creates_nothing_new(api):
    first = api.post("/households/import", mixed_rows()).json()
    position = log_position(api)

    again = api.post("/households/import", mixed_rows()).json()

    assert first["created"] == 8
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 9, 5)
    assert log_position(api) == position


def test_a_csv_upload_imports_like_json(api):
    out = io.StringIO()
    columns = [
        "code",
        "head_name",
        "head_id_number",
        "people",
        "province",
        "city",
        "county",
        "township",
        "village",
    ]
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    for n in range(1, 6):
        r = row(n)
        writer.writerow(
            {
                **{k: r[k] for k in columns[:4]},
                **r["location"],
                "township": "依汶镇",
                "village": "西岭村",
            }
        )
    writer.writerow(
        {
            "code": "bad code!",
            "head_name": "x",
            "head_id_number": "1",
            "people": "two",
            "province": "山东",
        }
    )

    as_file = api.call(
        "POST",
        "/households/import",
        files={"file": ("base.csv", out.getvalue().encode("utf-8-sig"))},
    )
    as_body = api.call(
        "POST",
        "/households/import",
        data=out.getvalue().encode(),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )

    assert (as_file.json()["created"], as_file.json()["rejected"]) == (5, 1)
    assert set(as_file.json()["rejections"][0]["reasons"]) >= {"code", "head_id_number", "people"}
    assert (as_body.json()["created"], as_body.json()["duplicate"]) == (0, 5)
    missing = api.call(
        "POST",
        "/households/import",
        data=b"code,people\n1,2\n",
        headers={"Content-Type": "text/csv"},
    )
    assert missing.status_code == 400 and "_body" in missing.json()["details"]


def test_rows_outside_the_importers_jurisdiction_are_rejected_not_recorded(api):
    lanshan = api.token("county_association", "county:山东/临沂/兰山")
    result = api.post(
        "/households/import", [row(1), row(2, location={**YINAN, "county": "兰山"})], token=lanshan
    ).json()
    assert (result["created"], result["rejected"]) == (1, 1)
    assert result["rejections"][0]["reasons"] == {"location": ["outside your jurisdiction"]}
