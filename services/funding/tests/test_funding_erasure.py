"""Erasure with the chain intact, in funding (issue 16): a payment's account is sealed under the
paid expert's own data key, and the registry's erasure of the expert, applied here, destroys
that key — the account reads ``erased`` in the aggregate, the views and a rebuild, while the
stored events, the chain and every figure stay as they were. In-process: the embedded SQLite
event store, views on the MongoDB stand-in (or MONGO_URI)."""

from types import SimpleNamespace

import pytest
from nameko.exceptions import UnknownService
from nameko.testing.services import worker_factory

from kernel.erasure import SweepSchedule
from kernel.errors import RuleViolation, ViewsBuilding
from kernel.projection import ProjectionRunner
from services.funding import queries
from services.funding.projection import DISBURSEMENTS, FundingProjection
from services.funding.service import FundingService
from services.funding.tests.forms import ACCOUNT, payee, programme_form, project_form
from services.funding.tests.test_funding_application import take_effect
from services.funding.tests.test_funding_projection import dump
from tests.auditing import raw_states, stored_log

OTHER = "6222020200155667788"


@pytest.fixture
def paid(app):
    """Two experts' projects in 临沂, each paid once."""
    programme = app.configure_programme(**programme_form())
    paid = {}
    for expert_id, account, county in (("e-1", ACCOUNT, "沂南"), ("e-2", OTHER, "兰山")):
        project = take_effect(
            app,
            app.apply(
                **project_form(
                    str(programme.id),
                    applicant={"type": "individual", "expert_id": expert_id},
                    region=f"county:山东/临沂/{county}",
                ),
                expert=payee(expert_id, account=account),
            ),
        )
        paid[expert_id] = app.disburse(
            project_id=str(project.id),
            year=2016,
            amount_fen=400_000,
            account=account,
            effective_date="2016-06-01",
            payee=payee(expert_id, account=account),
        )
    return app, paid


def test_the_account_is_sealed_under_the_experts_key_and_erased_with_the_expert(paid, tmp_path):
    app, payments = paid
    assert not any(ACCOUNT in state or OTHER in state for state in raw_states(app))
    assert app.get_disbursement(payments["e-1"].id).account == ACCOUNT
    states_before, chain_before = stored_log(app)

    erasure = app.erase_person("e-1", "registry")

    assert erasure is not None and erasure.person_id == "e-1"
    assert app.get_disbursement(payments["e-1"].id).account == "erased"
    assert app.get_disbursement(payments["e-2"].id).account == OTHER
    states_after, _ = stored_log(app)
    assert states_after[: len(states_before)] == states_before  # not one byte changed
    assert stored_log(app)[0][-1] not in states_before  # the erasure itself, naming no one
    assert "e-1" in raw_states(app)[-1] and ACCOUNT not in raw_states(app)[-1]
    # Applied once: a redelivery (or the sweep after the bus) records nothing more.
    head = app.recorder.max_notification_id()
    assert app.erase_person("e-1", "registry") is None
    assert app.recorder.max_notification_id() == head
    assert app.not_erased(["e-1", "e-2"]) == ["e-2"]
    assert chain_before  # the chain over the stored bytes: unchanged, as they are


def test_the_views_show_the_erased_account_and_every_figure_stays(paid, mongo_db):
    app, payments = paid
    runner = ProjectionRunner(app, mongo_db, FundingProjection())
    runner.run()
    summary_before = queries.summary(mongo_db, "province:山东")

    app.erase_person("e-1", "registry")
    runner.run()

    accounts = {
        d["expert_id"]: d["account_masked"] for d in mongo_db[DISBURSEMENTS].find({}, {"_id": 0})
    }
    assert accounts == {"e-1": "erased", "e-2": "6222***********7788"}
    summary_after = queries.summary(mongo_db, "province:山东")
    assert {k: v for k, v in summary_after.items() if k != "position"} == {
        k: v for k, v in summary_before.items() if k != "position"
    }
    before = dump(mongo_db)
    runner.rebuild()  # the log replayed: the sealed account no longer opens
    assert dump(mongo_db) == before


def test_nothing_new_names_an_erased_expert(paid):
    app, payments = paid
    app.erase_person("e-1", "registry")
    programme_id = app.get_project(payments["e-1"].project_id).programme_id
    project = take_effect(
        app,
        app.apply(
            **project_form(
                programme_id, applicant={"type": "individual", "expert_id": "e-1"}, content="二期"
            ),
            expert=payee("e-1"),
        ),
    )
    head = app.recorder.max_notification_id()
    # The registry's answer said "not erased" a moment before the erasure reached funding.
    with pytest.raises(RuleViolation) as refused:
        app.disburse(
            project_id=str(project.id),
            year=2016,
            amount_fen=1,
            account=ACCOUNT,
            effective_date="2016-06-02",
            payee=payee("e-1"),
        )
    assert "erased" in str(refused.value)
    assert refused.value.details == {"expert_id": ["personal data erased"]}  # the field sent
    assert app.recorder.max_notification_id() == head


def test_the_sweep_applies_each_erasure_the_registry_lists_once(paid):
    """What the bus may have missed (an event published before this service's queue existed, or
    lost with a crashed embedded process) the sweep applies: every page of the registry's list."""
    app, payments = paid
    pages = {"": {"ids": ["e-1", "e-9"], "next": "e-9"}, "e-9": {"ids": ["e-2"], "next": None}}
    worker = worker_factory(FundingService, parts=SimpleNamespace(app=app))
    worker.registry.erased_experts.side_effect = lambda after, limit: pages[after]

    worker.sweep_erasures()

    assert app.not_erased(["e-1", "e-2", "e-9"]) == []
    assert app.get_disbursement(payments["e-2"].id).account == "erased"
    head = app.recorder.max_notification_id()
    worker.sweep_erasures()
    worker.expert_erased({"originator_id": "e-1", "type": "ExpertErased"})
    assert app.recorder.max_notification_id() == head

    worker.registry.erased_experts.side_effect = UnknownService("registry")
    worker.sweep_erasures()  # the registry is not there: the next sweep asks again


def test_a_sweep_the_registry_did_not_answer_is_made_again_soon(paid):
    """At a first start on a long log the registry answers "views being built" for minutes: the
    sweep asks again after 5 s, then 10, 20 and so on, not a whole interval (300 s) later; once
    answered, the next comes after the interval."""
    app, _ = paid
    now = [0.0]
    schedule = SweepSchedule(every=300, first_retry=5, clock=lambda: now[0])
    worker = worker_factory(FundingService, parts=SimpleNamespace(app=app), sweeps=schedule)
    ask = worker.registry.erased_experts
    ask.side_effect = ViewsBuilding("the views of registry.two_counts are being built")

    def asked_at(*moments):
        """The moments among ``moments`` at which a tick of the timer asked the registry."""
        asking = []
        for moment in moments:
            now[0], before = moment, ask.call_count
            worker.sweep_erasures()
            if ask.call_count > before:
                asking.append(moment)
        return asking

    assert asked_at(0, 4, 5, 14, 15, 34) == [0, 5, 15]  # at start, then after 5 s, then 10 s
    ask.side_effect = lambda after, limit: {"ids": ["e-1"], "next": None}
    assert asked_at(35, 40, 334) == [35]  # answered: the next sweep after the interval
    assert app.not_erased(["e-1"]) == []
    ask.side_effect = UnknownService("registry")
    assert asked_at(335, 339, 340) == [335, 340]  # unanswered again: 5 s, as at first
