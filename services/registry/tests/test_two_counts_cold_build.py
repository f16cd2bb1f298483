"""Issue 14 (a cold rebuild at the read-and-decode rate): a build from scratch into empty views
skips the dated sums' journal. These tests show that costs no correctness: a build cut off
halfway through a batch's writes is built again from scratch by whoever runs next, and a batch
that fails during such a build makes the runner build again, journaled, and stop at the event.
Events decoded in a second process (kernel.decoding.DecodedAhead) build the same views.
On real pymongo (the MongoDB stand-in, or MONGO_URI) and on the embedded view store (which
builds without fsync and makes its indexes at the end); events from the embedded SQLite store.
The far-behind threshold and batch size are lowered so that a few records make a long log."""

import pytest

from kernel import dated_sums, projection
from kernel.decoding import DecodedAhead
from kernel.projection import TRACKING, ProjectionRunner
from kernel.views import EmbeddedClient
from services.registry import SERVICE
from services.registry.domain import Targets
from services.registry.projection import COUNTS, MEMBERSHIP, TwoCountsProjection
from services.registry.tests.forms import household_form
from services.registry.tests.test_two_counts_projection import figures, province  # noqa: F401
from tests.infrastructure import settings_for


@pytest.fixture(params=["mongodb", "embedded"])
def views_db(request, tmp_path):
    if request.param == "mongodb":
        yield request.getfixturevalue("mongo_db")
        return
    client = EmbeddedClient(tmp_path / "views.sqlite3")
    yield client["views"]
    indexes = client.connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE type='index' AND name LIKE 'views.registry_%'"
    ).fetchone()[0]
    assert indexes == sum(
        len(models) for models in TwoCountsProjection.indexes.values()
    )  # none left deferred
    client.close()


@pytest.fixture
def long_log(monkeypatch):
    monkeypatch.setattr(projection, "BUILDING_LAG", 3)
    monkeypatch.setattr(projection, "CATCH_UP_BATCH", 4)
    monkeypatch.setattr(projection, "AHEAD_AFTER", 1)  # one batch here, then the second process


def snapshot(views):
    return {
        name: sorted(views[name].find({}), key=lambda d: d["_id"]) for name in (COUNTS, MEMBERSHIP)
    }


def test_a_build_from_scratch_cut_off_mid_batch_is_built_again_from_scratch(
    province,
    views_db,
    monkeypatch,
    long_log,  # noqa: F811
):
    """Issue 14: the process building is killed halfway through a batch's (unjournaled) writes,
    after earlier batches were tracked; the next process does not resume on the half-written
    batch but builds from scratch: every figure counts once, as a journaled run gives them."""
    real, calls = dated_sums._write, []

    def killed_in_the_third_batch(views, journal, writes, nonce):
        calls.append(nonce)
        if len(calls) == 3:
            real(views, journal, writes[: len(writes) // 2], nonce)
            raise SystemExit("killed halfway through a batch of the build")
        real(views, journal, writes, nonce)

    monkeypatch.setattr(dated_sums, "_write", killed_in_the_third_batch)
    with pytest.raises(SystemExit):
        ProjectionRunner(province, views_db, TwoCountsProjection(), owner="first").run()
    assert all(nonce is None for nonce in calls)  # no journal while building from scratch
    cut_off = views_db[TRACKING].find_one({"_id": "registry.two_counts"})
    assert cut_off["position"] > 0 and cut_off["from_scratch"] == "first"
    monkeypatch.setattr(dated_sums, "_write", real)

    head = province.recorder.max_notification_id()
    restarted = ProjectionRunner(
        province, views_db, TwoCountsProjection(), owner="second", take_over=True
    )
    assert restarted.run() == head
    assert views_db[TRACKING].find_one({"_id": "registry.two_counts"})["from_scratch"] is None
    assert figures(views_db, "national") == {
        "experts": 3,
        "households_paired": 4,
        "people_in_paired_households": 14,
    }
    built = snapshot(views_db)
    monkeypatch.setattr(projection, "BUILDING_LAG", 10_000)  # journaled, batch by batch
    ProjectionRunner(province, views_db, TwoCountsProjection(), batch_size=3).rebuild()
    assert snapshot(views_db) == built


def test_views_are_marked_built_only_once_their_build_is_on_the_disk(
    province,
    tmp_path,
    monkeypatch,
    long_log,  # noqa: F811
):
    """The embedded store writes a build without syncing: views marked built before it is on the
    disk could, after a machine lost power, be marked built with pages that never reached it.
    The build's end puts it there (``EmbeddedClient.durable``) while the tracking document still
    names the process building; only then is that mark cleared."""
    client = EmbeddedClient(tmp_path / "views.sqlite3")
    views_db = client["views"]
    marked_while_synced = []
    durable = EmbeddedClient.durable

    def recorded(store):
        tracking = views_db[TRACKING].find_one({"_id": "registry.two_counts"})
        marked_while_synced.append(tracking["from_scratch"])
        durable(store)

    monkeypatch.setattr(EmbeddedClient, "durable", recorded)
    head = province.recorder.max_notification_id()
    assert ProjectionRunner(province, views_db, TwoCountsProjection(), owner="first").run() == head
    assert marked_while_synced == ["first"]
    assert views_db[TRACKING].find_one({"_id": "registry.two_counts"})["from_scratch"] is None
    client.close()


def test_an_event_that_fails_during_a_build_from_scratch_stops_the_projection_there(
    province,
    views_db,
    monkeypatch,
    long_log,  # noqa: F811
):
    """Issue 14 / issue 13 item 2: an event the views cannot hold (a target beyond 64 bits) met
    while building from scratch: the runner builds again journaled and stops at that event, with
    the views as they stand before it."""
    # Past every check (the aggregate's own command refuses it): made as the store would hold it.
    province.save(
        Targets(
            unit="province:山东",
            year=2020,
            targets={"households_paired": 2**63},
            effective_date="2020-01-01",
        )
    )
    bad = province.recorder.max_notification_id()
    province.register_household(**household_form("371321000099"))

    runner = ProjectionRunner(province, views_db, TwoCountsProjection(), owner="builder")
    assert runner.run() == bad - 1
    assert runner.stopped()["position"] == bad
    assert views_db[TRACKING].find_one({"_id": "registry.two_counts"})["from_scratch"] is None
    assert figures(views_db, "national") == {
        "experts": 3,
        "households_paired": 4,
        "people_in_paired_households": 14,
    }


@pytest.mark.parametrize(
    "worker", ["decodes everything", "decodes one batch", "falls behind", "is killed"]
)
def test_a_build_decoded_in_a_second_process_gives_the_views_of_one_decoded_here(
    province,
    views_db,
    tmp_path,
    worker,
    long_log,  # noqa: F811
):
    """Issue 14: far behind, the events are read and decoded in a second process, pipelined with
    applying them (after the first batches: those are decoded here while the worker starts);
    the views are exactly those of a build decoded in this process. A worker that
    stops short, falls behind or dies costs nothing but speed: the rest is decoded here."""
    ProjectionRunner(province, views_db, TwoCountsProjection()).rebuild()
    here = {name: sorted(views_db[name].find({}), key=lambda d: d["_id"]) for name in ALL}
    settings = settings_for(tmp_path, pii_hash_key="test-key")  # the store the app is on
    received = []

    class Counted(DecodedAhead):
        def next(self):
            received.append(super().next())
            return received[-1]

        @staticmethod
        def _behind(costs):  # the timing made certain, whatever the machine's load
            return worker == "falls behind"

    def ahead(start, stop, size, **options):
        if worker == "decodes one batch":
            stop = start + size
        started = Counted(SERVICE, settings, start, stop, size, **options)
        if worker == "is killed":
            started._process.kill()  # before it could send anything (it is still importing)
        return started

    runner = ProjectionRunner(province, views_db, TwoCountsProjection(), decode_ahead=ahead)
    rebuilt = runner.rebuild()
    assert rebuilt == province.recorder.max_notification_id()
    decoded_there = sum(len(batch) for batch in received if batch)
    assert (
        decoded_there
        == {
            "decodes everything": rebuilt - projection.CATCH_UP_BATCH,  # the first, decoded here
            "decodes one batch": projection.CATCH_UP_BATCH,
            "falls behind": 2 * projection.CATCH_UP_BATCH,  # the first two, then it is let go
            "is killed": 0,
        }[worker]
    )
    # What the projection does not read (the agreements, the ID-number claims) came undecoded.
    there = [event for batch in received if batch for _, event in batch]
    assert {type(event).__name__ for event in there if event} <= TwoCountsProjection.reads
    assert None in there or worker != "decodes everything"
    assert {name: sorted(views_db[name].find({}), key=lambda d: d["_id"]) for name in ALL} == here


ALL = TwoCountsProjection.collections


def test_a_gap_in_the_log_before_the_second_process_starts_is_stepped_over(
    province,
    views_db,
    tmp_path,
    long_log,  # noqa: F811
):
    """Issue 14: PostgreSQL's log positions may leave gaps. A build whose first stretch (the one
    decoded here while the second process starts) holds no event at all goes on at the position
    where the second process starts, and builds the views a build decoded here gives."""
    recorder = province.recorder
    table = recorder.events_table_name
    with recorder.datastore.transaction(commit=True) as cursor:  # positions 1..10 left empty
        cursor.execute(f"UPDATE {table} SET rowid = rowid + 1000000")
        cursor.execute(f"UPDATE {table} SET rowid = rowid - 999990")
    head = recorder.max_notification_id()
    assert recorder.select_notifications(start=1, limit=1)[0].id == 11

    ProjectionRunner(province, views_db, TwoCountsProjection()).rebuild()
    here = {name: sorted(views_db[name].find({}), key=lambda d: d["_id"]) for name in ALL}
    settings = settings_for(tmp_path, pii_hash_key="test-key")
    started = []

    def ahead(start, stop, size, **options):
        started.append(start)
        return DecodedAhead(SERVICE, settings, start, stop, size, **options)

    runner = ProjectionRunner(province, views_db, TwoCountsProjection(), decode_ahead=ahead)
    assert runner.rebuild() == head
    assert started == [projection.CATCH_UP_BATCH]  # inside the gap: nothing before it to apply
    assert {name: sorted(views_db[name].find({}), key=lambda d: d["_id"]) for name in ALL} == here
