"""Issue 16: each service's log is also a Merkle tree with signed checkpoints; auditors get
inclusion and consistency proofs from the stores, an export or the HTTP API, check them offline
with only the public verifier key, and witness a log's checkpoints over time.

The tree is kept in the real PostgreSQL and in the embedded SQLite file (``store`` fixture); the
HTTP tests run the embedded system (in-process memory:// transport, SQLite, in-process views).
"""

import base64
import json
import time

import pytest
from click.testing import CliRunner

from kernel import merkle
from kernel.chain import event_bytes
from kernel.merkle import ProofError
from kernel.note import NoteSigner, open_checkpoint
from kernel.outbox import Outbox
from kjfp.audit.proofs import check_consistency, check_inclusion
from kjfp.cli import main
from services.registry import SERVICE
from services.registry.tests.forms import household_form
from tests.http_client import start_system
from tests.infrastructure import fresh_database, settings_for

NO_KEY = {"CIPHER_KEY": "not-the-key"}


class Store:
    """A registry log of 11 events published in batches of 4 (signed checkpoints at 4, 8 and 11
    leaves), then one more recorded and not yet published."""

    def __init__(self, kind, tmp_path, database, codes=range(11)):
        self.kind, self.tmp_path = kind, tmp_path
        self.settings = settings_for(tmp_path, event_store=kind, postgres_db=database)
        self.app = SERVICE.open(self.settings)
        self.outbox = Outbox("registry", self.app, (), batch_size=4)
        self.record(codes)
        self.app.register_household(**household_form("371321000199"))
        self.tree = self.outbox.tree
        self.key = self.tree.signer.verifier_key

    def record(self, codes):
        for n in codes:
            self.app.register_household(**household_form(f"3713210001{n:02d}"))
        self.outbox.publish_pending(lambda batch: None)

    def audit(self, *args, **env):
        where = ["--data-dir", str(self.settings.data_dir)] if self.kind == "sqlite" else []
        return CliRunner().invoke(
            main,
            ["audit", *where, *args],
            env={
                **NO_KEY,
                **env,
                **(
                    {"EVENT_STORE": "postgres", "POSTGRES_DB": self.settings.postgres_db}
                    if self.kind == "postgres"
                    else {}
                ),
            },
        )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        built = Store("sqlite", tmp_path, None)
        yield built
        built.app.close()
        return
    with fresh_database() as database:
        built = Store("postgres", tmp_path, database)
        yield built
        built.app.close()


def test_the_stored_tree_is_the_logs_tree_and_each_batch_is_signed(store):
    """Issue 16: leaves are the published events' canonical bytes in log order; a checkpoint is
    signed at the end of every publication batch; every proof the store answers verifies."""
    published = store.app.recorder.select_notifications(start=1, limit=11)
    nodes = merkle.complete_nodes([merkle.leaf_hash(event_bytes(n)) for n in published])
    assert store.tree.last() == (11, 11)
    signed = store.tree.signed()
    assert [s["tree_size"] for s in signed] == [4, 8, 11] and [s["position"] for s in signed] == [
        4,
        8,
        11,
    ]
    for item in signed:
        checkpoint = open_checkpoint(item["note"], [store.key])
        assert checkpoint.origin == "kjfp.local/registry"
        assert (
            checkpoint.root_hash == merkle.hashes([merkle.root_plan(item["tree_size"])], nodes)[0]
        )
    for position in range(1, 12):
        for size in (position, 8, 11) if position <= 8 else (position, 11):
            proof = store.tree.inclusion(position, size)
            assert proof["leaf_index"] == position - 1
            if proof["checkpoint"] is not None and size in (4, 8, 11):
                assert proof["checkpoint"] == store.tree.signed_at(size)
            merkle.verify_inclusion(
                position - 1,
                size,
                nodes[(0, position - 1)],
                [base64.b64decode(p) for p in proof["proof"]],
                merkle.hashes([merkle.root_plan(size)], nodes)[0],
            )
    for first in (4, 8):
        check_consistency(store.tree.consistency(first, 11), [store.key])


def test_falsified_proofs_and_checkpoints_from_the_store_fail(store, tmp_path):
    """Issue 16 must-have, on the store's own proofs: a proof for a different leaf, a truncated or
    reordered path, a wrong tree size, a checkpoint re-signed by another key, an inconsistent pair
    of checkpoints (a log rewritten and signed with the right key) — each fails."""
    proof = store.tree.inclusion(5, 11)
    check_inclusion(proof, [store.key])
    other = store.tree.inclusion(6, 11)
    falsified = [
        {**proof, "leaf_hash": other["leaf_hash"]},
        {**proof, "proof": proof["proof"][:-1]},
        {**proof, "proof": proof["proof"][1:] + proof["proof"][:1]},
        {**proof, "tree_size": 8},
        {**proof, "checkpoint": store.tree.signed_at(8)},
        {**proof, "leaf_index": 5},
    ]
    for bad in falsified:
        with pytest.raises(ProofError):
            check_inclusion(bad, [store.key])
    stranger = NoteSigner("kjfp.local/registry", b"\x07" * 32)
    re_signed = stranger.sign(open_checkpoint(proof["checkpoint"], [store.key]).text())
    with pytest.raises(ProofError):
        check_inclusion({**proof, "checkpoint": re_signed}, [store.key])
    event = next(n for n in store.app.recorder.select_notifications(start=6, limit=1))
    with pytest.raises(ProofError):  # the event bound is not the leaf proved
        check_inclusion(
            proof,
            [store.key],
            event={
                "position": 5,
                "originator_id": str(event.originator_id),
                "version": event.originator_version,
                "topic": event.topic,
                "state": base64.b64encode(bytes(event.state)).decode(),
            },
        )

    rewritten = Store(
        "sqlite", tmp_path / "rewritten", None, codes=[0, 1, 2, 3, 4, 5, 6, 7, 50, 51, 52]
    )
    forked = rewritten.tree.consistency(8, 11)
    assert rewritten.key == store.key  # the same service, the same key: a split view
    honest = store.tree.consistency(8, 11)
    with pytest.raises(ProofError):
        check_consistency({**honest, "second_checkpoint": forked["second_checkpoint"]}, [store.key])
    longer = store.tree.consistency(4, 11)
    assert len(longer["proof"]) == 2
    with pytest.raises(ProofError):
        check_consistency({**longer, "proof": longer["proof"][::-1]}, [store.key])
    rewritten.app.close()


def test_the_cli_proves_from_the_store_and_an_export_and_checks_offline(store, tmp_path):
    """Issue 16: ``kjfp audit prove`` from the stores or an export, ``check-proof`` with only the
    verifier key: 0 verified, 1 falsified, 2 a usage error."""
    inclusion = store.audit("prove", "inclusion", "registry", "--position", "5", "--tree-size", "8")
    assert inclusion.exit_code == 0, inclusion.output
    exported = store.audit("export", "registry", "--out", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output
    from_export = CliRunner().invoke(
        main,
        [
            "audit",
            "--exports",
            str(tmp_path / "out"),
            "prove",
            "inclusion",
            "registry",
            "--position",
            "5",
            "--tree-size",
            "8",
        ],
        env=NO_KEY,
    )
    assert from_export.exit_code == 0, from_export.output
    assert json.loads(from_export.output) == json.loads(inclusion.output)
    (tmp_path / "inclusion.json").write_text(inclusion.output)
    line = (tmp_path / "out/registry.jsonl").read_text().splitlines()[5]
    (tmp_path / "event.json").write_text(line)

    def check(*args):
        return CliRunner().invoke(main, ["audit", "check-proof", *args], env=NO_KEY)

    verified = check(
        str(tmp_path / "inclusion.json"),
        "--key",
        store.key,
        "--event",
        str(tmp_path / "event.json"),
    )
    assert verified.exit_code == 0, verified.output
    assert (
        "OK: the event at position 5 (leaf 4) is in kjfp.local/registry size 8" in verified.output
    )
    doc = json.loads(inclusion.output)
    (tmp_path / "bad.json").write_text(json.dumps({**doc, "proof": doc["proof"][::-1]}))
    refused = check(str(tmp_path / "bad.json"), "--key", store.key)
    assert refused.exit_code == 1 and "FAILED" in refused.output
    assert check(str(tmp_path / "inclusion.json")).exit_code == 2  # no key given

    consistency = CliRunner().invoke(
        main,
        [
            "audit",
            "--exports",
            str(tmp_path / "out"),
            "prove",
            "consistency",
            "registry",
            "--first",
            "4",
        ],
        env=NO_KEY,
    )
    assert consistency.exit_code == 0, consistency.output
    (tmp_path / "consistency.json").write_text(consistency.output)
    verified = check(str(tmp_path / "consistency.json"), "--key", store.key)
    assert verified.exit_code == 0 and "size 11" in verified.output and "extends" in verified.output
    missing = store.audit("prove", "inclusion", "registry", "--position", "12")
    assert missing.exit_code == 2 and "position" in missing.output  # recorded, not yet published


def test_the_witness_takes_an_extension_and_refuses_a_rewritten_history(store, tmp_path):
    """Issue 16: ``kjfp audit witness`` keeps the last checkpoint per service and refuses (exit 1,
    naming both checkpoints) one that is not consistent with it."""
    state = str(tmp_path / "witness.json")
    first = store.audit("witness", "registry", "--state", state)
    assert first.exit_code == 0, first.output
    assert "registry: kjfp.local/registry size 11" in first.output and "first seen" in first.output
    store.record(range(20, 26))
    grown = store.audit("witness", "registry", "--state", state)
    assert grown.exit_code == 0, grown.output
    assert "size 18" in grown.output and "consistent with the kept size 11" in grown.output

    rewritten = Store(
        "sqlite", tmp_path / "rewritten", None, codes=list(range(10)) + list(range(30, 38))
    )
    new = rewritten.tree.signed(1)[-1]
    rewritten.app.close()
    assert rewritten.key == store.key
    kept_note = json.loads((tmp_path / "witness.json").read_text())["registry"]["note"]
    refused = CliRunner().invoke(
        main,
        [
            "audit",
            "--data-dir",
            str(rewritten.settings.data_dir),
            "witness",
            "registry",
            "--state",
            state,
        ],
        env=NO_KEY,
    )
    assert refused.exit_code == 1, refused.output
    old = open_checkpoint(kept_note, [store.key])
    assert "REFUSED" in refused.output and f"size {old.tree_size} root" in refused.output
    assert f"size {new['tree_size']} root {new['root_hash']}" in refused.output
    assert json.loads((tmp_path / "witness.json").read_text())["registry"]["note"] == kept_note


def test_after_a_key_rotation_old_checkpoints_verify_with_the_old_key_and_new_ones_with_the_new(
    tmp_path,
):
    """Issue 16 (OPERATIONS.md, "Rotate the checkpoint signing key"): a new key signs from then on;
    the notes signed before keep their signature and the old key stays listed; a witness takes
    the first note of the new key only once given it."""
    store = Store("sqlite", tmp_path, None)
    state = str(tmp_path / "witness.json")
    assert store.audit("witness", "registry", "--state", state).exit_code == 0
    rotated = NoteSigner("kjfp.local/registry", b"\x09" * 32)
    store.outbox = Outbox("registry", store.app, (), batch_size=4, signer=rotated)
    store.record(range(40, 44))
    tree = store.outbox.tree
    assert tree.verifier_keys() == [store.key, rotated.verifier_key]
    by_size = {item["tree_size"]: item for item in tree.signed()}
    assert (
        by_size[11]["verifier_key"] == store.key
        and by_size[16]["verifier_key"] == rotated.verifier_key
    )
    open_checkpoint(by_size[11]["note"], [store.key])
    with pytest.raises(ProofError):
        open_checkpoint(by_size[16]["note"], [store.key])
    check_consistency(tree.consistency(11, 16), [store.key, rotated.verifier_key])

    refused = store.audit("witness", "registry", "--state", state)
    assert (
        refused.exit_code == 1 and "no signature on the note by the verifier key" in refused.output
    )
    taken = store.audit("witness", "registry", "--state", state, "--key", rotated.verifier_key)
    assert taken.exit_code == 0 and "consistent with the kept size 11" in taken.output, taken.output
    store.app.close()


def test_two_replicas_publishing_at_once_grow_one_tree(tmp_path):
    """Issue 16, on the real PostgreSQL: two replicas of a service publish the same log at the same
    time (at-least-once); the tree they append to is the log's one tree, each leaf once, and every
    checkpoint either signs is consistent with the others."""
    import eventlet

    with fresh_database() as database:
        store = Store("postgres", tmp_path, database, codes=range(0))
        other = SERVICE.open(store.settings)
        replicas = [
            Outbox("registry", store.app, (), batch_size=3),
            Outbox("registry", other, (), batch_size=5),
        ]
        for n in range(30):
            store.app.register_household(**household_form(f"3713210002{n:02d}"))
        for pool in [
            eventlet.spawn(r.publish_pending, lambda batch: eventlet.sleep(0)) for r in replicas
        ]:
            pool.wait()
        published = store.app.recorder.select_notifications(start=1, limit=100)
        nodes = merkle.complete_nodes([merkle.leaf_hash(event_bytes(n)) for n in published])
        assert store.tree.last() == (31, 31)
        assert store.tree.root(31) == merkle.hashes([merkle.root_plan(31)], nodes)[0]
        signed = store.tree.signed(100)
        for earlier in signed[:-1]:
            check_consistency(store.tree.consistency(earlier["tree_size"], 31), [store.key])
        other.close()
        store.app.close()


def test_verify_catches_a_log_rewritten_with_its_chain_by_the_signed_checkpoints(store):
    """Issue 16: someone with database access who deletes the last event and rewrites the chain's
    links and checkpoints to fit cannot re-sign the Merkle checkpoint: ``kjfp audit verify``
    recomputes the tree and finds the signed one no longer matches."""
    assert store.audit("verify", "registry").exit_code == 0
    prefix = "" if store.kind == "sqlite" else "registry."
    statements = [
        f"DELETE FROM {prefix}chain_links WHERE position = 11",
        f"DELETE FROM {prefix}chain_checkpoints WHERE position = 11",
    ]
    if store.kind == "sqlite":
        import sqlite3

        with sqlite3.connect(store.settings.data_dir / "registry.sqlite") as conn:
            for statement in ["DELETE FROM stored_events WHERE rowid = 11"] + statements:
                conn.execute(statement)
    else:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 user=postgres dbname={store.settings.postgres_db}"
        ) as conn:
            for statement in [
                "DELETE FROM registry.registry_events WHERE notification_id = 11"
            ] + statements:
                conn.execute(statement)
    result = store.audit("verify", "registry")
    assert result.exit_code == 1, result.output
    assert "3 signed checkpoints checked" in result.output and ": signed: " in result.output


def test_a_log_published_before_the_tree_existed_gets_its_tree(tmp_path):
    """Issue 16: a store whose log was published (chained) before the Merkle tree was introduced
    gets its whole tree at the next publication, the same as if it had always been kept."""
    import sqlite3

    store = Store("sqlite", tmp_path, None)
    root = store.tree.root(11)
    with sqlite3.connect(store.settings.data_dir / "registry.sqlite") as conn:
        for table in ("merkle_leaves", "merkle_nodes", "signed_checkpoints"):
            conn.execute(f"DELETE FROM {table}")
    store.outbox.publish_pending(lambda batch: None)  # publishes the 12th event, catching up first
    assert store.tree.last() == (12, 12) and store.tree.root(11) == root
    store.app.close()


@pytest.fixture
def api(tmp_path):
    service_runner, client = start_system(tmp_path)
    yield client
    service_runner.stop()


def test_proofs_served_over_http_verify_with_the_published_key(api, tmp_path):
    """Issue 16: the audit API's signed checkpoints, inclusion and consistency proofs verify with
    its verifier key alone; bad queries are 400 naming the field; a position not in the tree 404,
    a tree size beyond it 422; auditors only; the witness runs against the API."""
    auditor = api.token("auditor", "national")

    def audit(path, **params):
        return api.get(f"/audit/{path}", params={"service": "registry", **params}, token=auditor)

    for n in range(3):
        api.post("/households", household_form(f"37132100000{n}"))
    deadline = time.monotonic() + 10
    while (
        not (served := audit("checkpoints").json())["signed"]
        or open_checkpoint(served["signed"][-1], [served["verifier_key"]]).tree_size < 3
    ):
        assert time.monotonic() < deadline, "the pump never published"
        time.sleep(0.1)
    key = served["verifier_key"]
    assert served["verifier_keys"] == [key] and key.startswith("kjfp.local/registry+")
    state = str(tmp_path / "witness.json")
    witness = [
        "audit",
        "witness",
        "registry",
        "--state",
        state,
        "--url",
        api.base,
        "--token",
        auditor,
    ]
    assert CliRunner().invoke(main, witness).exit_code == 0

    for n in range(3, 6):
        api.post("/households", household_form(f"37132100000{n}"))
    deadline = time.monotonic() + 10
    while (size := open_checkpoint(audit("checkpoints").json()["signed"][-1], [key]).tree_size) < 6:
        assert time.monotonic() < deadline, "the pump never published"
        time.sleep(0.1)
    inclusion = audit("proofs/inclusion", position=2)
    assert inclusion.status_code == 200, inclusion.text
    body = inclusion.json()
    assert {
        "service",
        "position",
        "leaf_index",
        "tree_size",
        "leaf_hash",
        "proof",
        "checkpoint",
    } <= set(body)
    assert check_inclusion(body, [key]).tree_size == size
    event = audit("events", after=1, limit=1).json()["items"][0]  # the leaf is that event's bytes
    check_inclusion(body, [key], event=event)
    at_three = audit("proofs/inclusion", position=2, tree_size=3).json()
    assert check_inclusion(at_three, [key]).tree_size == 3
    consistency = audit("proofs/consistency", first=3, second=size)
    assert consistency.status_code == 200, consistency.text
    assert set(consistency.json()) >= {"service", "first", "second", "proof"}
    check_consistency(consistency.json(), [key])
    grown = CliRunner().invoke(main, witness)
    assert grown.exit_code == 0 and "consistent with the kept size 3" in grown.output, grown.output

    def refused(path, status, field, **params):
        answer = audit(path, **params)
        assert answer.status_code == status and field in answer.json()["details"], answer.text

    refused("proofs/inclusion", 400, "position")
    refused("proofs/inclusion", 400, "position", position="x")
    refused("proofs/inclusion", 400, "tree_size", position=1, tree_size=0)
    refused("proofs/inclusion", 404, "position", position=10_000)
    refused("proofs/inclusion", 422, "tree_size", position=1, tree_size=size + 1)
    refused("proofs/inclusion", 422, "tree_size", position=5, tree_size=3)
    refused("proofs/consistency", 400, "first", first=2**60)
    refused("proofs/consistency", 422, "first", first=size, second=2)
    refused("proofs/consistency", 422, "second", first=1, second=size + 1)
    not_an_auditor = api.get(
        "/audit/proofs/inclusion", params={"service": "registry", "position": 1}
    )
    assert not_an_auditor.status_code == 403
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/audit/proofs/inclusion", "/audit/proofs/consistency"} <= set(paths)
