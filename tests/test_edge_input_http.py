"""Issue 13's input at the edge, over HTTP against one embedded system shared by the module
(in-process memory:// transport, SQLite event stores, the embedded view store): bounded numbers,
whole-string patterns, strict encodings, CSV imports in the encodings Chinese offices use, the
error contract and security headers on every answer, and tokens whose claims have the wrong type."""

import csv
import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from kernel.config import DEV_CHECKPOINT_KEY, Settings
from kjfp import household_import
from kjfp.sample_data import id_number
from services.awards.rounds import round_2020
from services.registry.tests.forms import expert_form, household_form
from services.supervision.tests.forms import campaign_2020
from tests.http_client import log_position, start_system

COLUMNS = ["code", "head_name", "head_id_number", "people", "province", "city", "county"]
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    service_runner, client = start_system(tmp_path_factory.mktemp("edge"))
    yield client
    service_runner.stop()


def assert_contract(response, status, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "details"} and isinstance(body["details"], dict), body
    if field is not None:
        assert field in body["details"], body
    return body


def assert_refused_and_nothing_recorded(api, method, path, field, **kwargs):
    before = log_position(api)
    assert_contract(api.call(method, path, **kwargs), 400, field)
    assert log_position(api) == before


def csv_bytes(rows, encoding="utf-8", columns=COLUMNS):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def household_row(n, people="3", head_name="张三"):
    return [
        f"37132190{n:04d}",
        head_name,
        id_number("371321", "19980101", f"{n % 1000:03d}"),
        people,
        "山东",
        "临沂",
        "沂南",
    ]


def upload(api, data, content_type="text/csv"):
    return api.call("POST", "/households/import", files={"file": ("base.csv", data, content_type)})


# -- item 2 (the edge's part): numbers bounded by what the domain allows -------------------------


@pytest.mark.parametrize(
    "metric, value", [("households_paired", 2**63), ("people_lifted", 100_000_001), ("experts", -1)]
)
def test_item_2_a_target_beyond_the_nations_figures_is_a_400_naming_it(api, metric, value):
    """Issue 13 item 2: an oversized target (2^63 stalled every reader) is refused, naming the field."""
    assert_refused_and_nothing_recorded(
        api, "PUT", "/targets/city:山东/临沂", metric, json={"year": 2020, metric: value}
    )
    assert (
        api.call("PUT", "/targets/city:山东/临沂", json={"year": 2020, metric: 5}).status_code
        == 200
    )


def test_item_2_a_self_inspection_figure_of_2_to_the_63_is_a_400_naming_it(api):
    """Issue 13 item 2: a self-inspection figure ≥ 2^63 is refused at the edge."""
    campaign = api.post("/campaigns", campaign_2020(["province:山东"])).json()["id"]
    declared = dict.fromkeys(
        [
            "leading_group",
            "plan_issued",
            "regular_meetings",
            "tasks_and_targets_precise",
            "pairing_assessment_publicity",
            "fund_measures",
        ],
        True,
    )
    figures = {
        "federations": 1,
        "associations": 2,
        "experts": 3,
        "households": 2**63,
        "people": 5,
        "project_funds_wan": 1.5,
    }
    response = api.post(
        f"/campaigns/{campaign}/self-inspections",
        {
            "unit": "province:山东",
            "declared": declared,
            "figures": figures,
            "text": "自查报告",
            "effective_date": "2020-06-01",
        },
        token=api.token("provincial_office", "province:山东"),
    )
    reasons = assert_contract(response, 400, "figures.households")["details"]["figures.households"]
    assert "30,000,000" in reasons[0]


# -- item 6: encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"code": "371321000777", "head_name": "张三"}'.encode("gbk"),
        b'{"code": "371321000777", "head_name": "\xff\xfe"}',
    ],
)
def test_item_6_a_body_that_is_not_utf8_is_a_400_naming_the_body(api, raw):
    """Issue 13 item 6: a GBK or invalid-UTF-8 JSON body is refused, not recorded garbled."""
    assert_refused_and_nothing_recorded(
        api, "POST", "/households", "_body", data=raw, headers={"Content-Type": "application/json"}
    )


def test_item_6_control_characters_and_lone_surrogates_are_refused_naming_the_field(api):
    """Issue 13 item 6: text that cannot be recorded as Unicode text is refused, naming its field."""
    text = json.dumps(household_form("371321000778"), ensure_ascii=False)
    for raw in ('"张\\u0000三"', '"\\ud800"'):
        assert_refused_and_nothing_recorded(
            api,
            "POST",
            "/households",
            "head_name",
            data=text.replace('"张三"', raw).encode(),
            headers={"Content-Type": "application/json"},
        )


def test_item_6_a_query_that_is_not_utf8_or_names_a_parameter_twice_is_a_400(api):
    """Issue 13 item 6: werkzeug decodes a query with replacement characters; it is refused instead."""
    assert_contract(api.get("/experts?specialty=%B9%FB%CA%F7"), 400, "_query")  # 果树 in GBK
    assert_contract(api.get("/experts?limit=5&limit=500000"), 400, "limit")
    assert_contract(api.get("/experts?specialty=%00"), 400, "specialty")
    assert api.get("/experts?specialty=%E6%9E%9C%E6%A0%91").status_code == 200


@pytest.mark.parametrize(
    "encoding, content_type",
    [
        ("utf-8", "text/csv"),
        ("utf-8-sig", "text/csv"),
        ("gbk", "text/csv"),
        ("gb18030", "text/csv"),
        ("gbk", "text/csv; charset=GBK"),
        ("gb18030", "text/csv; charset=gb18030"),
    ],
)
def test_item_6_csv_in_utf8_with_or_without_bom_and_in_gbk_imports(api, encoding, content_type):
    """Issue 13 item 6: the encodings Chinese offices save CSV in, declared or detected per file."""
    base = {"utf-8": 0, "utf-8-sig": 10, "gbk": 20, "gb18030": 30}[encoding]
    base += 40 if "charset" in content_type else 0
    rows = [household_row(base + 1, head_name="张三"), household_row(base + 2, head_name="䶮䶮")]
    if encoding == "gbk":
        rows[1][1] = "李秀英"  # 䶮 is outside GBK

    result = upload(api, csv_bytes(rows, encoding), content_type).json()

    assert (result["created"], result["rejected"]) == (2, 0), result
    for row in rows:
        assert (
            api.post("/households", household_form(row[0])).status_code == 409
        )  # recorded under that code


def test_item_6_kjfp_import_households_reads_a_gbk_file_and_refuses_a_mixed_one(api, tmp_path):
    """Issue 13 item 6: the command-line import decodes a file as the server does."""
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(csv_bytes([household_row(401, head_name="李秀英"), household_row(402)], "gbk"))
    assert household_import.run(str(gbk), api.base, api.token(), chunk=1)["created"] == 2
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        csv_bytes([household_row(403)]) + ",".join(household_row(404)).encode("gbk") + b"\n"
    )
    with pytest.raises(SystemExit, match="mixes encodings"):
        household_import.run(str(mixed), api.base, api.token())


def test_item_6_a_csv_mixing_encodings_or_naming_a_column_twice_is_refused(api):
    """Issue 13 item 6: a file half UTF-8, half GBK, or with a duplicate header: 400, nothing recorded."""
    mixed = csv_bytes([household_row(101)]) + ",".join(household_row(102)).encode("gbk") + b"\n"
    before = log_position(api)
    body = assert_contract(upload(api, mixed), 400, "_body")
    assert "UTF-8 on line 2" in body["details"]["_body"][0]
    twice = csv_bytes([household_row(103) + ["张三"]], columns=COLUMNS + ["head_name"])
    refused = assert_contract(upload(api, twice), 400, "_body")
    assert "column head_name appears twice" in refused["details"]["_body"]
    declared_wrong = csv_bytes([household_row(104)], "gbk")
    assert_contract(upload(api, declared_wrong, "text/csv; charset=utf-8"), 400, "_body")
    assert log_position(api) == before


# -- item 7: bad input is never a 500 -------------------------------------------------------------


def test_item_7_csv_people_of_superscript_two_or_5000_digits_is_a_reason_for_that_row(api):
    """Issue 13 item 7: "²" (isdigit() is True, int() fails) and a 5,000-digit number get a row reason."""
    rows = [
        household_row(201, people="²"),
        household_row(202, people="9" * 5000),
        household_row(203),
    ]

    response = upload(api, csv_bytes(rows))

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["rejected"]) == (1, 2)
    assert {r["row"]: list(r["reasons"]) for r in result["rejections"]} == {
        1: ["people"],
        2: ["people"],
    }


def test_item_7_a_csv_field_over_131072_characters_and_a_binary_upload_are_400s(api):
    """Issue 13 item 7: the csv module's field limit and a binary file are clear 400s, not 500s."""
    before = log_position(api)
    too_long = csv_bytes([household_row(301, head_name="张" * 140_000)])
    huge = assert_contract(upload(api, too_long), 400, "_body")
    assert "131,072" in huge["details"]["_body"][0]
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(range(256))
    assert_contract(upload(api, png, "image/png"), 400, "_body")
    xlsx_like = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4
    assert_contract(upload(api, xlsx_like, "application/octet-stream"), 400, "_body")
    assert log_position(api) == before


def test_item_7_a_field_inspection_group_without_a_name_is_a_400_naming_it(api):
    """Issue 13 item 7: a group lacking ``name`` was a KeyError (500) in the schema's distinct-name check."""
    response = api.post(
        "/campaigns/any/field-inspections",
        {
            "groups": [{"inspectors": ["inspector:li"], "provinces": ["山东"]}],
            "effective_date": "2020-06-01",
        },
    )
    assert_contract(response, 400, "groups.0.name")


def test_item_7_an_audit_cursor_beyond_any_log_is_a_400_naming_it(api):
    """Issue 13 item 7: ``after=2^63-1`` overflowed the event store's integer (500)."""
    auditor = api.token("auditor", "national")
    response = api.get(
        "/audit/events", token=auditor, params={"service": "registry", "after": 2**63 - 1}
    )
    assert_contract(response, 400, "after")
    ok = api.get("/audit/events", token=auditor, params={"service": "registry", "after": 2**53 - 1})
    assert ok.status_code == 200 and ok.json()["items"] == []


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": ["national"]},
        {"scope": {"kind": "national"}},
        {"role": 7},
        {"exp": "9999999999"},
        {"iat": 1.5},
        {"exp": True},
    ],
)
def test_item_7_and_12_a_signed_token_with_a_claim_of_the_wrong_type_is_a_401(api, claims):
    """Issue 13 items 7 and 12: scope not a string (was a 500), exp a string (was accepted)."""
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "tester",
            "role": "national_office",
            "scope": "national",
            "iat": now,
            "exp": now + 600,
            **claims,
        },
        api.token_secret,
        algorithm="HS256",
    )
    assert_contract(api.get("/two-counts", token=token, params={"unit": "national"}), 401)


# -- item 8: patterns matched whole ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/households", household_form("371321000888\n"), "code"),
        ("/experts", expert_form(phone="13800000001\n"), "phone"),
        ("/experts", expert_form(bank_account="6222020200112233445\n"), "bank_account"),
    ],
)
def test_item_8_a_trailing_newline_does_not_pass_a_format_check(api, path, body, field):
    """Issue 13 item 8: ``$`` matched before a final newline, so "X\\n" was a second household."""
    assert_refused_and_nothing_recorded(api, "POST", path, field, json=body)


# -- item 10 -------------------------------------------------------------------------------------


def test_item_10_a_team_nomination_without_honours_yet_is_accepted(api):
    """Issue 13 item 10: ``honours: ""`` (a team with no honours yet) was a 400."""
    commended = api.post(
        "/commendations",
        {
            "year": 2019,
            "category": "team",
            "unit": "province:山东",
            "team_name": "沂蒙新建专家团",
            "effective_date": "2020-01-10",
        },
    )
    assert commended.status_code == 201, commended.text  # the round asks for a commendation before
    award_round = api.post("/award-rounds", round_2020(organising_units={"total": 10, "max": 1}))
    assert award_round.status_code == 201, award_round.text
    team = {
        "category": "team",
        "team_name": "沂蒙新建专家团",
        "field": "果树栽培",
        "expert_count": 6,
        "leader": {"name": "王建国", "contact": "13800000001", "title": "研究员"},
        "area": {"province": "山东", "city": "临沂", "county": "沂南"},
        "service_category": "planting",
        "service_mode": "extension",
        "experts": [],
        "people_lifted": 300,
        "service_days": 420,
        "deeds": "组建专家服务团，建设示范园。",
        "honours": "",
        "effective_date": "2020-07-01",
    }
    office = api.token("provincial_office", "province:山东", subject="province:山东")

    response = api.post(f"/award-rounds/{award_round.json()['id']}/nominations", team, token=office)

    assert response.status_code == 201, response.text


# -- item 11 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "kjfp.example.org"])
def test_item_11_the_embedded_mode_on_the_dev_keys_refuses_a_non_loopback_host(host):
    """Issue 13 item 11: the published dev keys are never served to the network."""
    with pytest.raises(ValueError, match="HTTP_HOST"):
        Settings(http_host=host).check()
    for loopback in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        Settings(http_host=loopback).check()
    own = {
        "token_secret": "t" * 40,
        "cipher_key": "b3duLWNpcGhlci1rZXktMzItYnl0ZXMuLi4uLi4uLi4=",
        "pii_hash_key": "p" * 40,
        "checkpoint_signing_key": "Y2hlY2twb2ludC1rZXktb2YtMzItYnl0ZXMtLi4uLi4=",
    }
    Settings(http_host=host, **own).check()  # own keys: the operator's choice
    with pytest.raises(ValueError, match="CHECKPOINT_SIGNING_KEY"):
        Settings(http_host=host, **{**own, "checkpoint_signing_key": DEV_CHECKPOINT_KEY}).check()


def test_item_11_kjfp_run_refuses_with_one_clear_line(tmp_path):
    """Issue 13 item 11: ``kjfp run`` with HTTP_HOST=0.0.0.0 on the dev keys exits 1 saying why."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HTTP_HOST": "0.0.0.0",
        "KJFP_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "kjfp.cli", "run"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=str(tmp_path.parent),
    )
    assert result.returncode == 1
    assert "HTTP_HOST=0.0.0.0" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # refused before anything was opened


# -- item 12: every answer is the contract, with security headers --------------------------------


def test_item_12_wrong_method_unknown_path_long_uri_long_header_and_long_token_are_the_contract(
    api,
):
    """Issue 13 item 12: 405, 404, 414, 431 and an oversized token answer with the error contract."""
    wrong_method = api.call("DELETE", "/experts")
    assert_contract(wrong_method, 405, "method")
    assert "POST" in wrong_method.headers["Allow"] and "GET" in wrong_method.headers["Allow"]
    assert_contract(api.call("OPTIONS", "/households"), 405)
    assert_contract(api.get("/no-such-path"), 404, "path")
    assert_contract(api.get("/two-counts", params={"unit": "national", "x": "y" * 9000}), 414)
    assert_contract(
        api.get("/two-counts", params={"unit": "national"}, headers={"X-Note": "n" * 9000}), 431
    )
    long_token = api.get("/two-counts", token="x" * 9000, params={"unit": "national"})
    assert_contract(long_token, 401, "Authorization")
    assert_contract(api.get("/two-counts", token="x" * 60_000, params={"unit": "national"}), 401)


def raw_exchange(api, request):
    host, port = api.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"GET /api/v1/health HTTP/9.x\r\n\r\n", b"400"),  # malformed request line
        (
            b"GET /api/v1/health HTTP/1.1\r\n" + b"X-A: b\r\n" * 120 + b"\r\n",
            b"431",
        ),  # too many headers
        (
            b"POST /api/v1/households HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
            b"413",
        ),
        (b"GET /api/v1/health?" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET /api/v1/health HTTP/1.1\r\nX-Long: " + b"y" * 70_000 + b"\r\n\r\n", b"431"),
        (b"POST /api/v1/households HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"400"),
        (
            b"POST /api/v1/households HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
            b"400",
        ),
    ],
)
def test_item_12_a_request_refused_before_the_app_is_answered_with_the_contract(
    api, request_bytes, status
):
    """Issue 13 item 12: http.server's own refusals were HTML; a declared oversized body is a 413."""
    head, body = raw_exchange(api, request_bytes)
    assert head.split(b" ")[1] == status, head
    assert b"X-Content-Type-Options: nosniff" in head and b"application/json" in head
    assert set(json.loads(body)) == {"error", "message", "details"}


def test_item_12_every_response_carries_the_security_headers(api):
    """Issue 13 item 12: nosniff and no-store (personal data) on successes and refusals alike."""
    responses = [
        api.post("/households", household_form("371321000999")),
        api.get("/experts"),
        api.post("/households", {}),
        api.get("/no-such-path"),
        api.call("DELETE", "/experts"),
        api.get("/openapi.json", token=False),
    ]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.request.url, name)
