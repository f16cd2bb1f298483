"""Issue 6's acceptance on one embedded system, over HTTP as users drive it: the 2020 round of
§003 (with the organising-unit category of §001 added) across a key poverty province (山西), an
ordinary province (山东) and a national society (中国农学会). Hours come from the registry's
service logs, rectification state from a supervision campaign; quota edges, eligibility at
799/800 hours, an organising unit blocked by an overdue rectification item until it is verified,
an upheld objection, commendation on day 6 (refused) and day 7 (accepted), a revocation that
keeps history and stops counting in the next round, and a rebuild of the views."""

import pytest
from nameko.testing.utils import get_container

from kjfp.sample_data import id_number
from services.awards.rounds import round_2020
from services.awards.service import AwardsService
from services.registry.tests.forms import expert_form, household_form
from services.supervision.tests.forms import campaign_2020
from tests.auditing import assert_replay_equals_views_and_catches_a_hand_edit, embedded_parts
from tests.http_client import start_system

LVLIANG = {"province": "山西", "city": "吕梁", "county": "岚县"}
YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}
SHANXI, SHANDONG, SOCIETY = "province:山西", "province:山东", "society:中国农学会"
CLEAR_ID = id_number("371321", "19960312", "101")


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    service_runner, client = start_system(tmp_path_factory.mktemp("awards"))
    yield service_runner, client
    service_runner.stop()


def created(response):
    assert response.status_code == 201, response.text
    return response.json()


def expert(api, n, unit, location, **extra):
    return created(
        api.post(
            "/experts",
            expert_form(
                name=f"专家{n}",
                id_number=id_number("371321", "19960312", f"{n:03d}"),
                phone=f"1390000{n:04d}",
                unit=unit,
                location=location,
                effective_date="2020-01-06",
                **extra,
            ),
        )
    )["id"]


def log_hours(api, expert_id, location, code, hours):
    """Service logs (工作台账) adding up to ``hours`` in 2020, at most 24 a day."""
    created(api.post("/households", household_form(code, location=location)))
    created(
        api.post(
            "/pairings",
            {
                "expert_id": expert_id,
                "household_codes": [code],
                "village": "西岭村",
                "start": "2020-02-01",
                "end": "2020-12-31",
                "goals": "技术脱贫",
                "tasks": "入户指导",
                "mechanism": "专家+农户",
                "effective_date": "2020-02-01",
            },
        )
    )
    day = 0
    while hours > 0:
        chunk = min(hours, 24)
        log(
            api,
            expert_id,
            f"2020-03-{1 + day % 28:02d}" if day < 28 else f"2020-04-{1 + day % 28:02d}",
            chunk,
        )
        hours -= chunk
        day += 1


def log(api, expert_id, on, hours):
    created(
        api.post(
            "/service-logs",
            {
                "expert_id": expert_id,
                "date": on,
                "place": "西岭村",
                "form": "田间指导",
                "content": "果树修剪",
                "participants": 12,
                "hours": hours,
            },
        )
    )


def individual(expert_id, effective_date="2020-07-01", **extra):
    return {
        "category": "individual",
        "expert_id": expert_id,
        "political_status": "中共党员",
        "area": {
            "province": "山西",
            "city": "吕梁",
            "county": "岚县",
            "township": "东村镇",
            "village": "西岭村",
        },
        "service_category": "planting",
        "service_mode": "training",
        "people_lifted": 120,
        "service_days": 160,
        "deeds": "扎根贫困村，推广马铃薯脱毒种薯。",
        "honours": "2018年省级表扬",
        "effective_date": effective_date,
        **extra,
    }


def team(name, effective_date="2020-07-01", **extra):
    return {
        "category": "team",
        "team_name": name,
        "field": "果树栽培",
        "expert_count": 6,
        "leader": {"name": "王建国", "contact": "13800000001", "title": "研究员"},
        "area": YINAN,
        "service_category": "planting",
        "service_mode": "extension",
        "experts": [],
        "people_lifted": 300,
        "service_days": 420,
        "deeds": "组建专家服务团，建设示范园。",
        "honours": "2017年全国表扬",
        "effective_date": effective_date,
        **extra,
    }


def organising_unit(effective_date):
    return {
        "category": "organising_unit",
        "summary": "建立领导小组，两数任务全部完成。",
        "effective_date": effective_date,
    }


@pytest.fixture(scope="module")
def world(system):
    """The registers, earlier commendations, a 2020 supervision campaign with one overdue item of
    山西, and the configured 2020 round."""
    _, api = system
    people = {
        "hours": expert(api, 101, SHANXI, LVLIANG),  # 799 hours, then 800
        "second": expert(api, 102, SHANXI, LVLIANG),  # endorsed as especially outstanding
        "third": expert(api, 103, SHANXI, LVLIANG),
        "fourth": expert(api, 104, SHANXI, LVLIANG),
        "society": expert(api, 105, SOCIETY, YINAN),
        "never": expert(api, 106, SHANDONG, YINAN),  # 800 hours, never commended
    }
    log_hours(api, people["hours"], LVLIANG, "1411290101", 799)
    log_hours(api, people["never"], YINAN, "3713210106", 800)
    for key in ("hours", "second", "third", "fourth"):
        created(
            api.post(
                "/commendations",
                {
                    "year": 2017,
                    "category": "individual",
                    "unit": SHANXI,
                    "expert_id": people[key],
                    "effective_date": "2018-01-10",
                },
            )
        )
    created(
        api.post(
            "/commendations",
            {
                "year": 2018,
                "category": "individual",
                "unit": SOCIETY,
                "expert_id": people["society"],
                "effective_date": "2019-01-10",
            },
        )
    )
    for name, unit in (
        ("沂蒙果树专家服务团", SHANDONG),
        ("临沂蔬菜专家团", SHANDONG),
        ("农学会科技服务团", SOCIETY),
    ):
        created(
            api.post(
                "/commendations",
                {
                    "year": 2019,
                    "category": "team",
                    "unit": unit,
                    "team_name": name,
                    "effective_date": "2020-01-10",
                },
            )
        )
    created(
        api.post(
            "/commendations",
            {
                "year": 2018,
                "category": "organising_unit",
                "unit": SHANXI,
                "effective_date": "2019-01-10",
            },
        )
    )

    campaign = created(api.post("/campaigns", campaign_2020([SHANXI, SHANDONG])))["id"]
    created(
        api.post(
            f"/campaigns/{campaign}/field-inspections",
            {
                "groups": [
                    {
                        "name": "第一组",
                        "inspectors": ["inspector:li"],
                        "provinces": ["山西", "山东"],
                    }
                ],
                "effective_date": "2020-06-01",
            },
        )
    )
    finding = created(
        api.post(
            f"/campaigns/{campaign}/findings",
            {
                "unit": "city:山西/吕梁",
                "description": "帮扶台账不完整",
                "severity": "major",
                "requires_rectification": True,
                "due": "2020-07-01",
                "effective_date": "2020-06-10",
            },
            token=inspector(api),
        )
    )
    round_form = round_2020(organising_units={"total": 10, "max": 1})
    award_round = created(api.post("/award-rounds", round_form))
    return {
        "api": api,
        "people": people,
        "round": award_round["id"],
        "rectification": finding["rectification_id"],
    }


def office(api, unit):
    return api.token(
        "society" if unit.startswith("society:") else "provincial_office", unit, subject=unit
    )


def inspector(api):
    return api.token("inspector", "national", subject="inspector:li")


def position(api, round_id):
    return api.get(f"/award-rounds/{round_id}/nominations").json()["positions"]["awards"]


def nominate(api, round_id, unit, body, status=201):
    before = position(api, round_id)
    response = api.post(f"/award-rounds/{round_id}/nominations", body, token=office(api, unit))
    assert response.status_code == status, response.text
    if status != 201:
        assert position(api, round_id) == before  # a refusal records nothing
    return response.json()


def test_the_2020_round_from_nomination_to_revocation(world, system):
    api, people, round_id = world["api"], world["people"], world["round"]
    shanxi, shandong = office(api, SHANXI), office(api, SHANDONG)

    # -- an individual at 799 hours is refused, at 800 accepted ---------------------------
    refused = nominate(api, round_id, SHANXI, individual(people["hours"], id_number=CLEAR_ID), 422)
    assert refused["error"] == "RULE_VIOLATION"
    assert any("799 hours" in reason for reason in refused["details"]["eligibility"])
    log(api, people["hours"], "2020-05-01", 1)
    accepted = nominate(api, round_id, SHANXI, individual(people["hours"], id_number=CLEAR_ID))
    assert accepted["id_number"] == CLEAR_ID[:4] + "*" * 10 + CLEAR_ID[-4:]
    assert accepted["name"] == "专家101" and accepted["status"] == "submitted"
    eligibility = api.get(f"/nominations/{accepted['id']}/eligibility", token=shanxi).json()
    assert eligibility["eligible"] is True
    checks = {c["rule"]: c for c in eligibility["checks"]}
    assert (
        checks["service_time"]["evidence"]["hours"] == 800
        and checks["service_time"]["passed"] is True
    )
    assert checks["prior_commendation"]["evidence"]["commendations"][0]["year"] == 2017
    nominate(api, round_id, SHANXI, individual(people["hours"]), 409)  # the same expert again

    # -- especially outstanding: refused without the national office's endorsement ---------
    nominate(api, round_id, SHANXI, individual(people["second"]), 422)
    for key in ("second", "third", "fourth"):
        created(
            api.post(
                f"/award-rounds/{round_id}/endorsements",
                {
                    "expert_id": people[key],
                    "justification": "带动脱贫成效特别突出",
                    "effective_date": "2020-07-02",
                },
            )
        )
    second = nominate(api, round_id, SHANXI, individual(people["second"], "2020-07-03"))
    assert {c["rule"]: c for c in second["checks"]}["service_time"]["evidence"][
        "passed_by"
    ] == "especially_outstanding"

    # -- quota edges: a key province's 3rd individual accepted, its 4th refused -------------
    nominate(api, round_id, SHANXI, individual(people["third"], "2020-07-03"))
    over = nominate(api, round_id, SHANXI, individual(people["fourth"], "2020-07-03"), 422)
    assert "quota of 3 used up" in over["details"]["category"][0]
    # an ordinary province's 2nd team refused; a national society's team and individual accepted
    first_team = nominate(api, round_id, SHANDONG, team("沂蒙果树专家服务团"))
    nominate(api, round_id, SHANDONG, team("临沂蔬菜专家团"), 422)
    society_team = nominate(api, round_id, SOCIETY, team("农学会科技服务团"))
    created(
        api.post(
            f"/award-rounds/{round_id}/endorsements",
            {
                "expert_id": people["society"],
                "justification": "成效突出",
                "effective_date": "2020-07-04",
            },
        )
    )
    nominate(api, round_id, SOCIETY, individual(people["society"], "2020-07-05"))
    # never commended since 2016: refused whatever the hours
    never = nominate(api, round_id, SHANDONG, individual(people["never"]), 422)
    assert never["details"]["eligibility"] == ["prior_commendation: not commended since 2016"]

    # -- an organising unit blocked by an overdue rectification item, then accepted ---------
    blocked = nominate(api, round_id, SHANXI, organising_unit("2020-07-10"), 422)
    assert any("no_overdue_rectification" in reason for reason in blocked["details"]["eligibility"])
    item = world["rectification"]
    lvliang = api.token("county_association", "city:山西/吕梁")
    assert (
        api.post(
            f"/rectifications/{item}/submit",
            {"evidence": "台账已补齐", "effective_date": "2020-07-15"},
            token=lvliang,
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"/rectifications/{item}/verify",
            {"comment": "通过", "effective_date": "2020-07-20"},
            token=inspector(api),
        ).status_code
        == 200
    )
    unit_nomination = nominate(api, round_id, SHANXI, organising_unit("2020-07-25"))
    assert unit_nomination["checks"][0]["evidence"]["verified"] == 1

    # -- the deadline --------------------------------------------------------------------
    late = nominate(api, round_id, SHANDONG, organising_unit("2020-08-16"), 422)
    assert "effective_date" in late["details"]

    # -- public notice, an upheld objection, commendation on day 6 and day 7 ---------------
    published = api.post(f"/award-rounds/{round_id}/publicize", {"effective_date": "2020-08-20"})
    assert published.status_code == 200, published.text
    assert (published.json()["notice_start"], published.json()["notice_end"]) == (
        "2020-08-20",
        "2020-08-27",
    )
    nominate(api, round_id, SHANDONG, organising_unit("2020-08-14"), 422)  # the list is out: closed
    objection = created(
        api.post(
            f"/nominations/{society_team['id']}/objections",
            {"reason": "服务天数不实", "effective_date": "2020-08-22"},
            token=shandong,
        )
    )
    assert (
        api.post(
            f"/nominations/{first_team['id']}/objections",
            {"reason": "迟到", "effective_date": "2020-08-27"},
            token=shandong,
        ).status_code
        == 422
    )  # the window has closed
    early = api.post(f"/award-rounds/{round_id}/commend", {"effective_date": "2020-08-26"})
    assert early.status_code == 422 and "day 6" in early.json()["message"]
    unresolved = api.post(f"/award-rounds/{round_id}/commend", {"effective_date": "2020-08-27"})
    assert unresolved.status_code == 422 and "objections" in unresolved.json()["details"]
    resolved = api.post(
        f"/nominations/{society_team['id']}/objections/{objection['id']}/resolve",
        {"upheld": True, "comment": "经核实，服务天数不实", "effective_date": "2020-08-25"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "withdrawn"
    commended = api.post(f"/award-rounds/{round_id}/commend", {"effective_date": "2020-08-27"})
    assert commended.status_code == 200, commended.text
    conferred = {n["id"] for n in commended.json()["conferred"]}
    assert len(conferred) == 6 and society_team["id"] not in conferred
    assert commended.json()["status"] == "commended"

    # -- revocation for false material: history kept -------------------------------------
    revoked = api.post(
        f"/nominations/{first_team['id']}/revoke",
        {"reason": "事迹材料不实", "effective_date": "2020-09-10"},
    )
    assert revoked.status_code == 200 and revoked.json()["revoked"]["was"] == "conferred"
    assert (
        api.post(f"/nominations/{first_team['id']}/revoke", {"reason": "again"}).status_code == 409
    )

    def listed(as_of, **query):
        response = api.get(
            f"/award-rounds/{round_id}/nominations", params={"as_of": as_of, **query}
        )
        assert response.status_code == 200, response.text
        return {n["id"]: n["status"] for n in response.json()["items"]}

    assert listed("2020-09-01")[first_team["id"]] == "conferred"
    assert listed("2020-09-30")[first_team["id"]] == "revoked"
    assert listed("2020-08-24")[society_team["id"]] == "publicized"
    assert listed("2020-08-25")[society_team["id"]] == "withdrawn"
    assert listed("2020-07-02")[accepted["id"]] == "submitted" and second["id"] not in listed(
        "2020-07-02"
    )
    shown = api.get(
        f"/award-rounds/{round_id}/nominations", params={"category": "individual"}, token=shanxi
    ).json()
    assert CLEAR_ID not in str(shown) and {n["unit"] for n in shown["items"]} == {SHANXI}
    assert (
        api.get(
            f"/award-rounds/{round_id}/nominations", params={"unit": SHANXI}, token=shandong
        ).status_code
        == 403
    )
    commended_2020 = api.get("/commendations", params={"year": 2020, "as_of": "2020-12-31"}).json()[
        "items"
    ]
    assert len(commended_2020) == 5 and first_team["id"] not in {
        c["source"] for c in commended_2020
    }

    # -- the bus carries the public events, the ID number masked ---------------------------
    service_runner, _ = system
    awards = next(
        d
        for d in get_container(service_runner, AwardsService).dependencies
        if d.attr_name == "parts"
    ).parts
    envelopes = awards.outbox.read(0, 1000)
    types = {e["type"] for e in envelopes}
    assert {
        "AwardRoundConfigured",
        "NominationSubmitted",
        "NominationPublicized",
        "ObjectionRaised",
        "ObjectionResolved",
        "NominationWithdrawn",
        "AwardConferred",
        "AwardRevoked",
        "CommendationRecorded",
        "CommendationRevoked",
        "QuotaTaken",
    } <= types
    assert CLEAR_ID not in str(envelopes)

    # -- the next round: the commended list feeds "commended since"; a revoked award does not
    round_2021 = created(
        api.post(
            "/award-rounds",
            round_2020(
                year=2021,
                name="2021年度表扬",
                deadline="2021-08-15",
                prior_commendation_since=2020,
                organising_units={"total": 10, "max": 1},
                effective_date="2021-06-01",
            ),
        )
    )["id"]
    again = nominate(api, round_2021, SHANXI, organising_unit("2021-07-01"))
    assert {c["rule"]: c for c in again["checks"]}["prior_commendation"]["evidence"][
        "commendations"
    ][0]["year"] == 2020
    nominate(api, round_2021, SHANDONG, team("沂蒙果树专家服务团", "2021-07-01"), 422)

    # -- rebuilding the views from the log gives identical documents and answers ------------
    collections = awards.log.projections[0].collections
    before = {
        name: sorted(awards.views[name].find(), key=lambda d: d["_id"]) for name in collections
    }
    answers = listed("2020-09-01"), listed("2020-08-25"), api.get("/commendations").json()["items"]
    awards.rebuild()
    assert {
        name: sorted(awards.views[name].find(), key=lambda d: d["_id"]) for name in collections
    } == before
    assert (
        listed("2020-09-01"),
        listed("2020-08-25"),
        api.get("/commendations").json()["items"],
    ) == answers


@pytest.mark.parametrize(
    "who, path, body, status, field",
    [
        (
            "shandong",
            "/award-rounds/{r}/nominations",
            {**individual("x"), "unit": SHANXI},
            403,
            "unit",
        ),
        ("national", "/award-rounds/{r}/nominations", individual("x"), 403, None),
        ("auditor", "/award-rounds", round_2020(year=2022), 403, None),
        ("shandong", "/award-rounds/{r}/publicize", {}, 403, None),
        ("inspector", "/nominations/{n}/objections", {"reason": "…"}, 403, None),
        (
            "auditor",
            "/commendations",
            {"year": 2019, "category": "organising_unit", "unit": SHANXI},
            403,
            None,
        ),
        (
            "shanxi",
            "/award-rounds/{r}/nominations",
            individual("x", deeds="事" * 1001),
            400,
            "deeds",
        ),
        (
            "shanxi",
            "/award-rounds/{r}/nominations",
            {**team("团"), "category": "individual"},
            400,
            "expert_id",
        ),
        (
            "shanxi",
            "/award-rounds/{r}/nominations",
            individual("x", id_number="371321199603121010"),
            400,
            "id_number",
        ),
        (
            "shanxi",
            "/award-rounds/{r}/nominations",
            individual("x", service_mode="radio"),
            400,
            "service_mode",
        ),
        ("national", "/award-rounds", round_2020(year=2023, notice_days=6), 400, "notice_days"),
        ("national", "/award-rounds", round_2020(), 409, "year"),
        (
            "national",
            "/commendations",
            {"year": 2019, "category": "team", "unit": SHANXI},
            400,
            "team_name",
        ),
        ("shanxi", "/award-rounds/not-a-round/nominations", individual("x"), 404, None),
        (
            "shanxi",
            "/award-rounds/{r}/nominations",
            individual("no-such-expert", "2020-07-01"),
            422,
            "expert_id",
        ),
    ],
)
def test_refusals_name_their_reason_and_record_nothing(world, who, path, body, status, field):
    api, round_id = world["api"], world["round"]
    tokens = {
        "shandong": office(api, SHANDONG),
        "shanxi": office(api, SHANXI),
        "national": api.token(),
        "auditor": api.token("auditor", "national"),
        "inspector": inspector(api),
    }
    nomination = api.get(f"/award-rounds/{round_id}/nominations").json()["items"]
    before = position(api, round_id)

    response = api.post(
        path.format(r=round_id, n=nomination[0]["id"] if nomination else "none"),
        body,
        token=tokens[who],
    )

    assert response.status_code == status, response.text
    if field:
        assert field in response.json()["details"]
    assert position(api, round_id) == before


def test_the_ready_2020_round_loads_from_the_command_line_once(world, system):
    from click.testing import CliRunner

    from kjfp.cli import main

    api = world["api"]
    result = CliRunner().invoke(
        main, ["award-round", "load", "2020", "--url", api.base, "--token", api.token()]
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.strip().splitlines()[-1] == world["round"]
    )  # configured already: the same round


def test_an_auditor_replaying_every_log_finds_the_views_as_they_are(world, system):
    """Issue 7: the auditor's replay of this scenario's logs equals its live views, and names
    the one field of the one nomination someone edited by hand."""
    settings, live = embedded_parts(system[0])
    assert_replay_equals_views_and_catches_a_hand_edit(settings, live, None, "awards_nominations")
