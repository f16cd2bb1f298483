"""Issue 5's acceptance scenario over HTTP, on the embedded system (in-process memory://
transport, SQLite, the embedded view store): Shandong's expert service action, loaded by the CLI, runs in two
cities — 莱芜 (5 places) fills its quota, 临沂 does not — through the whole chain, with
rejections at two levels, a unit refused a training project, a fully budget-funded unit's
popularisation project that is never paid, payments, a duplicate payment paid once, and the
summary that feeds item 11 of the statistics table. Then: the views rebuilt from the log are
identical, jurisdiction is enforced, bad input names its field."""

import subprocess

import pytest
from nameko.testing.utils import get_container

from kjfp.sample_data import id_number
from services.funding.projection import PROJECTS, FundingProjection
from services.funding.service import FundingService
from services.registry.tests.forms import expert_form
from services.supervision.tests.forms import campaign_2016, declaring_all, self_inspection
from tests.auditing import assert_replay_equals_views_and_catches_a_hand_edit, embedded_parts
from tests.http_client import start_system
from tests.infrastructure import PYTHON, ROOT

CHAIN = [
    "applicant_unit",
    "county_poverty_office",
    "county_association",
    "city_association",
    "provincial_association",
]
GANGCHENG, YINAN = "county:山东/莱芜/钢城", "county:山东/临沂/沂南"


class Actors:
    def __init__(self, api):
        self.api = api
        self.province = api.token("provincial_office", "province:山东")
        self.county = {
            GANGCHENG: api.token("county_association", GANGCHENG),
            YINAN: api.token("county_association", YINAN),
        }
        self.city = {
            GANGCHENG: api.token("county_association", "city:山东/莱芜"),
            YINAN: api.token("county_association", "city:山东/临沂"),
        }

    def reviewer(self, level, region):
        return {"city_association": self.city[region], "provincial_association": self.province}.get(
            level, self.county[region]
        )


def load_shandong(api, actors):
    """The Shandong programme loaded as an office loads it (``kjfp programme load``): its id."""
    loaded = subprocess.run(
        [
            PYTHON,
            "-m",
            "kjfp.cli",
            "programme",
            "load",
            "shandong",
            "--url",
            api.base,
            "--token",
            actors.province,
            "--effective-date",
            "2016-03-01",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    return loaded.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    service_runner, api = start_system(tmp_path_factory.mktemp("funding"))
    actors = Actors(api)
    programme_id = load_shandong(api, actors)
    yield api, actors, programme_id, service_runner
    service_runner.stop()


def register_expert(api, n, city, county):
    account = f"62220202001122{n:05d}"
    reply = api.post(
        "/experts",
        expert_form(
            name=f"专家{n}",
            id_number=id_number("371321", "19960101", f"{n:03d}"),
            phone=f"138000{n:05d}",
            location={"province": "山东", "city": city, "county": county},
            bank_account=account,
            effective_date="2016-01-10",
        ),
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["id"], account


def apply(api, actors, programme_id, region, applicant, kind="industry", **extra):
    body = {
        "programme_id": programme_id,
        "applicant": applicant,
        "kind": kind,
        "region": region,
        "villages": ["西岭村", "东岭村"],
        "content": "果树技术服务，每月入村两次",
        "year": 2016,
        "effective_date": "2016-04-01",
        **extra,
    }
    return api.post("/projects", body, token=actors.county[region])


def review(api, actors, project, level, decision="approve", comment="同意", on="2016-04-10"):
    return api.post(
        f"/projects/{project['id']}/reviews",
        {"level": level, "decision": decision, "comment": comment, "effective_date": on},
        token=actors.reviewer(level, project["region"]),
    )


def take_effect(api, actors, project):
    for level in CHAIN:
        assert review(api, actors, project, level).status_code == 201
    assert (
        api.post(
            f"/projects/{project['id']}/publicize",
            {"effective_date": "2016-05-01"},
            token=actors.province,
        ).status_code
        == 200
    )
    confirmed = api.post(
        f"/projects/{project['id']}/confirm",
        {"effective_date": "2016-05-08"},
        token=actors.province,
    )
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()


def pay(api, actors, project_id, account, year=2016, amount_fen=400_000, key=None, on="2016-06-01"):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(
        "/disbursements",
        {
            "project_id": project_id,
            "year": year,
            "amount_fen": amount_fen,
            "account": account,
            "effective_date": on,
        },
        token=actors.province,
        headers=headers,
    )


@pytest.fixture(scope="module")
def scenario(world):
    api, actors, programme_id, _ = world
    summary_before = api.get("/funding/summary", params={"unit": "province:山东"}).json()
    story = {"programme_id": programme_id, "summary_before": summary_before, "paid": []}

    # 莱芜: six experts apply; five projects take the city's five places, the sixth finds none.
    laiwu = []
    for n in range(1, 7):
        expert_id, account = register_expert(api, n, "莱芜", "钢城")
        project = apply(
            api, actors, programme_id, GANGCHENG, {"type": "individual", "expert_id": expert_id}
        )
        assert project.status_code == 201, project.text
        laiwu.append((take_effect(api, actors, project.json()), account))
    for project, account in laiwu[:5]:
        paid = pay(api, actors, project["id"], account, key=f"pay-{project['id']}-2016")
        assert paid.status_code == 201, paid.text
        story["paid"].append(paid.json())
    story["quota_refusal"] = pay(api, actors, laiwu[5][0]["id"], laiwu[5][1])

    # The duplicate: the same request again (same key) returns the first payment; without a key
    # it is refused by the year's cap. Either way it is paid once.
    first_project, first_account = laiwu[0]
    story["retried"] = pay(
        api, actors, first_project["id"], first_account, key=f"pay-{first_project['id']}-2016"
    )
    story["duplicate"] = pay(api, actors, first_project["id"], first_account)

    # 临沂: one rejected by the county poverty office, one by the city association, one paid.
    yinan_expert, yinan_account = register_expert(api, 11, "临沂", "沂南")
    rejected = []
    for refusing_level in ("county_poverty_office", "city_association"):
        project = apply(
            api, actors, programme_id, YINAN, {"type": "individual", "expert_id": yinan_expert}
        ).json()
        for level in CHAIN[: CHAIN.index(refusing_level)]:
            assert review(api, actors, project, level).status_code == 201
        refusal = review(api, actors, project, refusing_level, "reject", "帮扶村不是建档立卡贫困村")
        assert refusal.status_code == 201 and refusal.json()["status"] == "rejected"
        rejected.append(refusal.json())
    story["rejected"] = rejected
    story["after_rejection"] = review(api, actors, rejected[0], "county_association")
    linyi = take_effect(
        api,
        actors,
        apply(
            api, actors, programme_id, YINAN, {"type": "individual", "expert_id": yinan_expert}
        ).json(),
    )
    story["wrong_account"] = pay(api, actors, linyi["id"], "6222020200199999999")
    linyi_paid = pay(api, actors, linyi["id"], yinan_account)
    assert linyi_paid.status_code == 201, linyi_paid.text
    story["paid"].append(linyi_paid.json())
    story["linyi"] = linyi

    # Units: refused a training project; a fully budget-funded unit's 科普 project is never paid.
    story["unit_training"] = apply(
        api,
        actors,
        programme_id,
        YINAN,
        {"type": "unit", "unit_name": "沂南县农业局"},
        kind="training",
    )
    museum = apply(
        api,
        actors,
        programme_id,
        YINAN,
        {"type": "unit", "unit_name": "山东省科技馆", "fully_budget_funded": True},
        kind="popularisation",
    )
    assert museum.status_code == 201, museum.text
    assert museum.json()["subsidised"] is False
    story["museum"] = take_effect(api, actors, museum.json())
    story["museum_payment"] = pay(api, actors, story["museum"]["id"], "11001234567890")
    return api, actors, story


def test_the_sixth_project_in_laiwu_finds_no_place(scenario):
    _, _, story = scenario
    refusal = story["quota_refusal"]
    assert refusal.status_code == 422
    assert refusal.json()["details"] == {"quota": ["city:山东/莱芜: all 5 places are taken"]}


def test_a_duplicate_payment_is_paid_once(scenario):
    _, _, story = scenario
    assert story["retried"].status_code == 201 and story["retried"].json() == story["paid"][0]
    assert story["duplicate"].status_code == 422
    assert list(story["duplicate"].json()["details"]) == ["amount_fen"]


def test_rejections_at_two_levels_end_the_review(scenario):
    _, _, story = scenario
    assert [r["reviews"][-1]["level"] for r in story["rejected"]] == [
        "county_poverty_office",
        "city_association",
    ]
    assert story["after_rejection"].status_code == 422


def test_units_are_refused_training_projects_and_the_fully_budget_funded_are_not_paid(scenario):
    _, _, story = scenario
    assert story["unit_training"].status_code == 422
    assert list(story["unit_training"].json()["details"]) == ["applicant.type"]
    assert story["museum_payment"].status_code == 422
    assert story["museum_payment"].json()["details"] == {
        "project_id": [
            "a fully budget-funded unit's popularisation project is not subsidised again"
        ]
    }


def test_money_goes_only_to_the_registered_account_and_is_shown_masked(scenario):
    _, _, story = scenario
    assert story["wrong_account"].status_code == 422
    assert story["wrong_account"].json()["details"] == {
        "account": ["not the expert's registered account"]
    }
    assert all("*" in p["account"] for p in story["paid"])


def test_the_summary_feeds_item_11(scenario):
    api, _, story = scenario
    assert story["summary_before"]["quota"] == {"total": 240, "used": 0, "left": 240}

    shandong = api.get("/funding/summary", params={"unit": "province:山东", "year": 2016}).json()
    laiwu = api.get("/funding/summary", params={"unit": "city:山东/莱芜"}).json()
    linyi = api.get(
        "/funding/summary", params={"unit": "city:山东/临沂", "as_of": "2016-05-31"}
    ).json()

    # 莱芜 6 + 临沂 1 + the museum are approved; 6 payments of 4,000 yuan = 2.4 万元
    assert (
        shandong["approved_projects"],
        shandong["disbursed_fen"],
        shandong["disbursed_wan"],
    ) == (8, 2_400_000, 2.4)
    assert shandong["quota"] == {"total": 240, "used": 6, "left": 234}
    assert (
        laiwu["quota"] == {"total": 5, "used": 5, "left": 0} and laiwu["disbursed_fen"] == 2_000_000
    )
    assert (linyi["approved_projects"], linyi["disbursed_fen"], linyi["quota"]["used"]) == (2, 0, 0)
    assert shandong["positions"]["funding"] > 0


def test_a_project_shows_its_history_and_each_payment_the_events_it_rests_on(scenario):
    api, _, story = scenario
    record = api.get(f"/projects/{story['linyi']['id']}").json()

    assert [h["type"] for h in record["history"]] == (
        ["ProjectApplied"]
        + ["ProjectReviewed"] * 5
        + ["ProjectApproved", "ProjectPublicized", "ProjectConfirmed"]
    )
    positions = {h["type"]: h["position"] for h in record["history"]}
    payment = record["disbursements"][0]
    assert payment["approved_position"] == positions["ProjectApproved"]
    assert payment["publicized_position"] == positions["ProjectPublicized"]
    assert payment["confirmed_position"] == positions["ProjectConfirmed"] < payment["position"]
    assert payment["account"].startswith("6222") and "*" in payment["account"]


def test_rebuilding_the_funding_views_from_the_log_gives_identical_documents(scenario, world):
    api, service_runner = scenario[0], world[3]
    container = get_container(service_runner, FundingService)
    funding = next(d for d in container.dependencies if d.attr_name == "parts").parts
    summary = api.get("/funding/summary", params={"unit": "national"}).json()
    before = dump(funding.views)

    funding.rebuild()

    assert dump(funding.views) == before and before[PROJECTS]
    assert api.get("/funding/summary", params={"unit": "national"}).json() == summary


def dump(views):
    return {
        name: sorted(views[name].find({}), key=lambda d: d["_id"])
        for name in FundingProjection.collections
    }


def test_writers_act_only_inside_their_jurisdiction_and_level(scenario):
    api, actors, story = scenario
    museum = story["museum"]
    hebei = api.token("provincial_office", "province:河北")
    project = apply(
        api,
        actors,
        story["programme_id"],
        YINAN,
        {"type": "unit", "unit_name": "沂南县科协"},
        kind="popularisation",
    ).json()
    before = api.get(f"/projects/{project['id']}").json()["positions_at"]

    refusals = {
        "auditor applies": api.post(
            "/projects",
            {
                "programme_id": story["programme_id"],
                "applicant": {"type": "unit", "unit_name": "某单位"},
                "kind": "popularisation",
                "region": YINAN,
                "villages": ["西岭村"],
                "content": "科普",
                "year": 2016,
                "effective_date": "2016-04-01",
            },
            token=api.token("auditor", "national"),
        ),
        "another county applies": api.post(
            "/projects",
            {
                "programme_id": story["programme_id"],
                "applicant": {"type": "unit", "unit_name": "某单位"},
                "kind": "popularisation",
                "region": YINAN,
                "villages": ["西岭村"],
                "content": "科普",
                "year": 2016,
                "effective_date": "2016-04-01",
            },
            token=actors.county[GANGCHENG],
        ),
        "a city body reviews a county level": api.post(
            f"/projects/{project['id']}/reviews",
            {"level": "applicant_unit", "decision": "approve"},
            token=actors.city[YINAN],
        ),
        "another county reviews": api.post(
            f"/projects/{project['id']}/reviews",
            {"level": "applicant_unit", "decision": "approve"},
            token=actors.county[GANGCHENG],
        ),
        "another province pays": api.post(
            "/disbursements",
            {
                "project_id": museum["id"],
                "year": 2016,
                "amount_fen": 400_000,
                "account": "11001234567890",
            },
            token=hebei,
        ),
        "a county publicizes": api.post(
            f"/projects/{project['id']}/publicize", {}, token=actors.county[YINAN]
        ),
        "another province configures Shandong's programme": api.post(
            "/programmes", {**programme_body(), "unit": "province:山东"}, token=hebei
        ),
    }

    assert {what: r.status_code for what, r in refusals.items()} == {what: 403 for what in refusals}
    assert api.get(f"/projects/{project['id']}").json()["positions_at"] == before


def programme_body():
    from services.funding.programmes import PILOT

    return dict(PILOT)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/programmes", {**programme_body(), "notice_days": 0}, "notice_days"),
        ("/programmes", {**programme_body(), "quotas": {"山东": 3}}, "quotas"),
        (
            "/programmes",
            {**programme_body(), "subsidy_fen_per_project_year": "4000"},
            "subsidy_fen_per_project_year",
        ),
        (
            "/programmes",
            {**programme_body(), "approval_levels": ["provincial_office", "mystery"]},
            "level_scopes",
        ),
        (
            "/projects",
            {
                "programme_id": "x",
                "applicant": {"type": "individual"},
                "kind": "industry",
                "region": YINAN,
                "villages": ["西岭村"],
                "content": "c",
                "year": 2016,
            },
            "applicant.expert_id",
        ),
        (
            "/projects",
            {
                "programme_id": "x",
                "applicant": {"type": "unit", "unit_name": "u"},
                "kind": "farming",
                "region": YINAN,
                "villages": ["西岭村"],
                "content": "c",
                "year": 2016,
            },
            "kind",
        ),
        (
            "/disbursements",
            {
                "project_id": "x",
                "year": 2016,
                "amount_fen": 4000.5,
                "account": "6222020200112233445",
            },
            "amount_fen",
        ),
        (
            "/disbursements",
            {
                "project_id": "x",
                "year": 2016,
                "amount_fen": 400000,
                "account": "6222020200112233445",
                "memo": "?",
            },
            "memo",
        ),
        (
            "/disbursements",
            {
                "project_id": "x",
                "year": 2016,
                "amount_fen": 400000,
                "account": "6222020200112233445",
                "effective_date": "2999-01-01",
            },
            "effective_date",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_records_nothing(world, path, body, field):
    api = world[0]
    before = api.get("/funding/summary", params={"unit": "national"}).json()["positions"]

    refused = api.post(path, body)

    assert refused.status_code == 400, refused.text
    assert any(name == field or name.startswith(field + ".") for name in refused.json()["details"])
    assert api.get("/funding/summary", params={"unit": "national"}).json()["positions"] == before


def test_the_summary_query_and_openapi_name_the_funding_paths(world):
    api = world[0]
    assert api.get("/funding/summary", params={"unit": "city:临沂"}).json()["details"].keys() == {
        "unit"
    }
    paths = api.get("/openapi.json").json()["paths"]
    assert {
        "/programmes",
        "/projects",
        "/projects/{project_id}/reviews",
        "/disbursements",
        "/funding/summary",
    } <= set(paths)


def test_the_statistics_table_takes_item_11_from_the_funding_ledger(scenario):
    """Across services: supervision asks funding for the 万元 disbursed up to the cut-off."""
    api, actors, _ = scenario
    campaign = api.post("/campaigns", campaign_2016())
    assert campaign.status_code == 201, campaign.text
    report = declaring_all(
        self_inspection("province:山东", "2017-01-05", experts=7, project_funds_wan=3.0)
    )
    filed = api.post(
        f"/campaigns/{campaign.json()['id']}/self-inspections", report, token=actors.province
    )
    assert filed.status_code == 201, filed.text

    table = api.get(
        f"/campaigns/{campaign.json()['id']}/statistics-table", params={"unit": "province:山东"}
    ).json()

    funds = table["items"][10]
    assert (funds["no"], funds["available"], funds["declared"], funds["registered"]) == (
        11,
        True,
        3.0,
        2.4,
    )
    assert table["discrepancies"] == [11] and table["positions"]["funding"] > 0


def test_an_auditor_replaying_every_log_finds_the_views_as_they_are(scenario, world):
    """Issue 7: the auditor's replay of this scenario's logs equals its live views, and names
    the one field of the one disbursement someone edited by hand."""
    settings, live = embedded_parts(world[3])
    assert_replay_equals_views_and_catches_a_hand_edit(
        settings, live, None, "funding_disbursements"
    )
