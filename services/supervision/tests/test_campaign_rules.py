"""The supervision rules as a story of the 2017 campaign, on the embedded SQLite event store:
each refusal says why and records nothing."""

import pytest

from kernel.errors import Conflict, Forbidden, RuleViolation, ValidationFailed
from services.supervision.tests.forms import GROUPS, campaign_2017, finding, self_inspection


def recorded(app):
    return app.recorder.max_notification_id() or 0


@pytest.fixture
def campaign(app):
    campaign = app.launch_campaign(**campaign_2017())
    app.schedule_field_inspection(str(campaign.id), GROUPS, "2017-08-01")
    return campaign


def test_phases_must_follow_one_another(app):
    with pytest.raises(RuleViolation) as refused:
        app.launch_campaign(**campaign_2017(feedback_due="2017-08-15"))
    assert "feedback_due" in refused.value.details
    assert recorded(app) == 0


def test_a_late_self_inspection_is_accepted_and_marked_late(app, campaign):
    on_time = app.submit_self_inspection(str(campaign.id), **self_inspection("province:山西"))
    late = app.submit_self_inspection(
        str(campaign.id), **self_inspection("province:山东", "2017-08-12")
    )
    assert (on_time.late, late.late) == (False, True)
    # A revision after the due date makes an on-time report late; a late one stays late.
    revised = app.submit_self_inspection(
        str(campaign.id), **self_inspection("province:山西", "2017-08-11")
    )
    assert revised.id == on_time.id and revised.late is True


def test_no_self_inspection_after_the_campaign_is_closed_or_from_a_unit_it_does_not_cover(
    app, campaign
):
    with pytest.raises(RuleViolation) as refused:
        app.submit_self_inspection(str(campaign.id), **self_inspection("province:江苏"))
    assert "unit" in refused.value.details
    app.close_campaign(str(campaign.id), "2017-10-10")
    before = recorded(app)
    with pytest.raises(RuleViolation) as refused:
        app.submit_self_inspection(
            str(campaign.id), **self_inspection("province:山西", "2017-10-11")
        )
    assert "campaign_id" in refused.value.details
    assert recorded(app) == before


def test_a_province_goes_to_one_inspection_group_only(app, campaign):
    before = recorded(app)
    with pytest.raises(RuleViolation):
        app.schedule_field_inspection(
            str(campaign.id),
            GROUPS + [{"name": "第三组", "inspectors": ["inspector:qian"], "provinces": ["山东"]}],
            "2017-08-02",
        )
    with pytest.raises(RuleViolation):
        app.schedule_field_inspection(
            str(campaign.id),
            [{"name": "第三组", "inspectors": ["inspector:qian"], "provinces": ["江苏"]}],
            "2017-08-02",
        )
    assert recorded(app) == before


def test_only_an_assigned_inspector_records_a_province_s_findings(app, campaign):
    before = recorded(app)
    with pytest.raises(Forbidden):
        app.record_finding(
            str(campaign.id), inspector="inspector:zhao", **finding("city:山西/吕梁")
        )
    with pytest.raises(RuleViolation) as refused:  # before the field inspection began
        app.record_finding(
            str(campaign.id), inspector="inspector:li", **finding("city:山西/吕梁", "2017-08-05")
        )
    assert "effective_date" in refused.value.details
    assert recorded(app) == before

    found = app.record_finding(
        str(campaign.id), inspector="inspector:li", **finding("city:山西/吕梁")
    )
    item = app.get_rectification(found.rectification_id)
    assert (item.unit, item.status, item.due) == (
        "city:山西/吕梁",
        "open",
        "2017-09-30",
    )  # the campaign's deadline
    noted = app.record_finding(
        str(campaign.id),
        inspector="inspector:li",
        **finding("province:河北", requires_rectification=False),
    )
    assert noted.due is None and app._exists(noted.rectification_id) is False


def test_a_rectification_item_moves_only_along_its_workflow(app, campaign):
    found = app.record_finding(
        str(campaign.id), inspector="inspector:li", **finding("city:山西/吕梁", due="2017-09-15")
    )
    item_id = str(found.rectification_id)
    before = recorded(app)
    with pytest.raises(Conflict):  # nothing submitted yet
        app.check_rectification(
            item_id, "verify", "inspector:li", False, "2017-08-20", comment="好"
        )
    with pytest.raises(Forbidden):  # only the responsible unit works on it
        app.work_on_rectification(
            item_id, "submit", "province:山西", "2017-08-20", evidence="…", evidence_hashes=[]
        )
    assert recorded(app) == before

    app.work_on_rectification(item_id, "progress", "city:山西/吕梁", "2017-09-01", note="补齐台账")
    with pytest.raises(RuleViolation):  # moves are dated in order
        app.work_on_rectification(
            item_id, "submit", "city:山西/吕梁", "2017-08-30", evidence="…", evidence_hashes=[]
        )
    app.work_on_rectification(
        item_id,
        "submit",
        "city:山西/吕梁",
        "2017-09-10",
        evidence="台账已补齐",
        evidence_hashes=["ab" * 32],
    )
    with pytest.raises(Forbidden):  # an inspector of another group
        app.check_rectification(
            item_id, "verify", "inspector:zhao", False, "2017-09-12", comment="好"
        )
    app.check_rectification(
        item_id, "reopen", "inspector:li", False, "2017-09-12", reason="缺少签字"
    )
    app.work_on_rectification(
        item_id,
        "submit",
        "city:山西/吕梁",
        "2017-09-14",
        evidence="已签字",
        evidence_hashes=["cd" * 32],
    )
    verified = app.check_rectification(
        item_id, "verify", "national:office", True, "2017-09-20", comment="通过"
    )
    assert verified.status == "verified" and verified.overdue("2017-12-31") is False
    with pytest.raises(Conflict):  # verified is final
        app.check_rectification(
            item_id, "reopen", "inspector:li", False, "2017-09-21", reason="again"
        )


class Frames:
    """Each province's spot-check frame as the registry keeps it (in memory here): ordinals 1..n
    in the order records entered it; ``revoked`` ordinals are no longer in force."""

    def __init__(self, size, revoked=()):
        self.size, self.revoked, self.read = size, set(revoked), []

    def lookup(self, province, ordinals):
        self.read += ordinals
        return {
            str(n): {"record": f"household:{province}{n:04d}", "in_force": n not in self.revoked}
            for n in ordinals
            if 1 <= n <= self.size
        }


def test_a_spot_check_draw_is_reproducible_from_its_seed(app, campaign):
    frames = Frames(50)
    provinces = app.draw_provinces(str(campaign.id), "2020-抽查", 2)
    assert provinces == app.draw_provinces(str(campaign.id), "2020-抽查", 2)

    def spot_check(seed, frames):
        return app.record_spot_check(
            str(campaign.id),
            seed=seed,
            provinces=provinces,
            records_per_province=5,
            registry_position=120,
            frame_sizes={p: frames.size for p in provinces},
            lookup=frames.lookup,
            effective_date="2017-08-15",
        )

    first, second = spot_check("2020-抽查", frames), spot_check("2020-抽查", Frames(50))
    assert first.sample == second.sample and all(
        len(set(keys)) == 5 for keys in first.sample.values()
    )
    assert spot_check("another", frames).sample != first.sample
    with pytest.raises(RuleViolation):
        app.draw_provinces(str(campaign.id), "2020-抽查", 4)  # the campaign covers three


def test_a_spot_check_draws_only_records_in_force_and_reads_what_it_draws_not_the_register(
    app, campaign
):
    """Issue 14: a frame of a million records, nine in ten of them revoked: the sample holds
    records in force only, each province's draw reads a few hundred ordinals, not the frame."""
    frames = Frames(1_000_000, revoked={n for n in range(1, 1_000_001) if n % 10})
    spot_check = app.record_spot_check(
        str(campaign.id),
        seed=7,
        provinces=["山西"],
        records_per_province=20,
        registry_position=5,
        frame_sizes={"山西": frames.size},
        lookup=frames.lookup,
        effective_date="2017-08-15",
    )
    drawn = spot_check.sample["山西"]
    assert len(set(drawn)) == 20 and all(int(key[-4:]) % 10 == 0 for key in drawn)
    assert len(frames.read) < 2_000 and len(set(frames.read)) == len(
        frames.read
    )  # no ordinal twice


def test_a_small_frame_gives_every_record_in_force_once(app, campaign):
    frames = Frames(6, revoked={2, 5})
    spot_check = app.record_spot_check(
        str(campaign.id),
        seed=1,
        provinces=["山西"],
        records_per_province=10,
        registry_position=5,
        frame_sizes={"山西": 6},
        lookup=frames.lookup,
        effective_date="2017-08-15",
    )
    assert sorted(spot_check.sample["山西"]) == [f"household:山西{n:04d}" for n in (1, 3, 4, 6)]


@pytest.mark.parametrize(
    "figures, field",
    [
        ({"households": 2**63}, "figures.households"),
        ({"people": -1}, "figures.people"),
        ({"project_funds_wan": 1e308}, "figures.project_funds_wan"),
    ],
)
def test_a_figure_beyond_what_the_nation_holds_is_refused_even_without_the_gateway(
    app, campaign, figures, field
):
    """Issue 13 item 2: a self-inspection figure ≥ 2^63 once stalled GET /rectifications for good;
    the application refuses it as the gateway's schema does (one limit, the registry's contract)."""
    before = recorded(app)
    with pytest.raises(ValidationFailed) as refused:
        app.submit_self_inspection(str(campaign.id), **self_inspection("province:山西", **figures))
    assert field in refused.value.details
    assert recorded(app) == before
