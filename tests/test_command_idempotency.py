"""Issue 13 item 9 on the applications: every command of supervision and awards that ignored its
Idempotency-Key before now honours it through the one ``@command`` (kernel.application). Each
application runs on the embedded SQLite event store; a retry with the same key records nothing
(the log's last position stays put) and answers the first result."""

import pytest

from kernel import eventstore
from kernel.idempotency import Idempotency
from services.awards.application import AwardsApplication
from services.awards.rounds import round_2020
from services.supervision.application import SupervisionApplication
from services.supervision.tests.forms import GROUPS, campaign_2017, finding
from tests.infrastructure import settings_for


def key(service, name):
    return Idempotency(service, "clerk", name, f"fingerprint of {name}")


def twice(app, command, *args, **kwargs):
    """The command with a key, then retried with it: both results and whether the retry recorded."""
    first = command(*args, **kwargs, idempotency=key(app.name, command.__name__))
    position = app.recorder.max_notification_id()
    again = command(*args, **kwargs, idempotency=key(app.name, command.__name__))
    return first, again, app.recorder.max_notification_id() != position


@pytest.fixture
def supervision(tmp_path):
    app = SupervisionApplication(
        env=eventstore.application_env(settings_for(tmp_path), "supervision")
    )
    yield app
    app.close()


@pytest.fixture
def awards(tmp_path):
    app = AwardsApplication(env=eventstore.application_env(settings_for(tmp_path), "awards"))
    yield app
    app.close()


def test_supervision_moves_retried_with_their_key_record_nothing(supervision):
    """Issue 13 item 9: field inspections, rectification moves, spot checks and closing."""
    app = supervision
    campaign_id = str(app.launch_campaign(**campaign_2017()).id)
    first, again, recorded = twice(
        app, app.schedule_field_inspection, campaign_id, GROUPS, "2017-08-01"
    )
    assert again.id == first.id and again.version == first.version and not recorded
    found = app.record_finding(campaign_id, inspector="inspector:li", **finding("city:山西/吕梁"))
    item_id = str(found.rectification_id)
    first, again, recorded = twice(
        app,
        app.work_on_rectification,
        item_id,
        "submit",
        "city:山西/吕梁",
        "2017-09-10",
        evidence="台账已补齐",
        evidence_hashes=["ab" * 32],
    )
    assert (again.id, again.status) == (first.id, "submitted") and not recorded
    first, again, recorded = twice(
        app,
        app.check_rectification,
        item_id,
        "verify",
        "inspector:li",
        False,
        "2017-09-12",
        comment="好",
    )
    assert (again.id, again.status) == (first.id, "verified") and not recorded

    def lookup(province, ordinals):  # a frame of nine households, all in force
        return {str(n): {"record": f"household:{n}", "in_force": True} for n in ordinals if n <= 9}

    first, again, recorded = twice(
        app,
        app.record_spot_check,
        campaign_id,
        seed="s",
        provinces=["山西"],
        records_per_province=2,
        registry_position=1,
        frame_sizes={"山西": 9},
        lookup=lookup,
        effective_date="2017-08-15",
    )
    assert again.id == first.id and not recorded
    first, again, recorded = twice(app, app.close_campaign, campaign_id, "2017-10-01")
    assert again.id == first.id and not recorded


def test_awards_moves_retried_with_their_key_record_nothing_and_answer_the_first_result(awards):
    """Issue 13 item 9: endorsements, publicity, objections and their resolution, commendation and
    revocation (an objection and a commendation answer what the first call answered)."""
    app = awards
    round_id = str(app.configure_round(**round_2020()).id)
    app.record_commendation(
        year=2018,
        category="individual",
        unit="province:山西",
        expert_id="e-1",
        effective_date="2019-01-10",
    )
    hours = {"year": 2020, "hours": 800, "days": 40, "entries": 34}
    nomination = app.nominate(
        round_id,
        unit="province:山西",
        category="individual",
        form={"expert_id": "e-1"},
        evidence={"as_of": "2020-07-01", "hours": hours},
        effective_date="2020-07-01",
    )
    nomination_id = str(nomination.id)
    first, again, recorded = twice(
        app, app.endorse_outstanding, round_id, "e-1", "成效突出", "2020-08-01"
    )
    assert again.id == first.id and not recorded
    first, again, recorded = twice(app, app.publicize, round_id, "2020-08-20")
    assert again.id == first.id and not recorded
    first, again, recorded = twice(
        app, app.raise_objection, nomination_id, "材料不实", "public", "2020-08-21"
    )
    assert (again[0].id, again[1]) == (first[0].id, first[1]) and not recorded
    first, again, recorded = twice(
        app, app.resolve_objection, nomination_id, first[1], False, "查无实据", "2020-08-24"
    )
    assert again.id == first.id and not recorded
    first, again, recorded = twice(app, app.commend, round_id, None, "2020-09-01")
    assert (again[0].id, [n.id for n in again[1]]) == (first[0].id, [n.id for n in first[1]]) == (
        first[0].id,
        [nomination.id],
    ) and not recorded
    first, again, recorded = twice(app, app.revoke, nomination_id, "材料造假", "2020-10-01")
    assert (again.id, again.status) == (first.id, "revoked") and not recorded
