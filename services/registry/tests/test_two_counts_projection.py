"""The 两数 projection over real pymongo (the MongoDB stand-in, or MONGO_URI): figures are right,
re-processing changes nothing, a rebuild is identical, and a crash between the view write and
the tracking write does not double count. Events come from the embedded SQLite event store."""

import pytest

from kernel.projection import TRACKING, ProjectionRunner
from kjfp.sample_data import id_number
from services.registry import queries
from services.registry.projection import TwoCountsProjection
from services.registry.tests.forms import expert_form, household_form, pairing_form

LANSHAN = {"province": "山东", "city": "临沂", "county": "兰山"}


@pytest.fixture
def province(app):
    """Two Shandong experts (plus one of a national society), five households, pairings
    across units: one household is paired by both a provincial and a society expert."""
    wang = app.register_expert(**expert_form(effective_date="2020-01-06"))
    li = app.register_expert(
        **expert_form(
            name="李秀英",
            gender="female",
            id_number=id_number("371302", "19970805", "022"),
            location=LANSHAN,
            effective_date="2020-03-01",
        )
    )
    society = app.register_expert(
        **expert_form(
            name="陈农",
            id_number=id_number("110105", "19950101", "033"),
            unit="society:中国农学会",
            effective_date="2020-01-06",
        )
    )
    people = {
        "371321000001": 4,
        "371321000002": 3,
        "371321000003": 5,
        "371302000004": 2,
        "371302000005": 6,
    }
    for code, n in people.items():
        location = (
            LANSHAN
            if code.startswith("371302")
            else {"province": "山东", "city": "临沂", "county": "沂南"}
        )
        app.register_household(**household_form(code, people=n, location=location))
    app.file_pairing(**pairing_form(str(wang.id), ["371321000001", "371321000002"]))
    app.file_pairing(
        **pairing_form(str(li.id), ["371302000004", "371321000003"], effective_date="2020-06-01")
    )
    app.file_pairing(**pairing_form(str(society.id), ["371321000001"]))
    return app


def figures(views, unit, as_of="2020-12-31"):
    counts = queries.two_counts(views, unit, as_of)
    return {k: counts[k] for k in ("experts", "households_paired", "people_in_paired_households")}


def test_figures_per_unit_and_date(province, mongo_db):
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()

    assert figures(mongo_db, "province:山东") == {
        "experts": 2,
        "households_paired": 4,
        "people_in_paired_households": 4 + 3 + 5 + 2,
    }
    assert figures(mongo_db, "province:山东", "2020-02-15") == {
        "experts": 1,
        "households_paired": 2,
        "people_in_paired_households": 7,
    }
    assert figures(mongo_db, "society:中国农学会") == {
        "experts": 1,
        "households_paired": 1,
        "people_in_paired_households": 4,
    }
    # Nationally the household paired by both units counts once, and each person once.
    assert figures(mongo_db, "national") == {
        "experts": 3,
        "households_paired": 4,
        "people_in_paired_households": 14,
    }
    # Drill-down: the province's figures narrowed to where the records are.
    assert figures(mongo_db, "county:山东/临沂/兰山") == {
        "experts": 1,
        "households_paired": 1,
        "people_in_paired_households": 2,
    }
    assert figures(mongo_db, "city:山东/临沂")["households_paired"] == 4
    assert figures(mongo_db, "province:山东", "2019-12-31") == {
        "experts": 0,
        "households_paired": 0,
        "people_in_paired_households": 0,
    }


def test_processing_the_same_events_twice_gives_the_same_figures(province, mongo_db):
    runner = ProjectionRunner(province, mongo_db, TwoCountsProjection())
    runner.run()
    once = figures(mongo_db, "national")
    mongo_db[TRACKING].delete_many({})  # forget the position: every event is delivered again
    runner.run()
    assert figures(mongo_db, "national") == once
    assert mongo_db["registry_pairings"].count_documents({}) == 2 + 2 + 1


def test_a_rebuild_from_scratch_gives_identical_views(province, mongo_db):
    runner = ProjectionRunner(province, mongo_db, TwoCountsProjection())
    runner.run()
    before = {
        name: sorted(mongo_db[name].find(), key=lambda d: d["_id"])
        for name in TwoCountsProjection.collections
    }
    assert runner.rebuild() == province.recorder.max_notification_id()
    after = {
        name: sorted(mongo_db[name].find(), key=lambda d: d["_id"])
        for name in TwoCountsProjection.collections
    }
    assert after == before


def test_a_crash_between_view_write_and_tracking_write_does_not_double_count(province, mongo_db):
    crashing = ProjectionRunner(province, mongo_db, TwoCountsProjection(), batch_size=7)

    def crash(position):
        raise SystemExit("killed after the views were written, before the position was")

    crashing._track = crash
    with pytest.raises(SystemExit):
        crashing.run()
    assert (mongo_db[TRACKING].find_one({"_id": TwoCountsProjection.name}) or {}).get(
        "position", 0
    ) == 0

    restarted = ProjectionRunner(province, mongo_db, TwoCountsProjection(), batch_size=7)
    assert restarted.run() == province.recorder.max_notification_id()
    assert figures(mongo_db, "national") == {
        "experts": 3,
        "households_paired": 4,
        "people_in_paired_households": 14,
    }


def test_views_hold_no_personal_numbers_in_clear(province, mongo_db):
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()
    clear = expert_form()["id_number"]
    for name in TwoCountsProjection.collections:
        assert clear not in str(list(mongo_db[name].find()))
    doc = mongo_db["registry_experts"].find_one({"name": "王建国"})
    assert doc["id_number_masked"] == clear[:4] + "*" * 10 + clear[-4:]


def test_a_spot_check_frame_holds_the_records_in_force_at_a_log_position(province, mongo_db):
    """Over real pymongo: each record credited to 山东 has an ordinal of its frame, in log order;
    a revocation after the position leaves the record in force in that frame; a record
    registered after it is not there yet; a society's expert is in no province's frame."""
    position = ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()
    wang = next(e for e in mongo_db["registry_experts"].find() if e["name"] == "王建国")
    province.revoke("expert", wang["_id"], reason="调离", effective_date="2020-07-01")
    province.register_household(**household_form("371321000009"))
    now = ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()

    size_then, size_now = (
        queries.frame_size(mongo_db, "山东", position),
        queries.frame_size(mongo_db, "山东", now),
    )
    assert size_now == size_then + 1 == queries.frame_size(mongo_db, "山东", None)
    then = queries.frame_records(mongo_db, "山东", list(range(1, size_now + 1)), position)
    later = queries.frame_records(mongo_db, "山东", list(range(1, size_now + 1)), now)
    expert = f"expert:{wang['_id']}"
    assert [r["in_force"] for r in then.values() if r["record"] == expert] == [True]
    assert [r["in_force"] for r in later.values() if r["record"] == expert] == [False]
    assert "household:371321000009" not in {r["record"] for r in then.values()}
    assert later[size_now]["record"] == "household:371321000009"  # the last to enter
    assert len([r for r in then.values() if r["record"].startswith("household:")]) == 5
    chen = mongo_db["registry_experts"].find_one({"name": "陈农"})
    assert chen["unit"].startswith("society:")
    assert f"expert:{chen['_id']}" not in {r["record"] for r in later.values()}
    assert queries.frame_size(mongo_db, "陕西", now) == 0


def test_a_crash_halfway_through_a_batchs_writes_neither_loses_nor_doubles_a_count(
    province, mongo_db, monkeypatch
):
    """Issue 14: the aggregates hold dated changes, which would double if re-applied. A crash
    after a batch's journal is saved and half its writes are done: the next run re-applies the
    journal (absolute values) and skips the batch's events, so every figure is right once."""
    from kernel import dated_sums

    real = dated_sums._write

    def half_then_crash(views, journal, writes, nonce):
        real(views, "scratch_not_the_journal", writes[: len(writes) // 2], nonce)
        raise SystemExit("killed halfway through the batch's writes")

    monkeypatch.setattr(dated_sums, "_write", half_then_crash)
    with pytest.raises(SystemExit):
        ProjectionRunner(province, mongo_db, TwoCountsProjection(), batch_size=40).run()
    assert mongo_db["registry_journal"].find_one({"_id": "pending"}) is not None
    monkeypatch.setattr(dated_sums, "_write", real)

    ProjectionRunner(province, mongo_db, TwoCountsProjection(), batch_size=40).run()
    assert mongo_db["registry_journal"].find_one({"_id": "pending"}) is None
    assert figures(mongo_db, "national") == {
        "experts": 3,
        "households_paired": 4,
        "people_in_paired_households": 14,
    }
    assert figures(mongo_db, "county:山东/临沂/兰山") == {
        "experts": 1,
        "households_paired": 1,
        "people_in_paired_households": 2,
    }


def test_two_replicas_applying_the_same_log_at_once_count_every_change_once(province, mongo_db):
    """Issue 14: two processes (here two runners in green threads, each switching at every
    MongoDB round trip) catching up the same views from the same log: the dated sums are
    claimed batch by batch, so the figures and documents equal one runner's rebuild."""
    import eventlet

    runners = [
        ProjectionRunner(province, mongo_db, TwoCountsProjection(), batch_size=size)
        for size in (3, 5)
    ]
    for thread in [eventlet.spawn(runner.run) for runner in runners]:
        thread.wait()
    raced = {
        name: sorted(mongo_db[name].find(), key=lambda d: d["_id"])
        for name in ("registry_counts", "registry_membership")
    }
    assert figures(mongo_db, "national") == {
        "experts": 3,
        "households_paired": 4,
        "people_in_paired_households": 14,
    }
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).rebuild()
    assert {name: sorted(mongo_db[name].find(), key=lambda d: d["_id"]) for name in raced} == raced


def test_a_location_correction_counts_from_its_effective_date(province, mongo_db):
    """Issue 14 (DOMAIN: a corrected record leaves the count from the effective date, history
    before stays as it was): a household and an expert moved from 沂南 to 兰山 on 2020-09-01, the
    correction recorded later with that date, count in 沂南 before it and in 兰山 from it."""
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()
    wang = mongo_db["registry_experts"].find_one({"name": "王建国"})["_id"]
    province.correct("household", "371321000003", {"location": LANSHAN}, "迁址", "2020-09-01")
    province.correct("expert", wang, {"location": LANSHAN}, "迁址", "2020-09-01")
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()

    yinan, lanshan = "county:山东/临沂/沂南", "county:山东/临沂/兰山"
    assert figures(mongo_db, yinan, "2020-08-31") == {
        "experts": 1,
        "households_paired": 3,
        "people_in_paired_households": 4 + 3 + 5,
    }
    assert figures(mongo_db, lanshan, "2020-08-31") == {
        "experts": 1,
        "households_paired": 1,
        "people_in_paired_households": 2,
    }
    assert figures(mongo_db, yinan, "2020-09-01") == {
        "experts": 0,
        "households_paired": 2,
        "people_in_paired_households": 4 + 3,
    }
    assert figures(mongo_db, lanshan, "2020-09-01") == {
        "experts": 2,
        "households_paired": 2,
        "people_in_paired_households": 2 + 5,
    }
    moved = queries.explain(mongo_db, lanshan, "households_paired", "2020-09-01")["records"]
    assert [(r["code"], r["location"]["county"]) for r in moved] == [
        ("371302000004", "兰山"),
        ("371321000003", "兰山"),
    ]


def test_a_lift_counts_for_the_units_that_paired_the_household_on_its_day(province, mongo_db):
    """DOMAIN (2020 definition: people lifted out by the paired help): 371321000002, paired by 王建国
    (山东) since 2020-02-01, is lifted out on 2020-07-01 with 3 people. The society pairs it on
    2020-09-01 (help goes on after a lift) and 王建国's registration ends on 2020-10-01: the lift
    stays 山东's and never becomes the society's, though the society counts it as paired."""
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()
    expert = {d["name"]: d["_id"] for d in mongo_db["registry_experts"].find()}
    province.lift_out("371321000002", "2020-07-01", 3, "2020-07-01")
    province.file_pairing(
        **pairing_form(
            expert["陈农"], ["371321000002"], start="2020-09-01", effective_date="2020-09-01"
        )
    )
    province.revoke("expert", expert["王建国"], "调离", "2020-10-01")
    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()

    def lifted(unit, as_of):
        counts = queries.two_counts(mongo_db, unit, as_of)
        return counts["households_lifted"], counts["people_lifted"]

    assert lifted("province:山东", "2020-06-30") == (0, 0)
    for as_of in ("2020-07-01", "2020-09-01", "2020-12-31"):
        assert lifted("province:山东", as_of) == (1, 3)
        assert lifted("county:山东/临沂/沂南", as_of) == (1, 3)
        assert lifted("national", as_of) == (1, 3)
        assert lifted("society:中国农学会", as_of) == (0, 0)
    assert figures(mongo_db, "society:中国农学会")["households_paired"] == 2
    assert figures(mongo_db, "province:山东")["households_paired"] == 2  # 李秀英's, not 王建国's
    explained = queries.explain(mongo_db, "province:山东", "households_lifted", "2020-12-31")
    assert [r["code"] for r in explained["records"]] == ["371321000002"]


def test_a_unit_is_read_under_its_canonical_name_and_an_unknown_one_is_refused(province, mongo_db):
    """Issue 14 with issue 13's units: the figures of ``province:山东省`` are 山东's; a unit no
    division list knows is a refusal naming the field, not an error (an RPC caller skips the
    gateway's schema)."""
    from kernel.errors import ValidationFailed

    ProjectionRunner(province, mongo_db, TwoCountsProjection()).run()
    assert figures(mongo_db, "province:山东省") == figures(mongo_db, "province:山东")
    with pytest.raises(ValidationFailed) as refused:
        queries.two_counts(mongo_db, "province:火星", "2020-12-31")
    assert "unit" in refused.value.details
