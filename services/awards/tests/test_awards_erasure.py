"""Erasure with the chain intact, in awards (issue 16): what a nomination and a commendation hold
of a registered expert (name, ID number, phone) is sealed under the expert's own data key, and
the registry's erasure of the expert, applied here, destroys that key — those fields read
``erased`` in the aggregates, the views and a rebuild; the stored events, a team's nomination and
the round's counts stay as they were. In-process: the embedded SQLite event store, views on the
MongoDB stand-in (or MONGO_URI)."""

import pytest

from kernel.projection import ProjectionRunner
from services.awards.projection import COMMENDATIONS, NOMINATIONS, AwardsProjection
from services.awards.rounds import round_2020
from services.awards.tests.test_award_rules import HOURS, commended
from tests.auditing import raw_states, stored_log

ID_NUMBER, NAME, PHONE = "142301198001011234", "王建国", "13800000001"


@pytest.fixture
def nominated(app):
    round_id = str(app.configure_round(**round_2020()).id)
    commended(app, "e-1")
    app.record_commendation(
        year=2019,
        category="individual",
        unit="province:山西",
        expert_id="e-1",
        name=NAME,
        effective_date="2020-01-10",
    )
    nomination = app.nominate(
        round_id,
        unit="province:山西",
        category="individual",
        # as the service fills it in from the registry's record (registered_nominee)
        form={"expert_id": "e-1", "id_number": ID_NUMBER, "name": NAME, "contact": PHONE},
        evidence={"as_of": "2020-07-01", "hours": HOURS},
        effective_date="2020-07-01",
    )
    return app, round_id, nomination


def test_the_nominees_name_id_number_and_phone_are_sealed_and_erased_with_the_expert(nominated):
    app, round_id, nomination = nominated
    assert not any(
        clear in state for state in raw_states(app) for clear in (NAME, ID_NUMBER, PHONE)
    )
    form = app.get_nomination(nomination.id).form
    assert (form["name"], form["id_number"], form["contact"]) == (NAME, ID_NUMBER, PHONE)
    states_before, _ = stored_log(app)

    app.erase_person("e-1", "registry")

    form = app.get_nomination(nomination.id).form
    assert (form["name"], form["id_number"], form["contact"]) == ("erased",) * 3
    assert form["expert_id"] == "e-1"
    assert app.get_round(round_id).nominations == {
        str(nomination.id): {"unit": "province:山西", "category": "individual"}
    }
    assert stored_log(app)[0][: len(states_before)] == states_before


def test_the_views_show_the_erased_nominee_and_a_rebuild_shows_the_same(nominated, mongo_db):
    app, _, nomination = nominated
    runner = ProjectionRunner(app, mongo_db, AwardsProjection())
    runner.run()
    assert mongo_db[NOMINATIONS].find_one({"_id": str(nomination.id)})["form"]["name"] == NAME

    app.erase_person("e-1", "registry")
    runner.run()

    form = mongo_db[NOMINATIONS].find_one({"_id": str(nomination.id)})["form"]
    assert (form["name"], form["id_number"], form["contact"]) == ("erased",) * 3
    names = {d["year"]: d["name"] for d in mongo_db[COMMENDATIONS].find({"nominee": "expert:e-1"})}
    assert names == {2018: "erased", 2019: "erased"}
    before = {
        name: sorted(mongo_db[name].find({}), key=lambda d: d["_id"])
        for name in AwardsProjection.collections
    }
    runner.rebuild()
    assert {
        name: sorted(mongo_db[name].find({}), key=lambda d: d["_id"])
        for name in AwardsProjection.collections
    } == before
