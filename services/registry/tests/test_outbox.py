"""Publication from the event store (outbox) on the embedded SQLite store, with a recording
dispatcher standing in for the bus (the real bus: tests/test_registry_service.py)."""

import pytest
from eventsourcing.persistence import IntegrityError

from kernel.chain import GENESIS, link
from kernel.outbox import Outbox
from services.registry.domain import PERSONAL_FIELDS
from services.registry.tests.forms import expert_form, household_form


def test_every_event_is_published_once_in_log_order_with_its_chain_hash(app):
    app.register_expert(**expert_form())
    app.register_household(**household_form("371321000001"))
    sent = []
    outbox = Outbox("registry", app, PERSONAL_FIELDS)

    assert outbox.publish_pending(sent.extend) == 3
    assert outbox.publish_pending(sent.extend) == 0

    assert [e["type"] for e in sent] == [
        "ExpertRegistered",
        "IdNumberClaimed",
        "HouseholdRegistered",
    ]
    assert [e["position"] for e in sent] == [1, 2, 3]
    expected = GENESIS
    for notification, envelope in zip(app.recorder.select_notifications(start=1, limit=10), sent):
        expected = link(expected, notification)
        assert envelope["chain_hash"] == expected
    assert outbox.ledger.checkpoints()[-1]["position"] == 3
    assert expert_form()["id_number"] not in str(sent)


def test_a_publication_ends_at_the_log_as_it_found_it_so_the_projections_get_their_turn(app):
    """Events recorded while a publication runs (it pauses between batches, and writers go on)
    wait for the next one: the pump projects in between, however long writes keep coming."""
    app.register_household(**household_form("371321000001"))
    sent = []
    outbox = Outbox("registry", app, PERSONAL_FIELDS)

    def publish_while_a_writer_records(envelopes):
        sent.extend(envelopes)
        if len(sent) < 5:  # a burst of five
            app.register_household(**household_form(f"37132100010{len(sent)}"))

    assert outbox.publish_pending(publish_while_a_writer_records) == 1
    assert [e["position"] for e in sent] == [1]
    assert outbox.publish_pending(sent.extend) == 1  # the one recorded meanwhile
    assert [e["position"] for e in sent] == [1, 2]
    assert outbox.ledger.checkpoints()[-1]["position"] == 2


def test_a_crash_before_the_position_is_recorded_republishes_the_same_envelopes(app):
    app.register_expert(**expert_form())
    crashed, sent = [], []
    outbox = Outbox("registry", app, PERSONAL_FIELDS)
    advance = outbox.ledger.advance

    def crash(*args, **kwargs):
        raise SystemExit("killed after dispatch, before the head moved")

    outbox.ledger.advance = crash
    with pytest.raises(SystemExit):
        outbox.publish_pending(crashed.extend)
    outbox.ledger.advance = advance

    restarted = Outbox("registry", app, PERSONAL_FIELDS)
    restarted.publish_pending(sent.extend)

    assert sent == crashed  # at-least-once: the same envelopes, the same hashes; consumers dedup


def test_a_consumer_catching_up_from_any_position_gets_the_same_hashes(app):
    for n in range(1, 4):
        app.register_household(**household_form(f"37132100000{n}"))
    outbox = Outbox("registry", app, PERSONAL_FIELDS)
    everything = outbox.read(0, 100)
    assert outbox.read(2, 100) == everything[2:]


def test_an_idempotency_record_on_the_bus_cannot_be_reversed_to_the_id_number(app):
    """Its fingerprint is keyed: hashing candidate forms without the key never matches it."""
    import hashlib
    import json

    from kernel.idempotency import Idempotency, fingerprint

    form = expert_form()
    app.register_expert(
        **form, idempotency=Idempotency("registry", "clerk", "k-1", fingerprint("secret-key", form))
    )
    sent = []
    Outbox("registry", app, PERSONAL_FIELDS).publish_pending(sent.extend)

    record = next(e for e in sent if e["type"] == "IdempotencyKeyUsed")
    unkeyed = hashlib.sha256(
        json.dumps(form, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    assert record["payload"]["fingerprint"] not in (unkeyed, fingerprint("", form))
    assert form["id_number"] not in json.dumps(sent, ensure_ascii=False)


def test_catching_up_across_gaps_in_postgresql_positions_gives_the_same_hashes(two_replicas):
    """PostgreSQL skips the ids of a failed insert; hashes from any point must still agree."""
    app = two_replicas[0]
    app.register_household(**household_form("371321000001"))
    with pytest.raises(IntegrityError):  # the household is registered: PostgreSQL burns an id
        app.save(app._household_from({**household_form("371321000001"), "head_id_number": "x"}))
    for n in (2, 3, 4):
        app.register_household(**household_form(f"37132100000{n}"))
    positions = [n.id for n in app.recorder.select_notifications(start=1, limit=100)]
    assert positions != list(range(1, len(positions) + 1)), "the failed insert left no gap"
    outbox = Outbox("registry", app, PERSONAL_FIELDS)
    everything = outbox.read(0, 100)
    outbox.publish_pending(lambda batch: None)  # records checkpoints and moves the head

    for after in positions[:-1]:
        assert outbox.read(after, 100) == [e for e in everything if e["position"] > after]
