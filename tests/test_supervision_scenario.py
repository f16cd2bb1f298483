"""Issue 4's acceptance on one embedded system (in-process memory:// transport, SQLite event
stores, the embedded view store), over HTTP as users drive it: the 2017 special supervision (§000) of
三 provinces — the registers as of the cut-off, self-inspections (one inflated figure, one
correct, one late), field inspection by assigned groups, three rectification items (verified,
overdue, reopened) tracked at several dates, a rebuild of the views, and every refusal."""

import pytest
from nameko.testing.utils import get_container

from kjfp.sample_data import id_number
from services.registry.tests.forms import expert_form, household_form
from services.supervision.service import SupervisionService
from services.supervision.tests.forms import (
    GROUPS,
    PROVINCES,
    campaign_2017,
    finding,
    self_inspection,
)
from tests.auditing import assert_replay_equals_views_and_catches_a_hand_edit, embedded_parts
from tests.http_client import pairing_body, start_system

LVLIANG = {"province": "山西", "city": "吕梁", "county": "岚县"}
YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    service_runner, client = start_system(tmp_path_factory.mktemp("supervision"))
    yield service_runner, client
    service_runner.stop()


def register(api, path, body):
    response = api.post(path, body)
    assert response.status_code == 201, response.text
    return response.json()


def expert(api, n, unit, location, effective_date="2017-03-01"):
    return register(
        api,
        "/experts",
        expert_form(
            name=f"专家{n}",
            id_number=id_number("371321", "19960312", f"{n:03d}"),
            phone=f"1380000{n:04d}",
            unit=unit,
            location=location,
            effective_date=effective_date,
        ),
    )


def pair(api, expert_id, codes, location, people):
    for code, n in zip(codes, people):
        register(
            api,
            "/households",
            household_form(code, people=n, location=location, effective_date="2017-03-01"),
        )
    register(
        api,
        "/pairings",
        {
            **pairing_body(expert_id, codes),
            "start": "2017-04-01",
            "end": "2017-12-31",
            "effective_date": "2017-04-01",
        },
    )


@pytest.fixture(scope="module")
def world(system):
    """The registers of 山西 and 山东 as they stood at the 2017-07-31 cut-off, and one expert
    registered after it (who must not count)."""
    _, api = system
    shanxi = [expert(api, n, "province:山西", LVLIANG) for n in (1, 2)]
    pair(api, shanxi[0]["id"], ["1411290001", "1411290002", "1411290003"], LVLIANG, [4, 3, 5])
    register(
        api,
        "/associations",
        {
            "name": "岚县马铃薯协会",
            "credit_code": "91110000600037341L",
            "kind": "association",
            "level": "county",
            "unit": "province:山西",
            "location": LVLIANG,
            "supported_by": "山西省科协",
            "effective_date": "2017-05-01",
        },
    )
    expert(api, 3, "province:山西", LVLIANG, effective_date="2017-08-05")
    shandong = expert(api, 4, "province:山东", YINAN)
    pair(api, shandong["id"], ["3713210101", "3713210102"], YINAN, [2, 4])
    return api


def launch(api):
    response = api.post("/campaigns", campaign_2017())
    assert response.status_code == 201, response.text
    campaign_id = response.json()["id"]
    assert (
        api.post(
            f"/campaigns/{campaign_id}/field-inspections",
            {"groups": GROUPS, "effective_date": "2017-08-01"},
        ).status_code
        == 201
    )
    return campaign_id


def office(api, province):
    return api.token("provincial_office", f"province:{province}")


def inspector(api, name):
    return api.token("inspector", "national", subject=f"inspector:{name}")


def position(api):
    return api.get("/rectifications/summary").json()["positions"]["supervision"]


def table(api, campaign_id, unit, token=None):
    response = api.get(
        f"/campaigns/{campaign_id}/statistics-table", params={"unit": unit}, token=token
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_statistics_table_flags_an_inflated_figure_and_marks_a_late_report(world):
    api = world
    campaign_id = launch(api)
    inflated = self_inspection("province:山西", associations=1, experts=5, households=3, people=12)
    assert (
        api.post(
            f"/campaigns/{campaign_id}/self-inspections", inflated, token=office(api, "山西")
        ).status_code
        == 201
    )
    correct = self_inspection(
        "province:山东", experts=1, households=2, people=6, effective_date="2017-08-12"
    )
    filed = api.post(
        f"/campaigns/{campaign_id}/self-inspections", correct, token=office(api, "山东")
    )
    assert filed.status_code == 201 and filed.json()["late"] is True

    shanxi = table(api, campaign_id, "province:山西", token=office(api, "山西"))
    assert shanxi["as_of"] == "2017-07-31" and shanxi["late"] is False
    items = {item["no"]: item for item in shanxi["items"]}
    assert (items[8]["declared"], items[8]["registered"], items[8]["discrepancy"]) == (5, 2, True)
    assert items[7]["registered"] == 1 and items[7]["discrepancy"] is False
    assert (
        items[9]["registered"] == {"households": 3, "people": 12}
        and items[9]["discrepancy"] is False
    )
    assert items[1]["declared"] is True and items[1]["source"] == "declared"
    assert shanxi["discrepancies"] == [8]
    assert shanxi["positions"]["registry"] > 0

    shandong = table(api, campaign_id, "province:山东")
    assert shandong["late"] is True and shandong["discrepancies"] == []
    assert {item["no"]: item["registered"] for item in shandong["items"]}[9] == {
        "households": 2,
        "people": 6,
    }

    hebei = table(api, campaign_id, "province:河北")  # nothing filed: the registers alone
    assert hebei["filed"] is False and hebei["discrepancies"] == []


def test_rectification_is_tracked_as_of_any_date(world, system):
    api = world
    campaign_id = launch(api)
    li, zhao = inspector(api, "li"), inspector(api, "zhao")

    def find(body, token):
        response = api.post(f"/campaigns/{campaign_id}/findings", body, token=token)
        assert response.status_code == 201, response.text
        return response.json()["rectification_id"]

    verified = find(finding("city:山西/吕梁"), li)  # due 09-30 (the campaign's)
    overdue = find(finding("province:河北", due="2017-09-15"), li)
    reopened = find(finding("province:山东", "2017-08-18"), zhao)
    find(finding("province:山东", "2017-08-18", requires_rectification=False), zhao)

    def move(item, what, body, token):
        response = api.post(f"/rectifications/{item}/{what}", body, token=token)
        assert response.status_code == 200, response.text

    lvliang = api.token("county_association", "city:山西/吕梁")
    move(verified, "progress", {"note": "补齐台账", "effective_date": "2017-09-01"}, lvliang)
    move(
        verified,
        "submit",
        {"evidence": "台账已补齐", "evidence_hashes": ["ab" * 32], "effective_date": "2017-09-10"},
        lvliang,
    )
    move(verified, "verify", {"comment": "通过", "effective_date": "2017-09-20"}, li)
    move(
        reopened,
        "submit",
        {"evidence": "已整改", "effective_date": "2017-09-05"},
        office(api, "山东"),
    )
    move(reopened, "reopen", {"reason": "证据不足", "effective_date": "2017-09-08"}, zhao)

    def tracked(as_of, token=None, **query):
        response = api.get(
            "/rectifications",
            params={"campaign": campaign_id, "as_of": as_of, **query},
            token=token,
        )
        assert response.status_code == 200, response.text
        return {item["id"]: (item["status"], item["overdue"]) for item in response.json()["items"]}

    def summary(as_of, **query):
        body = api.get(
            "/rectifications/summary", params={"campaign": campaign_id, "as_of": as_of, **query}
        ).json()
        return body["open"], body["overdue"], body["verified"]

    assert tracked("2017-08-14") == {}
    assert tracked("2017-09-09") == {
        verified: ("in_progress", False),
        overdue: ("open", False),
        reopened: ("reopened", False),
    }
    assert tracked("2017-09-16") == {
        verified: ("submitted", False),
        overdue: ("open", True),
        reopened: ("reopened", False),
    }
    assert tracked("2017-10-01") == {
        verified: ("verified", False),
        overdue: ("open", True),
        reopened: ("reopened", True),
    }
    assert summary("2017-09-16") == (3, 1, 0)
    assert summary("2017-10-01") == (2, 2, 1)
    assert summary("2017-10-01", unit="province:山西") == (0, 0, 1)  # its city's item counts for it
    assert tracked("2017-10-01", status="overdue") == {
        overdue: ("open", True),
        reopened: ("reopened", True),
    }
    assert tracked("2017-10-01", status="verified", unit="province:山西") == {
        verified: ("verified", False)
    }
    assert tracked("2017-10-01", unit="province:河北", token=office(api, "河北")) == {
        overdue: ("open", True)
    }

    # Rebuilding the views from the log gives identical documents and answers.
    service_runner, _ = system
    supervision = next(
        d
        for d in get_container(service_runner, SupervisionService).dependencies
        if d.attr_name == "parts"
    ).parts
    collections = supervision.log.projections[0].collections
    before = {
        name: sorted(supervision.views[name].find(), key=lambda d: d["_id"]) for name in collections
    }
    answers = tracked("2017-09-16"), summary("2017-10-01")
    supervision.rebuild()
    assert {
        name: sorted(supervision.views[name].find(), key=lambda d: d["_id"]) for name in collections
    } == before
    assert (tracked("2017-09-16"), summary("2017-10-01")) == answers


@pytest.mark.parametrize(
    "who, path, body, status",
    [
        ("shandong", "/campaigns", campaign_2017(), 403),
        ("shandong", "/campaigns/{c}/self-inspections", self_inspection("province:山西"), 403),
        ("li", "/campaigns/{c}/self-inspections", self_inspection("province:山西"), 403),
        ("shandong", "/campaigns/{c}/findings", finding("province:山东"), 403),
        ("zhao", "/campaigns/{c}/findings", finding("province:山西"), 403),
        ("li", "/campaigns/{c}/findings", finding("province:江苏"), 422),
        ("li", "/campaigns/{c}/findings", finding("province:山西", "2017-08-01"), 422),
        ("shandong", "/campaigns/{c}/field-inspections", {"groups": GROUPS}, 403),
        ("national", "/campaigns/{c}/self-inspections", self_inspection("province:山西"), 403),
        (
            "jiangsu",
            "/campaigns/{c}/self-inspections",
            self_inspection("province:江苏"),
            422,
        ),  # not covered
        (
            "shanxi",
            "/rectifications/{r}/submit",
            {"evidence": "…"},
            403,
        ),  # not the responsible unit
        (
            "hebei",
            "/rectifications/{r}/verify",
            {"comment": "好"},
            403,
        ),  # units do not verify themselves
        ("zhao", "/rectifications/{r}/verify", {"comment": "好"}, 403),  # not assigned to 河北
        ("li", "/rectifications/{r}/verify", {"comment": "好"}, 409),  # nothing submitted yet
        ("li", "/rectifications/{r}/close", {"comment": "好"}, 404),
        ("hebei", "/rectifications/{r}/submit", {"evidence": "…", "evidence_hashes": ["xyz"]}, 400),
        (
            "hebei",
            "/rectifications/{r}/submit",
            {"evidence": "…", "effective_date": "2017-08-10"},
            422,
        ),
        ("li", "/campaigns/not-a-campaign/findings", finding("province:山西"), 404),
    ],
)
def test_forbidden_moves_and_calls_outside_jurisdiction_are_refused_and_record_nothing(
    world, who, path, body, status
):
    api = world
    campaign_id = launch(api)
    found = api.post(
        f"/campaigns/{campaign_id}/findings",
        finding("province:河北", due="2017-09-15"),
        token=inspector(api, "li"),
    )
    tokens = {
        "shandong": office(api, "山东"),
        "shanxi": office(api, "山西"),
        "hebei": office(api, "河北"),
        "jiangsu": office(api, "江苏"),
        "li": inspector(api, "li"),
        "zhao": inspector(api, "zhao"),
        "national": api.token(),
    }
    before = position(api)

    response = api.post(
        path.format(c=campaign_id, r=found.json()["rectification_id"]), body, token=tokens[who]
    )

    assert response.status_code == status, response.text
    assert position(api) == before


def test_reads_outside_jurisdiction_are_refused_and_a_closed_campaign_takes_no_report(world):
    api = world
    campaign_id = launch(api)
    shandong = office(api, "山东")
    assert (
        api.get(
            f"/campaigns/{campaign_id}/statistics-table",
            params={"unit": "province:山西"},
            token=shandong,
        ).status_code
        == 403
    )
    assert (
        api.get("/rectifications", params={"unit": "province:山西"}, token=shandong).status_code
        == 403
    )
    assert (
        api.post(f"/campaigns/{campaign_id}/close", {"effective_date": "2017-10-15"}).status_code
        == 200
    )
    campaign = api.get(f"/campaigns/{campaign_id}", token=shandong).json()
    assert (campaign["closed_on"], campaign["groups"], campaign["units"]) == (
        "2017-10-15",
        GROUPS,
        PROVINCES,
    )
    before = position(api)
    late = api.post(
        f"/campaigns/{campaign_id}/self-inspections",
        self_inspection("province:山东", effective_date="2017-10-16"),
        token=shandong,
    )
    assert late.status_code == 422 and "campaign_id" in late.json()["details"]
    assert position(api) == before


def test_a_spot_check_is_reproducible_from_its_seed_and_log_position(world):
    api = world
    campaign_id = launch(api)
    draw = {"seed": 2020, "provinces": 2, "records_per_province": 2, "effective_date": "2017-08-15"}
    first = api.post(f"/campaigns/{campaign_id}/spot-checks", draw)
    assert first.status_code == 201, first.text
    sample = first.json()
    assert len(sample["provinces"]) == 2 and len(sample["records"]) <= 4
    assert {r["province"] for r in sample["records"]} <= set(sample["provinces"])
    assert all(r["kind"] in ("expert", "association", "household") for r in sample["records"])

    # The register grows; the same seed at the same position still draws the same sample.
    register(
        api,
        "/households",
        household_form("1411290009", location=LVLIANG, effective_date="2017-08-15"),
    )
    again = api.post(
        f"/campaigns/{campaign_id}/spot-checks", {**draw, "at_position": sample["at_position"]}
    ).json()
    assert (again["provinces"], again["records"]) == (sample["provinces"], sample["records"])
    later = api.post(f"/campaigns/{campaign_id}/spot-checks", draw).json()
    assert later["at_position"] > sample["at_position"]

    beyond = api.post(f"/campaigns/{campaign_id}/spot-checks", {**draw, "at_position": 10**9})
    assert beyond.status_code == 422 and "at_position" in beyond.json()["details"]
    assert (
        api.post(
            f"/campaigns/{campaign_id}/spot-checks", draw, token=office(api, "山西")
        ).status_code
        == 403
    )


def test_an_auditor_replaying_every_log_finds_the_views_as_they_are(world, system):
    """Issue 7: the auditor's replay of this scenario's logs equals its live views, and names
    the one field of the one rectification someone edited by hand."""
    settings, live = embedded_parts(system[0])
    assert_replay_equals_views_and_catches_a_hand_edit(
        settings, live, None, "supervision_rectifications"
    )


def test_the_campaigns_are_listed_in_the_order_they_were_launched(world):
    """Issue 17 (the page's campaign picker): GET /campaigns pages through the campaigns as
    launched, filtered by year; a province's office reads it too; a bad year is a 400 naming it."""
    api = world
    first, second = launch(api), launch(api)
    listed = api.get("/campaigns", params={"limit": 100}).json()
    ids = [c["id"] for c in listed["items"]]
    assert ids.index(first) < ids.index(second) and listed["next_cursor"] is None
    shown = next(c for c in listed["items"] if c["id"] == first)
    assert shown["year"] == 2017 and shown["units"] and shown["closed_on"] is None
    page = api.get("/campaigns", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"] is not None
    rest = api.get("/campaigns", params={"limit": 100, "cursor": page["next_cursor"]}).json()
    assert [c["id"] for c in page["items"] + rest["items"]] == ids
    assert api.get("/campaigns", params={"year": 2018}).json()["items"] == []
    assert first in [
        c["id"] for c in api.get("/campaigns", token=office(api, "山西")).json()["items"]
    ]
    bad = api.get("/campaigns", params={"year": 1900})
    assert bad.status_code == 400 and "year" in bad.json()["details"]
