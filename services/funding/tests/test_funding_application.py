"""The funding write side as a story of Shandong's expert service action (§004) and the 先行先试
pilot: a programme is configured, projects climb the approval chain level by level, wait out
their public notice, and only then are paid — once per project-year, into the expert's registered
account, within the region's places. Embedded SQLite event store."""

import pytest

from kernel.errors import Conflict, RuleViolation, ValidationFailed
from kernel.idempotency import Idempotency, fingerprint
from services.funding.domain import RegionQuota
from services.funding.tests.forms import (
    ACCOUNT,
    PILOT,
    individual,
    payee,
    programme_form,
    project_form,
    unit_applicant,
)

SHANDONG_CHAIN = [
    "applicant_unit",
    "county_poverty_office",
    "county_association",
    "city_association",
    "provincial_association",
]


def take_effect(
    app, project, approve_on="2016-05-02", publicize_on="2016-05-03", confirm_on="2016-05-10"
):
    """Every level approves, the notice runs its seven days, the project is confirmed."""
    for level in app.get_programme(project.programme_id).approval_levels:
        app.review(
            str(project.id),
            level=level,
            decision="approve",
            comment="同意",
            effective_date=approve_on,
        )
    app.publicize(str(project.id), effective_date=publicize_on)
    return app.confirm(str(project.id), effective_date=confirm_on)


def pay(
    app, project, year=2016, amount_fen=400_000, on="2016-06-01", account=ACCOUNT, who=None, **kw
):
    return app.disburse(
        project_id=str(project.id),
        year=year,
        amount_fen=amount_fen,
        account=account,
        effective_date=on,
        payee=who or payee(project.applicant.get("expert_id")),
        **kw,
    )


def recorded(app):
    return app.recorder.max_notification_id() or 0


def test_shandongs_programme_opens_its_sixteen_city_quotas_totalling_240(app):
    programme = app.configure_programme(**programme_form())

    assert programme.approval_levels == SHANDONG_CHAIN
    assert programme.subsidy_fen_per_project_year == 400_000
    assert sum(app.quota(str(programme.id), region).total for region in programme.quotas) == 240
    assert app.quota(str(programme.id), "city:山东/临沂").total == 45


def test_a_programme_that_does_not_hang_together_is_refused_naming_the_fields(app):
    with pytest.raises(ValidationFailed) as refused:
        app.configure_programme(
            **programme_form(
                approval_levels=["applicant_unit", "someone_unknown"],
                level_scopes={},
                quotas={"city:河北/石家庄": 3},
                until_year=2015,
            )
        )
    assert set(refused.value.details) == {"level_scopes", "quotas", "until_year"}
    assert recorded(app) == 0


def test_units_apply_only_for_popularisation_projects(app):
    programme = app.configure_programme(**programme_form())
    before = recorded(app)

    with pytest.raises(RuleViolation) as refused:
        app.apply(**project_form(str(programme.id), applicant=unit_applicant(), kind="training"))

    assert list(refused.value.details) == ["applicant.type"]
    assert recorded(app) == before
    project = app.apply(
        **project_form(str(programme.id), applicant=unit_applicant(), kind="popularisation")
    )
    assert project.no_subsidy_reason == "this programme does not subsidise units"


def test_an_individual_applicant_must_be_an_expert_in_force(app):
    programme = app.configure_programme(**programme_form())
    with pytest.raises(RuleViolation) as refused:
        app.apply(**project_form(str(programme.id)), expert=payee(revoked_on="2016-02-01"))
    assert refused.value.details == {"expert_id": ["revoked"]}
    with pytest.raises(RuleViolation):
        app.apply(**project_form(str(programme.id), region="county:河北/保定/阜平"), expert=payee())


def test_levels_review_in_their_order_and_a_rejection_ends_the_review(app):
    programme = app.configure_programme(**programme_form())
    project = app.apply(**project_form(str(programme.id)), expert=payee())

    with pytest.raises(RuleViolation) as out_of_order:
        app.review(
            str(project.id),
            level="city_association",
            decision="approve",
            comment="",
            effective_date="2016-04-02",
        )
    assert out_of_order.value.details == {"level": ["the next level to review is applicant_unit"]}

    app.review(
        str(project.id),
        level="applicant_unit",
        decision="approve",
        comment="同意",
        effective_date="2016-04-02",
    )
    rejected = app.review(
        str(project.id),
        level="county_poverty_office",
        decision="reject",
        comment="帮扶村不属于建档立卡贫困村",
        effective_date="2016-04-03",
    )

    assert rejected.status == "rejected" and rejected.rejected_on == "2016-04-03"
    with pytest.raises(RuleViolation):
        app.review(
            str(project.id),
            level="county_association",
            decision="approve",
            comment="",
            effective_date="2016-04-04",
        )
    with pytest.raises(RuleViolation):
        app.publicize(str(project.id), effective_date="2016-04-05")


def test_the_final_approval_starts_a_notice_and_confirmation_waits_for_its_end(app):
    programme = app.configure_programme(**programme_form())
    project = app.apply(**project_form(str(programme.id)), expert=payee())
    for level in SHANDONG_CHAIN:
        project = app.review(
            str(project.id),
            level=level,
            decision="approve",
            comment="",
            effective_date="2016-05-02",
        )
    assert project.status == "approved" and project.approved_on == "2016-05-02"

    publicized = app.publicize(str(project.id), effective_date="2016-05-03")
    assert (publicized.notice_start, publicized.notice_end) == ("2016-05-03", "2016-05-09")
    with pytest.raises(RuleViolation) as early:
        app.confirm(str(project.id), effective_date="2016-05-09")
    assert early.value.details == {"effective_date": ["the public notice runs until 2016-05-09"]}

    assert app.confirm(str(project.id), effective_date="2016-05-10").status == "effective"


def test_no_payment_before_approval_and_publicity(app):
    programme = app.configure_programme(**programme_form())
    project = app.apply(**project_form(str(programme.id)), expert=payee())
    before = recorded(app)

    with pytest.raises(RuleViolation) as refused:
        pay(app, project)

    assert list(refused.value.details) == ["project_id"]
    assert recorded(app) == before


def test_a_project_year_is_paid_once_and_a_retried_request_returns_the_first_payment(app):
    programme = app.configure_programme(**programme_form())
    project = take_effect(
        app, app.apply(**project_form(str(programme.id), until_year=2017), expert=payee())
    )
    form = dict(
        project_id=str(project.id),
        year=2016,
        amount_fen=400_000,
        account=ACCOUNT,
        effective_date="2016-06-01",
    )
    key = Idempotency("funding", "clerk", "pay-1", fingerprint("test-key", form))

    first = pay(app, project, idempotency=key)
    after_first = recorded(app)
    again = pay(app, project, idempotency=key)

    assert again.id == first.id and recorded(app) == after_first
    with pytest.raises(RuleViolation) as twice:  # the same payment without a key
        pay(app, project)
    assert list(twice.value.details) == ["amount_fen"]
    with pytest.raises(RuleViolation):  # more than the year's 4,000 yuan, in two parts
        pay(app, project, year=2017, amount_fen=400_001, on="2017-02-01")
    assert pay(app, project, year=2017, on="2017-02-01").amount_fen == 400_000
    other = dict(form, year=2017, effective_date="2017-02-02")
    with pytest.raises(Conflict):  # the key again, for a different payment
        pay(
            app,
            project,
            year=2017,
            on="2017-02-02",
            idempotency=Idempotency("funding", "clerk", "pay-1", fingerprint("test-key", other)),
        )


def test_the_subsidy_goes_only_into_the_experts_registered_account(app):
    programme = app.configure_programme(**programme_form())
    project = take_effect(app, app.apply(**project_form(str(programme.id)), expert=payee()))

    with pytest.raises(RuleViolation) as refused:
        pay(app, project, account="6222020200199999999")
    assert refused.value.details == {"account": ["not the expert's registered account"]}
    with pytest.raises(RuleViolation):
        pay(app, project, who=payee(account=None))
    assert pay(app, project, account="6222 0202 0011 2233 445").account == ACCOUNT


def test_nothing_is_paid_to_an_expert_whose_personal_data_was_erased(app):
    programme = app.configure_programme(**programme_form())
    project = take_effect(app, app.apply(**project_form(str(programme.id)), expert=payee()))
    with pytest.raises(RuleViolation) as refused:
        pay(app, project, who=payee(erased=True))
    assert refused.value.details == {"expert_id": ["personal data erased"]}
    assert "erased" in str(refused.value)


def test_units_and_fully_budget_funded_units_popularisation_are_not_subsidised(app):
    programme = app.configure_programme(**programme_form())
    museum = take_effect(
        app,
        app.apply(
            **project_form(
                str(programme.id),
                applicant=unit_applicant(fully_budget_funded=True),
                kind="popularisation",
            )
        ),
    )

    with pytest.raises(RuleViolation) as refused:
        pay(app, museum, who=None)

    assert refused.value.details == {
        "project_id": [
            "a fully budget-funded unit's popularisation project is not subsidised again"
        ]
    }


def test_a_project_takes_its_regions_place_with_its_first_payment_and_keeps_it(app):
    programme = app.configure_programme(**programme_form(quotas={"city:山东/莱芜": 1}))
    first = take_effect(
        app,
        app.apply(
            **project_form(str(programme.id), region="county:山东/莱芜/钢城", until_year=2017),
            expert=payee(),
        ),
    )
    second = take_effect(
        app,
        app.apply(
            **project_form(str(programme.id), region="city:山东/莱芜", applicant=individual("e-2")),
            expert=payee("e-2"),
        ),
    )

    pay(app, first)
    with pytest.raises(RuleViolation) as full:
        pay(app, second)
    assert full.value.details == {"quota": ["city:山东/莱芜: all 1 places are taken"]}
    pay(app, first, year=2017, on="2017-03-01")  # its later year keeps the place
    assert app.quota(str(programme.id), "city:山东/莱芜").holders == [str(first.id)]


def test_the_pilot_programme_has_free_amounts_capped_by_each_projects_own_and_pays_units(app):
    programme = app.configure_programme(**programme_form(PILOT))
    with pytest.raises(RuleViolation) as missing:
        app.apply(**project_form(str(programme.id), region="county:山西/吕梁/临县"), expert=payee())
    assert list(missing.value.details) == ["amount_fen"]
    cooperative = app.apply(
        **project_form(
            str(programme.id),
            region="county:山西/吕梁/临县",
            applicant=unit_applicant("临县红枣合作社"),
            amount_fen=5_000_000,
        )
    )
    for level, on in (("provincial_office", "2016-05-02"), ("national_office", "2016-05-03")):
        app.review(
            str(cooperative.id), level=level, decision="approve", comment="", effective_date=on
        )
    app.publicize(str(cooperative.id), effective_date="2016-05-04")
    app.confirm(str(cooperative.id), effective_date="2016-05-11")

    paid = pay(app, cooperative, amount_fen=3_000_000, account="11001234567890", who=None)
    assert paid.amount_fen == 3_000_000 and paid.quota_region is None
    with pytest.raises(RuleViolation):
        pay(app, cooperative, amount_fen=2_000_001, account="11001234567890", who=None)
    pay(app, cooperative, amount_fen=2_000_000, account="11001234567890", who=None)


def test_payments_carry_the_versions_of_the_events_they_rest_on(app):
    programme = app.configure_programme(**programme_form())
    project = take_effect(app, app.apply(**project_form(str(programme.id)), expert=payee()))

    paid = pay(app, project)

    assert paid.trail == {
        "applied": 1,
        "reviews": [2, 3, 4, 5, 6],
        "approved": 7,
        "publicized": 8,
        "confirmed": 9,
    }
    events = app.repository.event_store.get(project.id)
    names = [type(e).__name__ for e in events]
    assert names[6:] == ["ProjectApproved", "ProjectPublicized", "ProjectConfirmed"]


def test_quota_aggregates_are_keyed_by_programme_and_region(app):
    programme = app.configure_programme(**programme_form())
    assert (
        RegionQuota.create_id(str(programme.id), "city:山东/临沂")
        == app.quota(str(programme.id), "city:山东/临沂").id
    )
