"""An auditor verifies a registry log that someone with database access has tampered with, on the
real PostgreSQL and on the embedded SQLite file, through the ``kjfp audit verify`` command: each
of the four ways of tampering is caught at the position where it happened, and named; an
untouched log verifies, and so does its export copied elsewhere. No key is given to the tools."""

import json
import re
import shutil
import uuid

import psycopg
import pytest
from click.testing import CliRunner

from kernel.outbox import Outbox
from kjfp.cli import main
from services.registry import SERVICE
from services.registry.tests.forms import household_form
from tests.infrastructure import fresh_database, settings_for

NO_KEY = {"CIPHER_KEY": "not-the-key"}


class Store:
    """A registry log of 12 events, published in two batches (checkpoints at 6 and 11), then one
    more recorded and not yet published; and raw SQL access to it, as a tamperer has."""

    def __init__(self, kind, tmp_path, database):
        self.kind = kind
        self.settings = settings_for(tmp_path, event_store=kind, postgres_db=database)
        app = SERVICE.open(self.settings)
        outbox = Outbox("registry", app, ())
        for n in range(6):
            app.register_household(**household_form(f"3713210001{n:02d}"))
        outbox.publish_pending(lambda batch: None)
        for n in range(6, 11):
            app.register_household(**household_form(f"3713210001{n:02d}"))
        outbox.publish_pending(lambda batch: None)
        app.register_household(**household_form("371321000199"))
        app.close()

    def execute(self, statements):
        if self.kind == "sqlite":
            import sqlite3

            with sqlite3.connect(self.settings.data_dir / "registry.sqlite") as conn:
                for sql, params in statements:
                    conn.execute(
                        sql.replace("{events}", "stored_events")
                        .replace("{id}", "rowid")
                        .replace("%s", "?"),
                        params,
                    )
        else:
            with psycopg.connect(
                f"host=127.0.0.1 user=postgres dbname={self.settings.postgres_db}"
            ) as conn:
                for sql, params in statements:
                    conn.execute(
                        sql.replace("{events}", "registry.registry_events").replace(
                            "{id}", "notification_id"
                        ),
                        params,
                    )

    def verify(self, *args):
        return self.audit("verify", "registry", *args)

    def audit(self, *args):
        if self.kind == "sqlite":
            return CliRunner().invoke(
                main, ["audit", "--data-dir", str(self.settings.data_dir), *args], env=NO_KEY
            )
        return CliRunner().invoke(
            main,
            ["audit", *args],
            env={**NO_KEY, "EVENT_STORE": "postgres", "POSTGRES_DB": self.settings.postgres_db},
        )


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store("sqlite", tmp_path, None)
        return
    with fresh_database() as database:
        yield Store("postgres", tmp_path, database)


def first_break(result):
    match = re.search(r"BROKEN at position (\d+): (\w+)", result.output)
    assert match, result.output
    return int(match[1]), match[2]


def test_an_untouched_log_verifies_without_the_key(store):
    result = store.verify()
    assert result.exit_code == 0, result.output
    assert "registry: 12 events, chained to position 11, 2 checkpoints checked" in result.output
    assert "1 recorded after the last link (not yet published)" in result.output
    assert "registry: OK" in result.output


def test_an_altered_event_is_caught_where_it_was_altered(store):
    store.execute([("UPDATE {events} SET state = %s WHERE {id} = 5", (b"\x00" * 64,))])
    result = store.verify()
    assert result.exit_code == 1
    assert first_break(result) == (5, "altered")


def test_a_deleted_event_is_caught_where_it_was(store):
    store.execute([("DELETE FROM {events} WHERE {id} = 5", ())])
    result = store.verify()
    assert result.exit_code == 1
    assert first_break(result) == (5, "deleted")
    assert "the event chained at 5 is missing from the log" in result.output


def test_two_events_swapped_are_caught_as_reordered(store):
    store.execute(
        [
            ("UPDATE {events} SET {id} = 1000 WHERE {id} = 4", ()),
            ("UPDATE {events} SET {id} = 4 WHERE {id} = 7", ()),
            ("UPDATE {events} SET {id} = 7 WHERE {id} = 1000", ()),
        ]
    )
    result = store.verify()
    assert result.exit_code == 1
    assert first_break(result) == (4, "reordered")
    assert "the event chained at 4 is now at 7; the one now at 4 was chained at 7" in result.output


def test_an_event_slipped_in_is_caught_as_inserted(store):
    """The forger makes room at position 5 by moving every later event up one, then writes a
    household registration of their own there, encrypted as the others are."""
    store.execute(
        [("UPDATE {events} SET {id} = {id} + 1 WHERE {id} = %s", (p,)) for p in range(12, 4, -1)]
        + [
            (
                "INSERT INTO {events} (originator_id, originator_version, topic, state, {id}) "
                "SELECT %s, 1, topic, state, 5 FROM {events} WHERE {id} = 4",
                (str(uuid.uuid4()),),
            )
        ]
    )
    result = store.verify()
    assert result.exit_code == 1
    assert first_break(result) == (5, "inserted")
    assert "the one chained there moved to 6" in result.output


def test_the_export_verifies_elsewhere_and_carries_the_state_encrypted(store, tmp_path):
    exported = store.audit("export", "registry", "--out", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output
    copy = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "out", copy)
    lines = (copy / "registry.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 12 + 1
    assert json.loads(lines[-1])["final_checkpoint"]["position"] == 11
    assert "张三" not in "".join(lines)  # the state stays as stored: encrypted

    result = CliRunner().invoke(
        main, ["audit", "--exports", str(copy), "verify", "registry"], env=NO_KEY
    )
    assert result.exit_code == 0, result.output
    assert "registry: OK" in result.output

    tampered = (
        lines[:5]
        + [lines[5].replace(json.loads(lines[5])["state"], json.loads(lines[6])["state"])]
        + lines[6:]
    )
    (copy / "registry.jsonl").write_text("\n".join(tampered) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["audit", "--exports", str(copy), "verify", "registry"], env=NO_KEY
    )
    assert result.exit_code == 1
    assert first_break(result) == (5, "altered")


def test_a_log_rewritten_with_its_links_is_caught_by_the_checkpoints_kept_elsewhere(
    store, tmp_path
):
    """A forger who alters an event and rewrites every link after it to fit (and deletes the
    signed checkpoint they cannot forge) still cannot match the checkpoints the auditor saved
    from the audit API before."""
    kept = tmp_path / "kept.json"
    exported = store.audit("export", "registry", "--out", str(tmp_path / "before"))
    assert exported.exit_code == 0, exported.output
    checkpoints = json.loads((tmp_path / "before/registry.jsonl").read_text().splitlines()[-1])[
        "checkpoints"
    ]
    kept.write_text(json.dumps({"service": "registry", "checkpoints": checkpoints}))
    store.execute([("DELETE FROM {events} WHERE {id} = 11", ())])  # then rewrite the ledger to fit:
    ledger = "chain_{}" if store.kind == "sqlite" else "registry.chain_{}"
    store.execute(
        [
            (f"DELETE FROM {ledger.format('links')} WHERE position = 11", ()),
            (f"DELETE FROM {ledger.format('checkpoints')} WHERE position = 11", ()),
            (
                f"DELETE FROM {'' if store.kind == 'sqlite' else 'registry.'}signed_checkpoints "
                "WHERE tree_size = 11",
                (),
            ),
        ]
    )

    assert store.verify().exit_code == 0  # the store alone now looks whole
    result = store.verify("--checkpoints", str(kept))
    assert result.exit_code == 1
    assert first_break(result)[1] == "checkpoint"
