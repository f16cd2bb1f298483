"""Awards rules on the application: quota safety under races, and refusals that record nothing."""

import eventlet
import pytest

from kernel.errors import Conflict, RuleViolation
from services.awards.rounds import round_2020

HOURS = {"year": 2020, "hours": 800, "days": 40, "entries": 34}


def commended(app, *expert_ids):
    for expert_id in expert_ids:
        app.record_commendation(
            year=2018,
            category="individual",
            unit="province:山西",
            expert_id=expert_id,
            effective_date="2019-01-10",
        )


def nominate(app, round_id, expert_id, unit="province:山西", effective_date="2020-07-01"):
    return app.nominate(
        round_id,
        unit=unit,
        category="individual",
        form={"expert_id": expert_id},
        evidence={"as_of": effective_date, "hours": HOURS},
        effective_date=effective_date,
    )


def test_racing_nominations_on_two_replicas_never_overfill_a_quota(two_replicas):
    first, second = two_replicas
    round_id = str(first.configure_round(**round_2020()).id)
    experts = [f"expert-{n}" for n in range(8)]
    commended(first, *experts)
    results = []

    def attempt(application, expert_id):
        try:
            results.append(nominate(application, round_id, expert_id))
        except (RuleViolation, Conflict) as refused:
            results.append(refused)

    pool = eventlet.GreenPool()
    for n, expert_id in enumerate(experts):
        pool.spawn(attempt, two_replicas[n % 2], expert_id)
    pool.waitall()

    assert len(results) == 8
    award_round = second.get_round(round_id)
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert (
        len(award_round.taken("province:山西", "individual")) == len(accepted) == 3
    )  # a key province's max
    assert {str(n.id) for n in accepted} == set(award_round.nominations)


def test_a_refused_nomination_records_nothing(app):
    round_id = str(app.configure_round(**round_2020()).id)
    commended(app, "a")
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolation) as late:
        nominate(app, round_id, "a", effective_date="2020-08-16")
    assert "effective_date" in late.value.details
    with pytest.raises(RuleViolation) as city:
        nominate(app, round_id, "a", unit="city:山西/吕梁")
    assert "unit" in city.value.details
    assert app.recorder.max_notification_id() == before


def test_notice_days_below_a_week_and_totals_beside_categories_are_refused(app):
    with pytest.raises(RuleViolation) as short:
        app.configure_round(**round_2020(notice_days=6))
    assert "notice_days" in short.value.details
    with pytest.raises(RuleViolation) as totals:
        app.configure_round(**round_2020(national_totals={"team": 20}))
    assert "national_totals" in totals.value.details
    assert app.recorder.max_notification_id() is None or app.recorder.max_notification_id() == 0
