"""Issue 16: every figure names the signed checkpoint it was computed at — the 两数, the funding
summary and the statistics table over HTTP, and ``kjfp audit report`` — and an auditor holding
only an export of the logs and the verifier keys reproduces the same figures offline and checks
the checkpoints' signatures.

The stores' part runs on SQLite and the real PostgreSQL; the HTTP tests on the embedded system
(in-process memory:// transport, SQLite, in-process views), where figures are read right after
the writes they count, mostly before the pump has published them: the race the checkpoint must
survive (kernel/service_parts.py ``checkpoint``; the store test below takes that path for sure).
"""

import base64
import json

import pytest
from click.testing import CliRunner

from kernel.note import open_checkpoint
from kjfp.cli import main
from services.registry.tests.forms import household_form, pairing_form
from services.supervision.tests.forms import campaign_2016, declaring_all, self_inspection
from tests.http_client import start_system
from tests.test_audit_proofs import NO_KEY, store  # noqa: F401 - the fixture: a log in SQLite and PostgreSQL
from tests.test_funding_http import (
    GANGCHENG,
    Actors,
    apply,
    load_shandong,
    pay,
    register_expert,
    take_effect,
)

SHANDONG = "province:山东"
FIGURE_KEYS = ("positions", "checkpoints", "unit", "as_of")


def test_a_figures_checkpoint_is_the_smallest_signed_one_holding_its_position(store):
    """Issue 16 (kernel/tree.py ``vouch``): a position inside a signed batch names the batch's
    checkpoint (4, 8, 11 leaves here); one the tree holds but no stored checkpoint does gets one
    signed at exactly that position, stored; one recorded but not yet published gets none (the
    service publishes first: the next test)."""
    tree, key = store.tree, store.key
    assert [tree.vouch(p)["tree_size"] for p in (1, 4, 5, 8, 9, 11)] == [4, 4, 8, 8, 11, 11]
    assert tree.vouch(12) is None  # recorded, not yet published
    for item in tree.signed():
        assert open_checkpoint(item["note"], [key]).time == item["recorded_at"]
    # The tree holds 11 leaves; forget the checkpoint signed at 11, as if it were not signed yet.
    prefix = "" if store.kind == "sqlite" else "registry."
    with tree.datastore.transaction(commit=True) as curs:
        curs.execute(f"DELETE FROM {prefix}signed_checkpoints WHERE tree_size = 11")
    exact = tree.vouch(10)
    assert (exact["tree_size"], exact["position"]) == (10, 10)
    checkpoint = open_checkpoint(exact["note"], [key])
    assert checkpoint.tree_size == 10 and checkpoint.root_hash == tree.root(10) and checkpoint.time
    assert tree.vouch(9) == exact and tree.signed_at(10) == exact["note"]  # stored: named again


def test_a_figure_read_ahead_of_publication_is_published_then_named(store):
    """Issue 16, the race: a projection may have read an event the outbox has not published yet;
    the service then publishes (as its pump would) and names the checkpoint signed at the end of
    that publication, never one short of the figure's position."""
    from types import SimpleNamespace

    from kernel.service_parts import ServiceParts
    from services.registry import SERVICE

    sent = []
    parts = SimpleNamespace(outbox=store.outbox, log=SERVICE)
    named = ServiceParts.checkpoint(
        parts, 12, lambda envelopes: sent.extend(e["position"] for e in envelopes)
    )
    assert sent == [12] and (named["tree_size"], named["position"]) == (12, 12)
    assert open_checkpoint(named["note"], [store.key]).tree_size == 12
    assert ServiceParts.checkpoint(parts, 0, None) is None  # the empty log: nothing to name


def test_check_proof_and_the_witness_show_the_signed_time(store, tmp_path):
    """Issue 16: the auditor's tools parse the time line and show it."""
    proof = store.audit("prove", "inclusion", "registry", "--position", "5", "--tree-size", "8")
    (tmp_path / "proof.json").write_text(proof.output)
    time = open_checkpoint(store.tree.signed_at(8), [store.key]).time
    checked = CliRunner().invoke(
        main, ["audit", "check-proof", str(tmp_path / "proof.json"), "--key", store.key], env=NO_KEY
    )
    assert (
        checked.exit_code == 0
        and "size 8 root" in checked.output
        and f"signed {time}" in checked.output
    )
    witnessed = store.audit("witness", "registry", "--state", str(tmp_path / "witness.json"))
    assert (
        witnessed.exit_code == 0
        and "size 11 root" in witnessed.output
        and " signed 20" in witnessed.output
    )


def test_an_export_up_to_a_checkpoint_carries_the_checkpoints_of_its_events_and_verifies(
    store, tmp_path
):
    """Issue 16: ``kjfp audit export --at service=position`` writes the log up to there with
    only the checkpoints (chained and signed) of the events written, and verifies elsewhere."""
    exported = store.audit(
        "export", "registry", "--out", str(tmp_path / "out"), "--at", "registry=8"
    )
    assert exported.exit_code == 0 and "registry: 8 events" in exported.output, exported.output
    closing = json.loads((tmp_path / "out/registry.jsonl").read_text().splitlines()[-1])
    assert [item["tree_size"] for item in closing["signed"]] == [4, 8]
    assert all(item["position"] <= 8 for item in closing["checkpoints"])
    verified = CliRunner().invoke(
        main, ["audit", "--exports", str(tmp_path / "out"), "verify"], env=NO_KEY
    )
    assert verified.exit_code == 0 and "2 signed checkpoints checked" in verified.output, (
        verified.output
    )
    assert store.audit("export", "--out", str(tmp_path / "x"), "--at", "nowhere=3").exit_code == 2


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    service_runner, api = start_system(root)
    actors = Actors(api)
    programme_id = load_shandong(api, actors)
    expert_id, account = register_expert(api, 1, "莱芜", "钢城")
    project = take_effect(
        api,
        actors,
        apply(
            api, actors, programme_id, GANGCHENG, {"type": "individual", "expert_id": expert_id}
        ).json(),
    )
    assert pay(api, actors, project["id"], account).status_code == 201
    for code in ("371321000301", "371321000302"):
        assert (
            api.post("/households", household_form(code, effective_date="2016-02-01")).status_code
            == 201
        )
    paired = api.post(
        "/pairings",
        pairing_form(
            expert_id,
            ["371321000301", "371321000302"],
            start="2016-02-01",
            end="2016-12-31",
            effective_date="2016-02-01",
        ),
    )
    assert paired.status_code == 201, paired.text
    yield root, api, actors
    service_runner.stop()


def served_keys(api):
    auditor = api.token("auditor", "national")
    return {
        service: api.get("/audit/checkpoints", params={"service": service}, token=auditor).json()
        for service in ("registry", "funding", "supervision")
    }


def assert_names_a_checkpoint_that_holds_it(answer, keys):
    """Each log the figure rests on: a checkpoint whose tree holds every event up to the
    position the figure was computed at, whose note verifies with the published key and signs
    the size and root named beside it, with its time."""
    assert set(answer["checkpoints"]) == set(answer["positions"])
    for service, position in answer["positions"].items():
        named = answer["checkpoints"][service]
        assert named["position"] >= position > 0
        checkpoint = open_checkpoint(named["note"], [keys[service]["verifier_key"]])
        signed = (checkpoint.tree_size, checkpoint.root_hash)
        assert signed == (named["tree_size"], base64.b64decode(named["root_hash"]))
        assert checkpoint.origin == f"kjfp.local/{service}" and checkpoint.time


def audit(*args):
    return CliRunner().invoke(main, ["audit", *args])


def export(root, out, checkpoints=None):
    """The logs exported from the stores, each up to the position its named checkpoint holds."""
    stops = [
        arg
        for service, named in (checkpoints or {}).items()
        for arg in ("--at", f"{service}={named['position']}")
    ]
    exported = audit(
        "--data-dir",
        str(root / "data"),
        "export",
        "registry",
        "funding",
        "supervision",
        "--out",
        str(out),
        *stops,
    )
    assert exported.exit_code == 0, exported.output
    return out


def report(exports, *args):
    """``kjfp audit report`` on an export (the CliRunner result)."""
    return CliRunner().invoke(main, ["audit", "--exports", str(exports), "report", *args])


def at_shandong(counts):
    """The report's arguments for 山东's 两数 of 2016 at the registry position ``counts`` name."""
    return (
        "--unit",
        SHANDONG,
        "--as-of",
        "2016-12-31",
        "--at",
        f"registry={counts['positions']['registry']}",
    )


def report_offline(exports, keys_path, *args):
    """``kjfp audit report`` on an export, with the verifier keys saved from /audit/checkpoints:
    the document (stdout) and what the signature checks said (stderr)."""
    keys = [arg for path in keys_path for arg in ("--keys-from", str(path))]
    result = report(exports, *args, *keys)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def save_keys(tmp_path, keys):
    paths = []
    for service, served in keys.items():
        path = tmp_path / f"{service}-checkpoints.json"
        path.write_text(json.dumps(served))
        paths.append(path)
    return paths


def test_the_two_counts_and_funds_name_their_checkpoints_and_are_reproduced_offline(
    system, tmp_path
):
    """Issue 16: the 两数 and the funding summary, read at once after a write, each name a signed
    checkpoint that holds their log position; an export of the logs, the verifier keys and
    ``kjfp audit report --at`` those positions give the same figures and checkpoints, signatures
    checked."""
    root, api, _ = system
    assert (
        api.post(
            "/households", household_form("371321000303", effective_date="2016-03-01")
        ).status_code
        == 201
    )
    counts = api.get("/two-counts", params={"unit": SHANDONG, "as_of": "2016-12-31"})
    funds = api.get("/funding/summary", params={"unit": SHANDONG, "as_of": "2016-12-31"})
    assert counts.status_code == funds.status_code == 200, (counts.text, funds.text)
    counts, funds = counts.json(), funds.json()
    assert (
        counts["households_paired"] == 2
        and counts["experts"] == 1
        and funds["disbursed_fen"] == 400_000
    )
    keys = served_keys(api)
    assert_names_a_checkpoint_that_holds_it(counts, keys)
    assert_names_a_checkpoint_that_holds_it(funds, keys)
    explained = api.get(
        "/two-counts/explain",
        params={"unit": SHANDONG, "metric": "households_paired", "as_of": "2016-12-31"},
    ).json()
    assert explained["total"] == 2 and explained["checkpoints"] == counts["checkpoints"]
    # The figure's last event is in the tree the checkpoint signs (an inclusion proof verifies).
    from kjfp.audit.proofs import check_inclusion

    auditor = api.token("auditor", "national")
    proof = api.get(
        "/audit/proofs/inclusion",
        token=auditor,
        params={
            "service": "registry",
            "position": counts["positions"]["registry"],
            "tree_size": counts["checkpoints"]["registry"]["tree_size"],
        },
    ).json()
    check_inclusion(
        {**proof, "checkpoint": counts["checkpoints"]["registry"]["note"]},
        [keys["registry"]["verifier_key"]],
    )

    exports = export(root, tmp_path / "export", {**counts["checkpoints"], **funds["checkpoints"]})
    last = json.loads((exports / "registry.jsonl").read_text().splitlines()[-2])
    assert (
        last["position"] == counts["checkpoints"]["registry"]["position"]
    )  # the export ends there
    document, checked = report_offline(
        exports,
        save_keys(tmp_path, keys),
        "--unit",
        SHANDONG,
        "--as-of",
        "2016-12-31",
        "--at",
        f"registry={counts['positions']['registry']}",
        "--at",
        f"funding={funds['positions']['funding']}",
    )
    assert document["two_counts"] == {k: v for k, v in counts.items() if k not in FIGURE_KEYS}
    assert document["funds"] == {
        k: v for k, v in funds.items() if k not in ("positions", "checkpoints")
    }
    assert document["logs"]["registry"]["checkpoint"] == counts["checkpoints"]["registry"]
    assert document["logs"]["funding"]["checkpoint"] == funds["checkpoints"]["funding"]
    assert "registry: OK: position" in checked and "funding: OK: position" in checked


def test_the_statistics_table_names_the_checkpoint_of_each_log_it_rests_on(system, tmp_path):
    """Issue 16: the statistics table rests on the registry's, funding's and supervision's logs
    and names a checkpoint for each; reported offline from an export at its positions it is the
    same table, with the same checkpoints."""
    root, api, actors = system
    campaign = api.post("/campaigns", campaign_2016())
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    filed = api.post(
        f"/campaigns/{campaign_id}/self-inspections",
        declaring_all(
            self_inspection(
                SHANDONG, "2017-01-05", experts=1, households=3, people=8, project_funds_wan=0.4
            )
        ),
        token=actors.province,
    )
    assert filed.status_code == 201, filed.text
    table = api.get(f"/campaigns/{campaign_id}/statistics-table", params={"unit": SHANDONG})
    assert table.status_code == 200, table.text
    table = table.json()
    assert set(table["positions"]) == {"registry", "funding", "supervision"}
    assert table["discrepancies"] == [9]  # declared 3 households, 2 paired by the cut-off
    assert_names_a_checkpoint_that_holds_it(table, served_keys(api))

    exports = export(root, tmp_path / "export", table["checkpoints"])
    stops = [
        arg
        for service, position in table["positions"].items()
        for arg in ("--at", f"{service}={position}")
    ]
    document, checked = report_offline(
        exports,
        save_keys(tmp_path, served_keys(api)),
        "--unit",
        SHANDONG,
        "--campaign",
        campaign_id,
        *stops,
    )
    assert document["statistics_table"] == {
        k: v for k, v in table.items() if k not in ("positions", "checkpoints")
    }
    assert {s: a["checkpoint"] for s, a in document["logs"].items()} == table["checkpoints"]
    assert checked.count(": OK: position") == 3


def test_a_report_on_a_log_that_is_not_the_signed_history_fails(system, tmp_path):
    """Issue 16: the report checks the checkpoint it names against the log it read: an export
    whose event was altered after the checkpoint was signed fails (exit 1), naming the log."""
    root, api, _ = system
    counts = api.get("/two-counts", params={"unit": SHANDONG, "as_of": "2016-12-31"}).json()
    exports = export(root, tmp_path / "export")
    exported = (exports / "registry.jsonl").read_text().splitlines()

    def report_on(lines):
        (exports / "registry.jsonl").write_text("\n".join(lines) + "\n")
        return report(exports, *at_shandong(counts))

    altered = json.loads(exported[2])
    altered["version"] += 1  # the bytes the leaf hashes, changed
    result = report_on(
        [*exported[:2], json.dumps(altered, ensure_ascii=False, sort_keys=True), *exported[3:]]
    )
    assert result.exit_code == 1, result.output
    assert "FAILED: registry:" in result.stderr and "not the tree the checkpoint" in result.stderr
    closing = json.loads(exported[-1])  # the note's root hash put beside another tree's size
    closing["signed"] = [{**item, "tree_size": item["tree_size"] - 1} for item in closing["signed"]]
    result = report_on([*exported[:-1], json.dumps(closing, ensure_ascii=False, sort_keys=True)])
    assert result.exit_code == 1 and "not the tree the checkpoint" in result.stderr, result.output


def test_a_report_whose_named_checkpoint_is_not_signed_by_the_key_given_fails(system, tmp_path):
    """Issue 16: ``--key`` checks each named checkpoint's signature: another key fails (exit 1)."""
    from kernel.note import NoteSigner

    root, api, _ = system
    counts = api.get("/two-counts", params={"unit": SHANDONG, "as_of": "2016-12-31"}).json()
    exports = export(root, tmp_path / "export")
    stranger = NoteSigner("kjfp.local/registry", b"\x05" * 32).verifier_key
    result = report(exports, *at_shandong(counts), "--key", stranger)
    assert result.exit_code == 1, result.output
    assert "registry: FAILED: no signature on the note by the verifier key" in result.stderr
