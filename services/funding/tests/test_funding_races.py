"""Racing payments on the real PostgreSQL event store, each from its own application instance
(its own connection pool: a replica of the service), in parallel greenthreads. Every racer reads
the quota with one place left before any of them saves — a gate holds each one's first save until
all have arrived — so the race really happens: the store accepts one save, refuses the others,
and their retries see the place gone."""

import eventlet
from eventsourcing.persistence import IntegrityError

from kernel.errors import RuleViolation
from services.funding.tests.forms import ACCOUNT, individual, payee, programme_form, project_form
from services.funding.tests.test_funding_application import take_effect

RACERS = 6


def gated(application, gate, arrived, refused):
    """Hold the application's first save until every racer is about to save; count refusals."""
    real_save = application.save
    first = [True]

    def save(*aggregates, **kwargs):
        if first[0]:
            first[0] = False
            arrived.append(application)
            if len(arrived) == RACERS:
                gate.send()
            with eventlet.Timeout(20, False):  # never hang the suite if a racer fails before saving
                gate.wait()
        try:
            return real_save(*aggregates, **kwargs)
        except IntegrityError:
            refused.append(application)
            raise

    application.save = save


def test_parallel_payments_for_the_last_place_pay_exactly_one(replicas):
    setup = replicas()
    programme = setup.configure_programme(**programme_form(quotas={"city:山东/莱芜": 2}))
    settled = take_effect(
        setup,
        setup.apply(
            **project_form(str(programme.id), region="city:山东/莱芜", applicant=individual("e-0")),
            expert=payee("e-0"),
        ),
    )
    setup.disburse(
        project_id=str(settled.id),
        year=2016,
        amount_fen=400_000,
        account=ACCOUNT,
        effective_date="2016-06-01",
        payee=payee("e-0"),
    )  # one place left
    contenders = [
        take_effect(
            setup,
            setup.apply(
                **project_form(
                    str(programme.id), region="city:山东/莱芜", applicant=individual(f"e-{n}")
                ),
                expert=payee(f"e-{n}"),
            ),
        )
        for n in range(1, RACERS + 1)
    ]
    gate, arrived, refused, outcomes = eventlet.event.Event(), [], [], []

    def race(application, project):
        gated(application, gate, arrived, refused)
        try:
            outcomes.append(
                application.disburse(
                    project_id=str(project.id),
                    year=2016,
                    amount_fen=400_000,
                    account=ACCOUNT,
                    effective_date="2016-06-02",
                    payee=payee(project.applicant["expert_id"]),
                )
            )
        except RuleViolation as no_place:
            outcomes.append(no_place)

    pool = eventlet.GreenPool()
    for (
        project
    ) in contenders:  # each racer a replica with its own connection pool, started beforehand
        pool.spawn(race, replicas(), project)
    pool.waitall()

    paid = [o for o in outcomes if not isinstance(o, RuleViolation)]
    assert len(outcomes) == RACERS and len(paid) == 1
    assert len(refused) == RACERS - 1  # the store refused every loser's save: they really raced
    assert all(
        o.details == {"quota": ["city:山东/莱芜: all 2 places are taken"]}
        for o in outcomes
        if isinstance(o, RuleViolation)
    )
    quota = setup.quota(str(programme.id), "city:山东/莱芜")
    assert quota.holders == [str(settled.id), paid[0].project_id]


def test_parallel_retries_of_one_payment_without_a_key_pay_it_once(replicas):
    setup = replicas()
    programme = setup.configure_programme(**programme_form())
    project = take_effect(setup, setup.apply(**project_form(str(programme.id)), expert=payee()))
    gate, arrived, refused, outcomes = eventlet.event.Event(), [], [], []

    def race(application):
        gated(application, gate, arrived, refused)
        try:
            outcomes.append(
                application.disburse(
                    project_id=str(project.id),
                    year=2016,
                    amount_fen=400_000,
                    account=ACCOUNT,
                    effective_date="2016-06-02",
                    payee=payee(),
                )
            )
        except RuleViolation as refusal:
            outcomes.append(refusal)

    pool = eventlet.GreenPool()
    for application in [replicas() for _ in range(RACERS)]:
        pool.spawn(race, application)
    pool.waitall()

    assert sum(not isinstance(o, RuleViolation) for o in outcomes) == 1
    assert len(refused) == RACERS - 1
    assert {tuple(o.details) for o in outcomes if isinstance(o, RuleViolation)} == {("amount_fen",)}
