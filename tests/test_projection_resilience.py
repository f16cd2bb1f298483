"""Issue 13 item 2: no input can stall the read side. An event a projection cannot apply (targets
of 2^63, which BSON cannot encode), recorded behind the gateway's back through the registry's
own Application, stops that projection there and says so: ``GET /ready`` is 503 naming it, reads
answer 200 from the views as they stand with their positions (marked stale), one log line, and
``kjfp projections`` shows it. A fixed handler then resumes it and it catches up.

Run on the embedded system (memory:// transport, SQLite event store, the embedded view store)
and on the real parts (RabbitMQ, PostgreSQL, MongoDB over pymongo: the nx-27017 stand-in)."""

import logging
import socket
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
import requests
from click.testing import CliRunner

from kernel import auth, config
from kjfp import runner
from kjfp.bootstrap import declaration, declarations
from kjfp.sample_data import id_number
from services.registry.domain import Targets
from services.registry.projection import TwoCountsProjection, _Batch
from services.registry.tests.forms import expert_form
from tests.infrastructure import POSTGRES_HOST, distributed_env, free_port, settings_for

UNIT = "city:山东/临沂"


def until(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the condition never held")


@pytest.fixture
def embedded(tmp_path):
    settings = settings_for(tmp_path, http_port=free_port())
    system = runner.start(settings)
    yield settings, {"KJFP_DATA_DIR": str(settings.data_dir), "VIEWS_DB": settings.views_db}
    system.stop()


@pytest.fixture
def real_parts(monkeypatch, amqp_uri, postgres_db, mongo_uri):
    with psycopg.connect(
        f"host={POSTGRES_HOST} user=postgres dbname={postgres_db}", autocommit=True
    ) as conn:
        for name in declarations():
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    env = distributed_env(amqp_uri, postgres_db, mongo_uri, HTTP_PORT=free_port())
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = config.load()
    system = runner.start(settings)
    yield settings, {}
    system.stop()


@pytest.mark.parametrize("system", ["embedded", "real_parts"])
def test_an_event_a_projection_cannot_apply_stops_it_there_and_it_says_so(
    system, request, caplog, monkeypatch
):
    settings, cli_env = request.getfixturevalue(system)
    base = f"http://127.0.0.1:{settings.http_port}"
    token = auth.mint(settings.token_secret, "national_office", "national", "t")
    headers = {"Authorization": f"Bearer {token}"}

    def get(path, **params):
        return requests.get(base + path, params=params, headers=headers, timeout=30)

    assert get("/api/v1/experts", unit="province:山东").status_code == 200  # started
    created = requests.post(
        base + "/api/v1/experts", json=expert_form(), headers=headers, timeout=30
    )
    assert created.status_code == 201
    app = declaration("registry").open(settings)
    try:
        # An event past every check (recorded before the aggregate bounded targets, or by a bug):
        # the aggregate's own command refuses it, so it is made here as the store would hold it.
        app.save(
            Targets(
                unit=UNIT,
                year=2020,
                targets={"households_paired": 2**63},
                effective_date="2020-01-01",
            )
        )
        bad = app.recorder.max_notification_id()
    finally:
        app.close()

    with caplog.at_level(logging.WARNING, logger="kjfp.projection"):
        ready = until(
            lambda: (r := get("/ready")).status_code == 503 and r.json()["projections"] and r.json()
        )
        stopped = ready["projections"][0]
        assert stopped["service"] == "registry" and stopped["projection"] == "registry.two_counts"
        assert (
            stopped["state"] == "stopped"
            and stopped["position"] == bad - 1
            and stopped["head"] == bad
        )
        assert stopped["error"]["position"] == bad and stopped["error"]["event"] == "TargetsSet"
        assert stopped["error"]["type"] == "OverflowError"
        assert get("/api/v1/ready").json()["projections"][0]["error"]["position"] == bad
        assert ready["checks"]["registry"] == "not ready"

        for _ in range(3):  # every read answers from the views as they stand, with their position
            counts = get("/api/v1/two-counts", unit="national")
            assert counts.status_code == 200 and counts.json()["positions"] == {"registry": bad - 1}
            assert counts.json()["experts"] == 1
            assert counts.json()["stale"]["projection"] == "registry.two_counts"
            assert get("/api/v1/experts", unit="province:山东").status_code == 200
            assert (
                get("/api/v1/two-counts/explain", unit="national", metric="experts").status_code
                == 200
            )

        shown = CliRunner().invoke(_cli(), ["projections"], env=cli_env)
        assert shown.exit_code == 1, shown.output
        line = next(line for line in shown.output.splitlines() if "registry.two_counts" in line)
        assert (
            f"cannot apply log position {bad} (TargetsSet): OverflowError" in line
            and "stopped" in line
        )
        assert str(2**63) not in shown.output

        until(lambda: any("still stopped" in r.getMessage() for r in caplog.records), timeout=30)
        stops = [
            r
            for r in caplog.records
            if r.getMessage().startswith("projection registry.two_counts stopped at")
        ]
        assert len(stops) == 1 and stops[0].levelname == "ERROR"

        def fixed(
            self, position, e
        ):  # what a deployed fix does: the figure within what a view holds
            original(self, position, e)
            collection, kind, key, fields = self.plain[-1]
            targets = {k: min(v, 2**62) for k, v in fields["targets"].items()}
            self.plain[-1] = (collection, kind, key, {**fields, "targets": targets})

        original = _Batch.on_TargetsSet
        monkeypatch.setattr(_Batch, "on_TargetsSet", fixed)
        until(lambda: get("/ready").status_code == 200, timeout=60)
        counts = get("/api/v1/two-counts", unit=UNIT, as_of="2020-06-30").json()
        assert counts["positions"] == {"registry": bad} and "stale" not in counts
        assert counts["targets"]["households_paired"] == 2**62
        assert any("resumed" in r.getMessage() for r in caplog.records)
    shown = CliRunner().invoke(_cli(), ["projections"], env=cli_env)
    assert shown.exit_code == 0 and "stopped" not in shown.output


def _cli():
    from kjfp.cli import main

    return main


def test_two_runners_never_apply_one_projection_at_once(tmp_path):
    """Issue 13 item 2 (the lease): a second process's runner leaves a projection to the one
    holding its lease, and reads what that one applied; it takes over once the lease is given up."""
    from kernel import views
    from kernel.projection import ProjectionRunner

    settings = settings_for(tmp_path)
    app = declaration("registry").open(settings)
    store = views.connect(settings)
    try:
        app.register_expert(**expert_form())
        first = ProjectionRunner(app, store, TwoCountsProjection(), owner="replica-1")
        second = ProjectionRunner(app, store, TwoCountsProjection(), owner="replica-2")
        assert first.run() == app.recorder.max_notification_id()
        app.register_expert(
            **expert_form(id_number=id_number("371321", "19960313", "021"), name="李四")
        )
        head = app.recorder.max_notification_id()
        assert second.run() == first.position() < head  # not its turn: nothing applied
        assert first.run() == head
        first.release()
        app.register_expert(
            **expert_form(id_number=id_number("371321", "19960314", "031"), name="赵六")
        )
        assert second.run() == app.recorder.max_notification_id()
        assert store["registry_experts"].count_documents({}) == 3
    finally:
        app.close()


def test_a_lease_whose_holder_on_this_host_has_ended_is_taken_over_at_once(tmp_path):
    """Issue 14 (seen in the fault test): a registry killed mid-batch kept its lease for 30 s,
    and its restart waited that out while the views stood half written. A lease held by a process
    of this host that has ended is taken over at once; one whose holder still runs is not."""
    from kernel import views
    from kernel.projection import ProjectionRunner

    settings = settings_for(tmp_path)
    app = declaration("registry").open(settings)
    store = views.connect(settings)
    holder_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        app.register_expert(**expert_form())
        owner = f"{socket.gethostname()}:{holder_process.pid}:{uuid.uuid4().hex[:8]}"
        holder = ProjectionRunner(app, store, TwoCountsProjection(), owner=owner)
        successor = ProjectionRunner(app, store, TwoCountsProjection())  # this process
        assert holder.run() == app.recorder.max_notification_id()
        app.register_expert(
            **expert_form(id_number=id_number("371321", "19960313", "021"), name="李四")
        )
        head = app.recorder.max_notification_id()
        assert successor.run() == holder.position() < head  # its holder runs: left to it

        holder_process.kill()  # its lease has ~30 s to go
        holder_process.wait()
        assert successor.run() == head
        assert store["registry_experts"].count_documents({}) == 2
    finally:
        holder_process.kill()
        holder_process.wait()
        app.close()


class Killed(BaseException):
    """A process killed mid-write: nothing of it catches this, as nothing catches SIGKILL."""


@pytest.fixture(params=["embedded view store", "MongoDB over the wire"])
def replica_settings(request, tmp_path):
    """Settings two replicas share: the embedded view store, or the nx-27017 stand-in through
    real pymongo (where replicas on two hosts share their views)."""
    if request.param == "embedded view store":
        return settings_for(tmp_path)
    return settings_for(tmp_path, mongo_uri=request.getfixturevalue("mongo_uri"))


def _figures(views):
    from services.registry import queries

    experts = views["registry_experts"].count_documents({})
    return experts, queries.figures(views, "province:山东", None)


def test_a_replica_never_reads_a_batch_another_left_half_written(replica_settings, monkeypatch):
    """Issue 14 (audit-proof figures): a replica killed while writing a batch left its views half
    written, and until its lease ran out every other replica answered from them: experts listed
    that the 两数 did not count, under a position that had neither. Now the batch is marked while
    it is written; another replica answers 503 naming the positions meanwhile, and, once the
    lease has run out, takes over, finishes the batch and answers what a replay gives."""
    from kernel import projection, views
    from kernel.errors import ViewsBuilding
    from kernel.projection import ProjectionRunner
    from kjfp.audit import replay as audit_replay
    from tests import auditing

    monkeypatch.setattr(projection, "READ_WAIT_SECONDS", 0.1)
    app = declaration("registry").open(replica_settings)
    store = views.connect(replica_settings)
    later = [0.0]
    try:
        app.register_expert(**expert_form())
        holder = ProjectionRunner(app, store, TwoCountsProjection(), owner="host-a:1:aaaa")
        other = ProjectionRunner(
            app,
            store,
            TwoCountsProjection(),
            owner="host-b:1:bbbb",
            clock=lambda: time.time() + later[0],
        )
        before = holder.run()
        assert _figures(store)[1]["experts"] == 1
        for day, serial in (("13", "021"), ("14", "031")):
            app.register_expert(
                **expert_form(id_number=id_number("371321", f"199603{day}", serial), name="李四")
            )
        head = app.recorder.max_notification_id()

        written = views.write_absolute

        def killed_before_the_counts(collection, documents):
            if collection.name == "registry_counts":  # the experts are written by then
                raise Killed
            written(collection, documents)

        monkeypatch.setattr(views, "write_absolute", killed_before_the_counts)
        with pytest.raises(Killed):
            holder.run()
        monkeypatch.setattr(views, "write_absolute", written)
        assert store["registry_experts"].count_documents({}) == 3  # half written beyond `before`
        assert holder.position() == before

        with pytest.raises(ViewsBuilding) as refused:
            other.read(_figures)
        assert f"positions {before + 1} to {head}" in refused.value.message
        monkeypatch.setattr(audit_replay, "SETTLE_SECONDS", 0.01)
        audited = auditing.replay(replica_settings, store, ["registry"])["registry"]
        assert audited.unsettled == ["registry.two_counts"]
        assert "stood mid-batch while read: compare again when quiet" in audited.lines()[0]

        later[0] = projection.LEASE_SECONDS + 1  # the killed holder's lease has run out
        position, (listed, figures) = other.read(_figures)
        assert position == head and listed == 3 and figures["experts"] == 3
        assert store["tracking"].find_one({"_id": "registry.two_counts"})["writing"] is None
        audited = auditing.replay(replica_settings, store, ["registry"])["registry"]
        assert not audited.unsettled and not audited.differences, audited.lines()
    finally:
        app.close()


def test_a_replica_reading_while_another_applies_answers_for_one_position(tmp_path):
    """A replica's read that the holder's batch overtook is made again: the answer and the
    position it names are of one state of the views, never a mix (what its checkpoint signs)."""
    from kernel import views
    from kernel.projection import ProjectionRunner

    settings = settings_for(tmp_path)
    app = declaration("registry").open(settings)
    store = views.connect(settings)
    try:
        app.register_expert(**expert_form())
        holder = ProjectionRunner(app, store, TwoCountsProjection(), owner="host-a:1:aaaa")
        other = ProjectionRunner(app, store, TwoCountsProjection(), owner="host-b:1:bbbb")
        first = holder.run()
        queried = []

        def overtaken_once(views):
            queried.append(_figures(views))
            if len(queried) == 1:  # the holder applies a new registration meanwhile
                app.register_expert(
                    **expert_form(id_number=id_number("371321", "19960313", "021"), name="李四")
                )
                holder.run()
            return queried[-1]

        position, (listed, _) = other.read(overtaken_once)
        assert len(queried) == 2 and position == app.recorder.max_notification_id() > first
        assert listed == 2
    finally:
        app.close()


def test_views_written_by_an_older_version_of_a_projection_are_built_again_from_the_log(tmp_path):
    """Views whose shape a new version changed (the registry's frame came with version 2) are
    not patched: the first run of the new version drops them and replays the whole log; later
    runs go on from their position. (Embedded view store, SQLite event store.)"""
    from kernel import views
    from kernel.projection import ProjectionRunner

    class Older(TwoCountsProjection):
        version = 1

    settings = settings_for(tmp_path)
    app = declaration("registry").open(settings)
    store = views.connect(settings)
    try:
        app.register_expert(**expert_form())
        ProjectionRunner(app, store, Older()).run()
        store["registry_frame"].drop()  # what views of version 1 looked like: no frame
        store["registry_experts"].update_one({}, {"$set": {"name": "written by the old version"}})
        head = ProjectionRunner(app, store, TwoCountsProjection()).run()
        assert head == app.recorder.max_notification_id()
        assert store["registry_frame"].count_documents({}) == 1
        assert (
            store["registry_experts"].count_documents({"name": "written by the old version"}) == 0
        )
        assert (
            store["tracking"].find_one({"_id": "registry.two_counts"})["version"]
            == TwoCountsProjection.version
        )
        store["registry_experts"].update_one({}, {"$set": {"name": "kept"}})
        assert ProjectionRunner(app, store, TwoCountsProjection()).run() == head
        assert store["registry_experts"].count_documents({"name": "kept"}) == 1  # no second rebuild
    finally:
        app.close()


def test_while_views_are_built_http_answers_503_with_the_progress(tmp_path, monkeypatch):
    """Issue 14 (restart and rebuild): a first start on a log its views are far behind builds them
    in the background; meanwhile reads and /ready answer 503 with the error contract, the
    projection, its position and the log head, instead of hanging; then 200. Embedded system;
    the thresholds are lowered so that twenty households make a long log."""
    from kernel import projection
    from services.registry.tests.forms import household_form

    monkeypatch.setattr(projection, "BUILDING_LAG", 5)
    monkeypatch.setattr(projection, "CATCH_UP_BATCH", 2)
    monkeypatch.setattr(projection, "BUILD_PAUSE_SECONDS", 1.0)
    settings = settings_for(tmp_path, http_port=free_port())
    app = declaration("registry").open(settings)
    for n in range(20):
        app.register_household(**household_form(f"371321000{n:03d}"))
    head = app.recorder.max_notification_id()
    app.close()

    system = runner.start(settings)
    try:
        base = f"http://127.0.0.1:{settings.http_port}"
        token = auth.mint(settings.token_secret, "national_office", "national", "t")
        counts = requests.get(
            base + "/api/v1/two-counts",
            params={"unit": "national"},
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert counts.status_code == 503 and counts.json()["error"] == "UNAVAILABLE"
        assert counts.json()["details"]["projection"] == ["registry.two_counts"]
        assert counts.json()["details"]["head"] == [str(head)]
        ready = requests.get(base + "/ready", timeout=30)
        assert ready.status_code == 503
        building = ready.json()["projections"][0]
        assert building["projection"] == "registry.two_counts" and building["building"]
        assert building["head"] == head and building["position"] < head
        until(lambda: requests.get(base + "/ready", timeout=30).status_code == 200)
        counts = requests.get(
            base + "/api/v1/two-counts",
            params={"unit": "national"},
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert counts.status_code == 200 and counts.json()["positions"] == {"registry": head}
    finally:
        system.stop()
