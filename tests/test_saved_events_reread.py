"""A service process does not decode the events it has just saved: its outbox and projections
read them back moments later, and get the very events the save made
(kernel.decoding.RecentlyDecoded.remember; for a bulk import, a tenth of an upload's time).
That must change nothing they see: every event a living sample records, of every service and
type, is what decoding its stored form gives, value for value and type for type; an event that
would not come back alike (a tuple is stored as a list) is decoded when read, as before.

The first test runs the embedded system in this process (nameko on kombu's in-process
transport, SQLite event stores, the embedded view store); the others a registry Application on
its SQLite event store, no service around it."""

import types
import uuid

import pytest
from eventsourcing.persistence import Notification, Recording

from kernel.decoding import RecentlyDecoded
from kernel.decoding import _key as key
from kjfp import sample_data
from services.registry import SERVICE
from tests.http_client import start_system
from tests.infrastructure import settings_for


def alike(made, decoded):
    """Equal, and of the same types all the way down (1 == 1.0 == True is not enough)."""
    if type(made) is not type(decoded):
        return False
    if type(made) is dict:
        return made.keys() == decoded.keys() and all(alike(made[k], decoded[k]) for k in made)
    if type(made) is list:
        return len(made) == len(decoded) and all(map(alike, made, decoded))
    return made == decoded


def test_every_event_a_service_rereads_unencoded_is_the_event_its_stored_form_decodes_to(
    tmp_path,
):
    service_runner, api = start_system(tmp_path)
    kept = []  # (the service's mapper, a recording whose event the process kept)
    try:
        for container in service_runner.containers:  # the services' (the gateway has none)
            provider = next((d for d in container.dependencies if d.attr_name == "parts"), None)
            if provider is None:
                continue
            parts = provider.parts
            remember = parts.app.recorded

            def recorded(recordings, remember=remember, parts=parts):
                remember(recordings)
                kept.extend(
                    (parts.app.mapper, r)
                    for r in recordings
                    if parts.outbox.decode._events.get(key(r.notification)) is r.domain_event
                )

            parts.app.recorded = recorded
        sample_data.load(
            api.base,
            lambda role, scope, subject: api.token(role, scope, subject),
            log=lambda *_: None,
            households=60,
            experts=6,
        )
    finally:
        service_runner.stop()

    kinds = {type(r.domain_event).__name__ for _, r in kept}
    assert {"HouseholdRegistered", "ExpertRegistered", "HouseholdPaired"} <= kinds
    assert len(kinds) >= 15, kinds  # the sample's registers, campaign, programme and award round
    for mapper, recording in kept:
        decoded = mapper.to_domain_event(recording.notification)
        assert type(decoded) is type(recording.domain_event)
        assert alike(vars(recording.domain_event), vars(decoded)), type(decoded).__name__


@pytest.fixture
def registry(tmp_path):
    settings = settings_for(tmp_path)
    settings.data_dir.mkdir(parents=True)
    app = SERVICE.open(settings)
    yield app
    app.close()


def test_an_import_is_reread_without_decoding_any_of_its_events(registry, monkeypatch):
    decode = RecentlyDecoded(registry.mapper)
    registry.recorded = decode.remember
    decoded = []
    real = registry.mapper.to_domain_event
    monkeypatch.setattr(
        registry.mapper, "to_domain_event", lambda n: decoded.append(n.id) or real(n)
    )
    rows = [
        {
            "row": n,
            "code": f"3713219900{n:02d}",
            "head_name": "户主",
            "head_id_number": sample_data.id_number(seq=f"{n:03d}"),
            "people": 3,
            "location": {"province": "山东", "city": "临沂", "county": "沂南"},
            "effective_date": "2020-01-01",
        }
        for n in range(3)
    ]
    assert len(registry.import_households(rows)["created"]) == 3

    reread = [decode(n) for n in registry.recorder.select_notifications(start=1, limit=10)]

    assert decoded == []  # what the projections and the outbox read: nothing decoded
    assert [e.code for e in reread] == [r["code"] for r in rows]
    assert [e.head_id_number for e in reread] == [r["head_id_number"] for r in rows]


def test_an_event_holding_a_tuple_is_decoded_when_read(registry):
    """A tuple is stored as a JSON list: the event read back would differ from the one made."""
    decode = RecentlyDecoded(registry.mapper)
    notification = Notification(
        id=1, originator_id=uuid.uuid4(), originator_version=1, topic="t", state=b""
    )
    made = types.SimpleNamespace(codes=("a", "b"))
    decode.remember([Recording(domain_event=made, notification=notification)])
    assert key(notification) not in decode._events
    listed = types.SimpleNamespace(codes=["a", "b"])
    decode.remember([Recording(domain_event=listed, notification=notification)])
    assert decode(notification) is listed
