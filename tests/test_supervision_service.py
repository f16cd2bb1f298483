"""The supervision service as deployed, beside the registry: nameko containers on the real
RabbitMQ, event stores in the real PostgreSQL, views in MongoDB over real pymongo (the nx-27017
stand-in unless MONGO_URI names a MongoDB). No funding service runs here, so item 11 of the
statistics table must say "not available" rather than zero; and auditors check these stores."""

import json
import shutil

import pytest
from click.testing import CliRunner
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from kernel.errors import Conflict, Forbidden
from kjfp.cli import main
from services.registry.service import RegistryService
from services.registry.tests.forms import expert_form
from services.supervision.service import SupervisionService
from services.supervision.tests.forms import GROUPS, campaign_2017, finding, self_inspection
from tests.infrastructure import bus_listener, callers, services_on_real_parts

NATIONAL = {"subject": "national:office", "role": "national_office", "scope": "national"}
SHANXI = {"subject": "shanxi", "role": "provincial_office", "scope": "province:山西"}
HEBEI = {"subject": "hebei", "role": "provincial_office", "scope": "province:河北"}
LI = {"subject": "inspector:li", "role": "inspector", "scope": "national"}
# A consumer of supervision's public events, as the awards service will be.
AwardsStandIn = bus_listener(
    "awards_stand_in", "supervision", "RectificationRequired", "RectificationVerified"
)
heard = AwardsStandIn.heard


@pytest.fixture
def cluster(monkeypatch, amqp_uri, postgres_db, mongo_uri):
    heard.clear()
    with services_on_real_parts(
        monkeypatch,
        amqp_uri,
        postgres_db,
        mongo_uri,
        RegistryService,
        SupervisionService,
        AwardsStandIn,
    ) as runner:
        with callers(amqp_uri) as rpc:
            yield runner, rpc


def test_a_campaign_over_rpc_publishes_rectification_state_and_tracks_it_in_mongodb(cluster):
    runner, rpc = cluster
    expert = rpc(NATIONAL).registry.register_expert(
        expert_form(
            unit="province:山西",
            effective_date="2017-03-01",
            location={"province": "山西", "city": "吕梁"},
        ),
    )
    campaign = rpc(NATIONAL).supervision.launch_campaign(campaign_2017())
    rpc(NATIONAL).supervision.schedule_field_inspection(
        campaign["id"], {"groups": GROUPS, "effective_date": "2017-08-01"}
    )
    rpc(SHANXI).supervision.submit_self_inspection(
        campaign["id"], self_inspection("province:山西", experts=1)
    )

    table = rpc(SHANXI).supervision.statistics_table(campaign["id"], "province:山西")
    items = {item["no"]: item for item in table["items"]}
    assert (items[8]["registered"], items[8]["discrepancy"]) == (1, False)
    assert (items[11]["available"], items[11]["registered"], items[11]["discrepancy"]) == (
        False,
        None,
        None,
    )

    listener = get_container(runner, AwardsStandIn)
    with entrypoint_waiter(listener, "RectificationRequired"):
        found = rpc(LI).supervision.record_finding(
            campaign["id"], finding("province:山西", due="2017-09-15")
        )
    item_id = found["rectification_id"]
    with pytest.raises(Forbidden):
        rpc(HEBEI).supervision.move_rectification(
            "submit",
            item_id,
            {"evidence": "…", "evidence_hashes": [], "effective_date": "2017-09-01"},
        )
    rpc(SHANXI).supervision.move_rectification(
        "submit",
        item_id,
        {"evidence": "已整改", "evidence_hashes": [], "effective_date": "2017-09-01"},
    )
    with pytest.raises(Conflict):
        rpc(SHANXI).supervision.move_rectification(
            "submit",
            item_id,
            {"evidence": "again", "evidence_hashes": [], "effective_date": "2017-09-02"},
        )
    assert rpc().supervision.rectification_summary("province:山西", "2017-09-16")["overdue"] == 1
    with entrypoint_waiter(listener, "RectificationVerified"):
        rpc(LI).supervision.move_rectification(
            "verify", item_id, {"comment": "通过", "effective_date": "2017-09-20"}
        )

    summary = rpc().supervision.rectification_summary("province:山西", "2017-10-01")
    assert (summary["open"], summary["overdue"], summary["verified"]) == (0, 0, 1)
    assert (
        rpc().supervision.rectification_summary("province:山西", "2017-09-16")["overdue"] == 1
    )  # as it was then
    assert [e["type"] for e in heard] == ["RectificationRequired", "RectificationVerified"]
    assert heard[0]["payload"]["unit"] == "province:山西" and heard[1]["originator_id"] == item_id

    # A spot check draws from the registers in MongoDB: 山西's only record is that expert.
    drawn = rpc(LI).supervision.draw_spot_check(
        campaign["id"],
        {
            "seed": "2020",
            "provinces": 3,
            "records_per_province": 2,
            "at_position": None,
            "effective_date": "2017-08-15",
        },
    )
    assert [r for r in drawn["records"] if r["province"] == "山西"] == [
        {"province": "山西", "kind": "expert", "id": expert["id"]}
    ]


def audit(*args, exports=None):
    """``kjfp audit`` in this process, on the stores the environment names (as the services'
    own: PostgreSQL, MongoDB, the cipher key), or on exports."""
    where = ["--exports", str(exports)] if exports else []
    return CliRunner().invoke(main, ["audit", *where, *args], catch_exceptions=False)


def test_an_auditor_checks_the_deployed_stores_and_reproduces_the_statistics_table(
    cluster, tmp_path
):
    """Issue 7 on the real stores: the logs verify, the MongoDB views equal a replay of the
    PostgreSQL logs, and the statistics table reported from the logs alone is the one the
    service answered, byte for byte the same on every run and from an export copied elsewhere."""
    _, rpc = cluster
    rpc(NATIONAL).registry.register_expert(
        expert_form(
            unit="province:山西",
            effective_date="2017-03-01",
            location={"province": "山西", "city": "吕梁"},
        ),
    )
    campaign = rpc(NATIONAL).supervision.launch_campaign(campaign_2017())
    rpc(SHANXI).supervision.submit_self_inspection(
        campaign["id"], self_inspection("province:山西", experts=2)
    )
    live = rpc(SHANXI).supervision.statistics_table(campaign["id"], "province:山西")
    rpc().supervision.rectification_summary("province:山西", "2017-10-01")  # both views caught up
    rpc().registry.two_counts("national", "2017-10-01")

    verified = audit("verify")
    assert verified.exit_code == 0, verified.output
    assert "registry: OK" in verified.output and "supervision: OK" in verified.output
    replayed = audit("replay", "registry", "supervision")
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.count("views equal the replay") == 2

    report = ["report", "--unit", "province:山西", "--campaign", campaign["id"]]
    first, second = audit(*report), audit(*report)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    table = json.loads(first.output)["statistics_table"]
    assert table["items"] == live["items"] and table["discrepancies"] == [
        8
    ]  # declared 2, registered 1
    positions = {
        name: anchor["position"] for name, anchor in json.loads(first.output)["logs"].items()
    }
    assert positions == {
        "registry": live["positions"]["registry"],
        "supervision": live["positions"]["supervision"],
    }
    # Issue 16, across services over RPC on PostgreSQL: each log's signed checkpoint, the same one
    # the report finds in the stores.
    checkpoints = {
        name: anchor["checkpoint"] for name, anchor in json.loads(first.output)["logs"].items()
    }
    assert checkpoints == live["checkpoints"]
    assert all(
        live["checkpoints"][name]["position"] >= live["positions"][name] for name in positions
    )

    assert audit("export", "--out", str(tmp_path / "export")).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "export", elsewhere)
    assert audit(*report, exports=elsewhere).output == first.output
    assert audit("verify", exports=elsewhere).exit_code == 0
