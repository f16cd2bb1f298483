"""The funding views over real pymongo (the MongoDB stand-in, or MONGO_URI): the summary's
figures per unit level, payments traced to their approvals and publicity, re-processing changes
nothing, and dropping the views and replaying the log gives identical documents."""

import pytest

from kernel.projection import TRACKING, ProjectionRunner
from services.funding import queries
from services.funding.projection import FundingProjection
from services.funding.tests.forms import ACCOUNT, individual, payee, programme_form, project_form
from services.funding.tests.test_funding_application import take_effect


@pytest.fixture
def ledger(app):
    """Shandong: three projects in 临沂 (one paid for 2016 and 2017, one paid in 2016, one
    rejected) and one in 济南 paid in 2017."""
    programme = app.configure_programme(**programme_form())
    pid = str(programme.id)

    def effective(expert_id, region, **kw):
        return take_effect(
            app,
            app.apply(
                **project_form(pid, applicant=individual(expert_id), region=region, **kw),
                expert=payee(expert_id),
            ),
        )

    def pay(project, year, on):
        return app.disburse(
            project_id=str(project.id),
            year=year,
            amount_fen=400_000,
            account=ACCOUNT,
            effective_date=on,
            payee=payee(project.applicant["expert_id"]),
        )

    yinan = effective("e-1", "county:山东/临沂/沂南", until_year=2017)
    lanshan = effective("e-2", "county:山东/临沂/兰山")
    rejected = app.apply(**project_form(pid, applicant=individual("e-4")), expert=payee("e-4"))
    app.review(
        str(rejected.id),
        level="applicant_unit",
        decision="reject",
        comment="材料不全",
        effective_date="2016-04-02",
    )
    pay(yinan, 2016, "2016-06-01")
    pay(lanshan, 2016, "2016-06-02")
    pay(yinan, 2017, "2017-03-01")
    lixia = take_effect(
        app,
        app.apply(
            **project_form(
                pid,
                applicant=individual("e-3"),
                region="county:山东/济南/历下",
                year=2017,
                effective_date="2017-01-05",
            ),
            expert=payee("e-3"),
        ),
        approve_on="2017-02-01",
        publicize_on="2017-02-02",
        confirm_on="2017-02-09",
    )
    pay(lixia, 2017, "2017-03-02")
    return app, yinan


def dump(views):
    return {
        name: sorted(views[name].find({}), key=lambda d: d["_id"])
        for name in FundingProjection.collections
    }


def test_the_summary_per_unit_year_and_date(ledger, mongo_db):
    app, _ = ledger
    ProjectionRunner(app, mongo_db, FundingProjection()).run()

    shandong = queries.summary(mongo_db, "province:山东")
    assert (
        shandong["approved_projects"],
        shandong["disbursed_fen"],
        shandong["disbursed_wan"],
    ) == (3, 1_600_000, 1.6)
    assert shandong["quota"] == {"total": 240, "used": 3, "left": 237}
    linyi_2017 = queries.summary(mongo_db, "city:山东/临沂", year=2017)
    assert (linyi_2017["approved_projects"], linyi_2017["disbursed_fen"]) == (1, 400_000)
    assert linyi_2017["quota"] == {"total": 45, "used": 2, "left": 43}
    end_2016 = queries.summary(mongo_db, "national", as_of="2016-12-31")
    assert (
        end_2016["approved_projects"],
        end_2016["disbursed_fen"],
        end_2016["quota"]["used"],
    ) == (2, 800_000, 2)
    yinan = queries.summary(mongo_db, "county:山东/临沂/沂南")
    assert (yinan["disbursed_fen"], yinan["quota"]) == (800_000, {"total": 0, "used": 0, "left": 0})
    assert queries.summary(mongo_db, "province:河北")["disbursed_fen"] == 0


def test_a_payment_is_traced_to_the_positions_of_its_approvals_and_publicity(ledger, mongo_db):
    app, yinan = ledger
    ProjectionRunner(app, mongo_db, FundingProjection()).run()

    record = queries.project_record(mongo_db, str(yinan.id))
    by_type = {}
    for entry in record["history"]:
        by_type.setdefault(entry["type"], []).append(entry["position"])
    first = record["disbursements"][0]
    assert first["review_positions"] == by_type["ProjectReviewed"]
    assert first["approved_position"] == by_type["ProjectApproved"][0]
    assert first["publicized_position"] == by_type["ProjectPublicized"][0]
    assert first["confirmed_position"] == by_type["ProjectConfirmed"][0] < first["position"]
    assert first["account_masked"] == "6222***********3445" and ACCOUNT not in str(record)


def test_rebuilding_the_views_from_the_log_gives_identical_documents(ledger, mongo_db):
    app, _ = ledger
    runner = ProjectionRunner(app, mongo_db, FundingProjection())
    runner.run()
    before = dump(mongo_db)
    mongo_db[TRACKING].delete_one({"_id": runner.name})
    runner.run()  # every event applied a second time
    assert dump(mongo_db) == before

    runner.rebuild()

    assert dump(mongo_db) == before
    assert all(before[name] for name in FundingProjection.collections)
