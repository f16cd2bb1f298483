"""The operations guide's procedures (deploy/OPERATIONS.md) with its own commands: back up a
service's event store with pg_dump and restore it, check it with ``kjfp audit verify`` and
rebuild its views with ``kjfp rebuild-views`` (real PostgreSQL, MongoDB stand-in); rotate the
token secret; a process whose service died exits for its restart policy."""

import signal
import subprocess

import pymongo
import pytest

from gateway.auth import Authenticator
from kernel.auth import mint
from kernel.errors import Unauthorized
from kernel.outbox import Outbox
from services.registry import SERVICE
from services.registry.tests.forms import household_form
from tests.infrastructure import (
    POSTGRES_HOST,
    PYTHON,
    ROOT,
    distributed_env,
    fresh_database,
)


def kjfp(env, *args):
    return subprocess.run(
        [PYTHON, "-m", "kjfp.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_restored_backup_verifies_and_the_views_are_rebuilt_from_it(
    tmp_path, amqp_uri, mongo_uri
):
    with fresh_database() as database:
        env = distributed_env(amqp_uri, database, mongo_uri)
        app = SERVICE.open(_settings(env))
        for n in range(5):
            app.register_household(**household_form(f"37132100000{n}"))
        Outbox("registry", app, SERVICE.personal_fields).publish_pending(lambda batch: None)
        app.close()
        built = kjfp(env, "rebuild-views", "registry")
        assert built.returncode == 0, built.stderr
        assert "registry.two_counts rebuilt to position 5" in built.stdout

        dump = tmp_path / "registry.dump"
        postgres = ["-h", POSTGRES_HOST, "-U", "postgres", "-d", database]
        subprocess.run(["pg_dump", *postgres, "-n", "registry", "-Fc", "-f", str(dump)], check=True)
        subprocess.run(
            ["psql", *postgres, "-c", "DROP SCHEMA registry CASCADE"],
            check=True,
            capture_output=True,
        )
        assert kjfp(env, "audit", "verify", "registry").returncode == 2  # gone
        subprocess.run(["pg_restore", *postgres, "--clean", "--if-exists", str(dump)], check=True)

        verified = kjfp(env, "audit", "verify", "registry")
        assert verified.returncode == 0 and "registry: OK" in verified.stdout, (
            verified.stdout + verified.stderr
        )
        views = pymongo.MongoClient(mongo_uri)[env["VIEWS_DB"]]
        views["registry_households"].update_one({"_id": "371321000003"}, {"$set": {"people": 99}})
        assert kjfp(env, "audit", "replay", "registry").returncode == 1
        assert kjfp(env, "rebuild-views", "registry").returncode == 0
        replayed = kjfp(env, "audit", "replay", "registry")
        assert replayed.returncode == 0, replayed.stdout
        views.client.drop_database(env["VIEWS_DB"])


def _settings(env):
    from kernel import config

    return config.Settings(
        event_store="postgres",
        postgres_db=env["POSTGRES_DB"],
        postgres_host=env["POSTGRES_HOST"],
        cipher_key=env["CIPHER_KEY"],
        pii_hash_key=env["PII_HASH_KEY"],
    )


def test_rotating_the_token_secret_keeps_issued_tokens_until_they_expire():
    old, new = "the-secret-being-rotated-out-32-bytes", "the-new-token-secret-of-32-bytes-or-more"
    issued, fresh = mint(old, "auditor", "national"), mint(new, "auditor", "national")
    during, after = Authenticator(new, previous_secret=old), Authenticator(new)
    for token in (issued, fresh):
        assert during.actor(Request(token)).role == "auditor"
    assert after.actor(Request(fresh)).role == "auditor"
    with pytest.raises(Unauthorized):
        after.actor(Request(issued))
    with pytest.raises(Unauthorized):  # expired is expired, whichever secret signed it
        during.actor(Request(mint(old, "auditor", "national", ttl_seconds=-1)))


class Request:
    def __init__(self, token):
        self.headers = {"Authorization": f"Bearer {token}"}


class DyingRunner:
    """Stands in for nameko's ServiceRunner (a fake, not the real parts): its container dies."""

    stopped = False

    def wait(self):
        raise RuntimeError("the container died")

    def stop(self):
        DyingRunner.stopped = True


def test_a_process_whose_service_container_dies_exits_for_its_restart_policy(monkeypatch):
    from click.testing import CliRunner

    from kjfp import runner
    from kjfp.cli import main

    monkeypatch.setattr(runner, "start", lambda settings, names: DyingRunner())
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # keep pytest's own handlers
    result = CliRunner().invoke(main, ["service", "registry"])
    assert result.exit_code == 1  # not a process lingering with nothing serving
    assert not DyingRunner.stopped  # nameko stopped the peers already; nothing to stop gracefully
