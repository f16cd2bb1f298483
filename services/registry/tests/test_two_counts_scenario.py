"""Issue 3's acceptance scenario, as a story of one province (山东: cities 临沂 and 济南) and one
national society (中国农学会), told through the registry's commands and read back as the 两数 at
three dates for every unit level and nationally; then audited from the raw log. Event store:
embedded SQLite; views: MongoDB over real pymongo (the stand-in, or MONGO_URI)."""

import json

import pytest
from click.testing import CliRunner

from kernel.errors import Conflict
from kernel.projection import ProjectionRunner
from kjfp.cli import main
from kjfp.sample_data import id_number
from services.registry import queries
from services.registry.domain import METRICS
from services.registry.projection import HOUSEHOLDS, TwoCountsProjection
from services.registry.tests.forms import expert_form, household_form, pairing_form

YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}
LANSHAN = {"province": "山东", "city": "临沂", "county": "兰山"}
LIXIA = {"province": "山东", "city": "济南", "county": "历下"}
SHANDONG, SOCIETY = "province:山东", "society:中国农学会"
D1, D2, D3 = "2019-06-30", "2020-06-30", "2020-12-31"


def credit_code(serial):
    from stdnum.cn import uscc

    body = f"51371321MJ{serial:07d}"
    return body + uscc.calc_check_digit(body)


def organisation(app, serial, kind, location, date, unit=SHANDONG):
    return app.register_association(
        name=f"农技协{serial}",
        credit_code=credit_code(serial),
        kind=kind,
        level="county",
        unit=unit,
        location=location,
        supported_by="县科协",
        effective_date=date,
    )


@pytest.fixture
def story(app):
    organisation(app, 1, "federation", YINAN, "2019-03-01")  # F1
    organisation(app, 2, "association", YINAN, "2019-03-01")  # A1
    organisation(app, 3, "association", LANSHAN, "2020-01-10")  # A2
    a3 = organisation(app, 4, "association", LIXIA, "2019-05-01")  # A3, revoked
    organisation(app, 5, "association", YINAN, "2020-02-01", unit=SOCIETY)  # A4
    app.revoke("association", a3.credit_code, "材料不实", "2020-03-01")

    zhao_id = id_number("370102", "19960101", "033")
    e1 = app.register_expert(**expert_form(location=YINAN, effective_date="2019-01-10"))
    e2 = app.register_expert(
        **expert_form(
            name="李秀英",
            id_number=id_number("371302", "19970805", "022"),
            location=LANSHAN,
            effective_date="2020-01-15",
        )
    )
    e3 = app.register_expert(
        **expert_form(name="赵刚", id_number=zhao_id, location=LIXIA, effective_date="2019-02-01")
    )
    e4 = app.register_expert(
        **expert_form(
            name="陈农",
            id_number=id_number("110105", "19950101", "044"),
            unit=SOCIETY,
            location=YINAN,
            effective_date="2019-04-01",
        )
    )
    with pytest.raises(Conflict):  # the same person again: refused, not recorded
        app.register_expert(**expert_form(name="王建國", effective_date="2019-02-01"))

    people = {
        "H1": (YINAN, 4),
        "H2": (YINAN, 3),
        "H3": (LANSHAN, 5),
        "H4": (LIXIA, 2),
        "H5": (YINAN, 6),
    }
    for _n, (key, (location, size)) in enumerate(people.items(), start=1):
        app.register_household(
            **household_form(code(key), people=size, location=location, effective_date="2019-01-05")
        )

    span = dict(start="2019-03-01", end="2021-12-31")
    app.file_pairing(
        **pairing_form(str(e1.id), [code("H1"), code("H2")], effective_date="2019-03-01", **span)
    )
    app.file_pairing(**pairing_form(str(e2.id), [code("H3")], effective_date="2020-02-01", **span))
    app.file_pairing(**pairing_form(str(e3.id), [code("H4")], effective_date="2019-06-01", **span))
    app.file_pairing(**pairing_form(str(e4.id), [code("H1")], effective_date="2019-05-01", **span))

    app.revoke("expert", e3.id, "非本省专家", "2020-05-01")
    app.register_expert(
        **expert_form(
            name="赵刚",
            id_number=zhao_id,
            unit=SOCIETY,
            location=LIXIA,
            effective_date="2020-05-01",
        )
    )  # the same person, now the society's

    app.lift_out(code("H1"), "2020-06-01", 4, "2020-06-01")
    app.lift_out(code("H3"), "2020-10-01", 4, "2020-10-01")
    app.correct("household", code("H2"), {"people": 2}, "人口核减", "2020-08-01")
    app.set_targets(
        SHANDONG, 2020, {"experts": 4, "households_paired": 6, "people_lifted": 16}, "2020-01-01"
    )
    return app


def code(key):
    return f"3713000000{key[1:]:0>2}"


#          federations, associations, experts, households_paired, people_in_paired, households_lifted, people_lifted
EXPECTED = {
    SHANDONG: {D1: (1, 2, 2, 3, 9, 0, 0), D2: (1, 2, 2, 3, 12, 1, 4), D3: (1, 2, 2, 3, 11, 2, 8)},
    "city:山东/临沂": {
        D1: (1, 1, 1, 2, 7, 0, 0),
        D2: (1, 2, 2, 3, 12, 1, 4),
        D3: (1, 2, 2, 3, 11, 2, 8),
    },
    "county:山东/临沂/沂南": {
        D1: (1, 1, 1, 2, 7, 0, 0),
        D2: (1, 1, 1, 2, 7, 1, 4),
        D3: (1, 1, 1, 2, 6, 1, 4),
    },
    "county:山东/临沂/兰山": {
        D1: (0, 0, 0, 0, 0, 0, 0),
        D2: (0, 1, 1, 1, 5, 0, 0),
        D3: (0, 1, 1, 1, 5, 1, 4),
    },
    "city:山东/济南": {
        D1: (0, 1, 1, 1, 2, 0, 0),
        D2: (0, 0, 0, 0, 0, 0, 0),
        D3: (0, 0, 0, 0, 0, 0, 0),
    },
    SOCIETY: {D1: (0, 0, 1, 1, 4, 0, 0), D2: (0, 1, 2, 1, 4, 1, 4), D3: (0, 1, 2, 1, 4, 1, 4)},
    "national": {D1: (1, 2, 3, 3, 9, 0, 0), D2: (1, 3, 4, 3, 12, 1, 4), D3: (1, 3, 4, 3, 11, 2, 8)},
}
CASES = [(unit, date) for unit, by_date in EXPECTED.items() for date in by_date]


@pytest.fixture
def views(story, mongo_db):
    ProjectionRunner(story, mongo_db, TwoCountsProjection()).run()
    return mongo_db


@pytest.mark.parametrize("unit, as_of", CASES)
def test_every_metric_for_every_unit_at_three_dates(views, unit, as_of):
    counts = queries.two_counts(views, unit, as_of)
    assert tuple(counts[m] for m in METRICS) == EXPECTED[unit][as_of]


def test_explain_lists_exactly_the_records_counted(views, story):
    last = story.recorder.max_notification_id()
    for unit, as_of in CASES:
        for metric in METRICS:
            explained = queries.explain(views, unit, metric, as_of)
            assert explained["figure"] == EXPECTED[unit][as_of][METRICS.index(metric)], (
                unit,
                as_of,
                metric,
            )
            if metric.startswith("people"):
                key = "people" if metric == "people_in_paired_households" else "lifted_people"
                assert sum(r[key] for r in explained["records"]) == explained["figure"]
            else:
                assert len(explained["records"]) == explained["figure"]
            for record in explained["records"]:
                assert record["positions"] and all(1 <= p <= last for p in record["positions"])
    paired = sorted(
        queries.explain(views, SHANDONG, "households_paired", D3)["records"],
        key=lambda r: r["code"],
    )
    assert [r["code"] for r in paired] == [code("H1"), code("H2"), code("H3")]
    assert [r["people"] for r in paired] == [4, 2, 5]  # H2 as corrected on 2020-08-01
    experts = queries.explain(views, "national", "experts", D2)["records"]
    assert sorted(e["name"] for e in experts) == ["李秀英", "王建国", "赵刚", "陈农"]
    assert all("*" in e["id_number"] for e in experts)


def test_explained_positions_are_the_events_of_those_records(views, story):
    record = queries.explain(views, SHANDONG, "households_lifted", D3)["records"][0]
    topics = [
        story.mapper.to_domain_event(n).__class__.__name__
        for n in story.recorder.select_notifications(start=1, limit=1000)
        if n.id in record["positions"]
    ]
    # H1 was paired by the province's expert and by the society's; only the province's pairing
    # stands behind the province's figure.
    assert topics == ["HouseholdRegistered", "HouseholdPaired", "HouseholdLiftedOut"]


def test_targets_give_completion_ratios_for_their_year(views):
    counts = queries.two_counts(views, SHANDONG, D3)
    assert counts["targets"]["experts"] == 4
    assert counts["completion"] == {
        **{m: None for m in METRICS},
        "experts": 0.5,
        "households_paired": 0.5,
        "people_lifted": 0.5,
    }
    assert (
        queries.two_counts(views, SHANDONG, D1)["completion"]["experts"] is None
    )  # no 2019 targets
    assert counts["definitions"]["2017"] == {
        "organisations": 3,
        "experts": 2,
        "households_paired": 3,
        "people_in_paired_households": 11,
    }
    assert counts["definitions"]["2020"] == {"organisations": 3, "experts": 2, "people_lifted": 8}


def test_replaying_the_log_into_empty_views_reproduces_every_figure(views, story):
    before = {(u, d): queries.two_counts(views, u, d) for u, d in CASES}
    ProjectionRunner(story, views, TwoCountsProjection()).rebuild()
    assert {(u, d): queries.two_counts(views, u, d) for u, d in CASES} == before


def test_service_hours_sum_an_experts_logged_hours_and_days_per_year(app, mongo_db):
    from services.registry.tests.forms import expert_form as form

    expert = app.register_expert(**form(effective_date="2020-01-06"))
    app.register_household(**household_form(code("H1")))
    app.file_pairing(
        **pairing_form(str(expert.id), [code("H1")], start="2020-02-01", end="2021-06-30")
    )
    for day, hours in (
        ("2020-03-01", 4),
        ("2020-03-01", 2.5),
        ("2020-04-02", 8),
        ("2021-01-05", 3),
    ):
        app.log_service(
            expert_id=str(expert.id),
            date=day,
            place="西岭村",
            form="田间指导",
            content="修剪",
            participants=10,
            hours=hours,
            effective_date="2021-02-01",
        )
    ProjectionRunner(app, mongo_db, TwoCountsProjection()).run()

    assert queries.service_hours(mongo_db, str(expert.id), 2020) == {
        "expert_id": str(expert.id),
        "year": 2020,
        "hours": 14.5,
        "days": 2,
        "entries": 3,
    }
    assert queries.service_hours(mongo_db, str(expert.id), 2021)["hours"] == 3


def audit(tmp_path, *args):
    """``kjfp audit`` over this story's SQLite log, in the test's directory (no service running)."""
    return CliRunner().invoke(main, ["audit", "--data-dir", str(tmp_path / "data"), *args])


def test_an_auditor_replays_the_log_into_views_equal_to_the_live_ones(views, story, tmp_path):
    """Issue 7: ``kjfp audit replay`` rebuilds the 两数 views from the raw log and compares them
    with the live ones on MongoDB: equal; after one household's people are edited by hand, the
    replay names exactly that and fails."""
    uri, db = views.client.address, views.name
    replay = ["replay", "registry", "--mongo-uri", f"mongodb://{uri[0]}:{uri[1]}", "--views-db", db]
    result = audit(tmp_path, *replay)
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == f"registry: views equal the replay (registry.two_counts at {story.recorder.max_notification_id()})\n"
    )

    views[HOUSEHOLDS].update_one({"_id": code("H2")}, {"$set": {"people": 30}})
    result = audit(tmp_path, *replay)
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        f"  registry_households {code('H2')}: people: live 30, replayed 2"
    ]


def test_explain_from_the_log_alone_names_the_records_and_their_events(views, story, tmp_path):
    result = audit(
        tmp_path, "explain", "--unit", SHANDONG, "--metric", "households_paired", "--as-of", D3
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.output)
    live = queries.explain(views, SHANDONG, "households_paired", D3)
    assert (explained["figure"], explained["records"]) == (
        live["figure"],
        live["records"],
    ) and explained["figure"] == 3
    positions = sorted({p for record in live["records"] for p in record["positions"]})
    assert [e["position"] for e in explained["events"]] == positions
    assert {e["type"] for e in explained["events"]} >= {"HouseholdRegistered", "HouseholdPaired"}
    assert "19980101" not in result.output  # the heads' ID numbers stay masked
    assert explained["logs"]["registry"]["position"] == story.recorder.max_notification_id()


def test_explain_refuses_an_unknown_metric_naming_it(story, tmp_path):
    result = audit(tmp_path, "explain", "--unit", SHANDONG, "--metric", "smiles", "--as-of", D3)
    assert result.exit_code == 2
    assert "metric" in result.output and "smiles" in result.output


def test_explain_from_the_log_streams_the_records_as_csv(views, story, tmp_path):
    """Issue 14: ``kjfp audit explain --csv`` gives the same lines as the API's format=csv."""
    result = audit(
        tmp_path, "explain", "--unit", SHANDONG, "--metric", "people_lifted", "--as-of", D3, "--csv"
    )
    assert result.exit_code == 0, result.output
    live = queries.explain_records(views, SHANDONG, "people_lifted", D3)
    assert result.output == "".join(queries.csv_lines("people_lifted", live))
    assert (
        result.output.splitlines()[0].startswith("code,")
        and len(result.output.splitlines()) == 1 + 2
    )
