"""Unit tests of the shared kernel (no servers): tokens and jurisdiction, masking and keyed
hashes, the error contract across nameko's serialisation, and the memory:// patches (which run
a real nameko RPC and event round trip on kombu's in-process transport)."""

import eventlet
import pytest
from nameko.events import EventDispatcher, event_handler
from nameko.exceptions import deserialize, serialize
from nameko.rpc import rpc
from nameko.runners import ServiceRunner
from nameko.standalone.rpc import ClusterRpcProxy

from kernel import auth, memory_transport, pii
from kernel.bus import BatchDispatcher
from kernel.decoding import WINDOW, DecodedAhead
from kernel.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from kernel.places import Unit

SECRET = "unit-test-secret-of-at-least-32-bytes"


def test_a_token_carries_role_and_scope_and_expires():
    token = auth.mint(SECRET, "provincial_office", "province:山东", "zhang")
    assert auth.verify(SECRET, token) == auth.Actor("zhang", "provincial_office", "province:山东")
    with pytest.raises(Unauthorized, match="expired"):
        auth.verify(SECRET, auth.mint(SECRET, "auditor", "national", ttl_seconds=-1))
    with pytest.raises(Unauthorized):
        auth.verify("another-secret-of-at-least-32-bytes!!", token)
    with pytest.raises(ValueError):
        auth.mint(SECRET, "mayor", "national")
    with pytest.raises(ValueError):
        auth.mint(SECRET, "auditor", "province:")


@pytest.mark.parametrize(
    "scope, unit, covered",
    [
        ("national", "society:中国农学会", True),
        ("province:山东", "province:山东", True),
        ("province:山东", "county:山东/临沂/沂南", True),
        ("province:山东", "province:河北", False),
        ("province:山东", "national", False),
        ("city:山东/临沂", "province:山东", False),
        ("society:中国农学会", "society:中国农学会", True),
        ("society:中国农学会", "province:山东", False),
        ("province:山东", "society:中国农学会", False),
    ],
)
def test_scopes_cover_units(scope, unit, covered):
    assert Unit.parse(scope).covers(Unit.parse(unit)) is covered


def test_writes_are_held_to_the_writers_jurisdiction():
    yinan = auth.Actor("x", "county_association", "county:山东/临沂/沂南")
    here = {"province": "山东", "city": "临沂", "county": "沂南"}
    there = {"province": "山东", "city": "临沂", "county": "兰山"}
    auth.authorize_write(yinan, unit="province:山东", location=here)
    with pytest.raises(Forbidden):
        auth.authorize_write(yinan, unit="province:山东", location=there)
    with pytest.raises(Forbidden):
        auth.authorize_write(yinan, location=there)
    with pytest.raises(Forbidden):
        auth.authorize_write(auth.Actor("x", "auditor", "national"), location=here)
    with pytest.raises(Forbidden):
        auth.authorize_write(auth.Actor("x", "society", "society:中国农学会"), unit="province:山东")


def test_personal_numbers_are_masked_and_hashed_with_a_key():
    assert pii.mask("371321199603120113") == "3713**********0113"
    assert pii.mask(None) is None
    assert pii.keyed_hash("k", "11010519491231002x") == pii.keyed_hash("k", " 11010519491231002X ")
    assert pii.keyed_hash("k", "11010519491231002X") != pii.keyed_hash(
        "other", "11010519491231002X"
    )
    masked = pii.mask_fields(
        {"a": {"id_number": "371321199603120113"}, "b": [{"bank_account": "6222020200112233445"}]},
        {"id_number", "bank_account"},
    )
    assert masked == {
        "a": {"id_number": "3713**********0113"},
        "b": [{"bank_account": "6222***********3445"}],
    }


@pytest.mark.parametrize(
    "error",
    [
        Conflict("already registered", {"id_number": ["already registered"]}),
        ValidationFailed("bad", {"location.province": ["required"]}),
        Forbidden("no"),
    ],
)
def test_domain_errors_survive_nameko_serialisation_with_their_details(error):
    back = deserialize(serialize(error))
    assert type(back) is type(error)
    assert back.to_dict() == error.to_dict()


class Echo:
    name = "echo"
    dispatch = EventDispatcher()
    publish = BatchDispatcher()

    @rpc
    def echo(self, value):
        if value % 2:
            self.dispatch("Echoed", {"value": value})
        else:  # the outbox's way: a batch, here with an event nobody listens for
            self.publish([{"type": "Unheard", "value": -1}, {"type": "Echoed", "value": value}])
        return value


heard = []


class Listener:
    name = "listener"

    @event_handler("echo", "Echoed")
    def on_echoed(self, payload):
        heard.append(payload["value"])


def test_nameko_rpc_and_events_work_on_the_memory_transport_once_patched():
    """In-process memory:// transport (the embedded mode's bus): nameko's dispatcher and the
    outbox's batch dispatcher reach a handler alike."""
    memory_transport.apply()
    config = {"AMQP_URI": "memory://localhost/"}
    runner = ServiceRunner(config)
    runner.add_service(Echo)
    runner.add_service(Listener)
    runner.start()
    try:
        with ClusterRpcProxy(config, timeout=5) as cluster:
            assert [cluster.echo.echo(n) for n in range(20)] == list(range(20))
        with eventlet.Timeout(5):
            while len(heard) < 20:
                eventlet.sleep(0.01)
        assert sorted(heard) == list(range(20))
    finally:
        runner.stop()


def test_the_reply_patch_supplies_the_missing_content_type():
    memory_transport.apply()
    from nameko import rpc as nameko_rpc

    class Message:
        content_type = "application/json"
        properties = {"reply_to": "nowhere"}

    sent = []
    responder = nameko_rpc.Responder("memory://localhost/", None, "json", Message())
    responder.publisher_cls = lambda *a, **k: type(
        "P", (), {"publish": lambda self, *a, **k: sent.append(k)}
    )()
    responder.send_response({"ok": True}, None)
    assert Message.properties["content_type"] == "application/json" and sent


def test_a_message_put_on_the_memory_transport_wakes_a_waiting_consumer_at_once():
    """The embedded bus does not poll: a consumer with nothing to read waits on the doorbell (the
    virtual transport's sleep between polls, for up to ten seconds here), and a message put on
    any in-process queue wakes it. (The one-second bound is for a broken patch, not a timing.)"""
    import kombu
    import kombu.transport.virtual.base

    memory_transport.apply()
    with kombu.Connection("memory://localhost/") as connection:
        queue = kombu.Queue("doorbell-test", kombu.Exchange("doorbell-test"), "k")
        waiting = eventlet.spawn(kombu.transport.virtual.base.sleep, 10)
        eventlet.sleep(0)  # it is waiting now
        connection.Producer().publish(
            {"n": 1}, exchange=queue.exchange, routing_key="k", declare=[queue]
        )
        with eventlet.Timeout(1):
            waiting.wait()
        assert queue(connection.default_channel).get().payload == {"n": 1}


def test_distributed_mode_refuses_the_development_secrets():
    from kernel import config
    from kernel.config import Settings

    Settings().check()  # embedded: the development defaults are fine
    with pytest.raises(ValueError, match="TOKEN_SECRET, CIPHER_KEY, PII_HASH_KEY"):
        Settings(amqp_uri="amqp://rabbit/").check()
    good = dict(
        amqp_uri="amqp://rabbit/",
        token_secret="a" * 32,
        pii_hash_key="c" * 32,
        cipher_key="dGVzdC1vbmx5LWNpcGhlci1rZXktMzItYnl0ZXMuLi4=",
        checkpoint_signing_key="dGVzdC1vbmx5LWNoZWNrcG9pbnQta2V5LTMyYnl0ZXM=",
    )
    Settings(**good).check()
    for name, bad in (
        ("token_secret", "change-me-to-at-least-32-random-bytes"),
        ("pii_hash_key", "short"),
        ("cipher_key", "not base64!" * 4),
        ("cipher_key", "c2hvcnQ=" * 6),
        ("checkpoint_signing_key", config.DEV_CHECKPOINT_KEY),  # issue 16: its own key
        ("checkpoint_signing_key", "c2hvcnQ="),
    ):
        with pytest.raises(ValueError, match=name.upper()):
            Settings(**{**good, name: bad}).check()


def test_a_refusal_a_service_raises_on_purpose_is_logged_in_one_line_an_unexpected_error_in_full(
    caplog,
):
    """nameko logs expected exceptions (a 4xx, the 503 while views are built) with their
    tracebacks; a process started by kjfp.runner keeps the line and drops the traceback."""
    import logging

    from kjfp import runner

    log = logging.getLogger("nameko.containers")
    log.addFilter(runner._quiet)
    try:
        for message in ("(expected) error handling worker %s: %s", "error handling worker %s: %s"):
            try:
                raise ValueError("views being built")
            except ValueError:
                log.warning(message, "worker", "views being built", exc_info=True)
    finally:
        log.removeFilter(runner._quiet)
    expected, unexpected = caplog.records[-2:]
    assert expected.exc_info is None and unexpected.exc_info is not None


def test_a_second_decoding_process_is_let_go_only_when_it_costs_more_than_it_saves():
    """Issue 14 (in-process arithmetic, no worker started): a cold build keeps the process that
    decodes ahead while taking its batches (waiting, receiving, unpickling) costs the builder less
    than decoding them did; one slow batch (a read from disk) does not end it, a worker that has
    no core of its own (every batch waited for longer than it took to decode) does."""
    fast = (0.2, 0.5)  # taken in 0.2 s, decoded in 0.5 s of the worker's CPU
    slow_disk = (1.5, 0.5)  # three times its decoding
    starved = (0.9, 0.5)
    assert not DecodedAhead._behind([starved] * (WINDOW - 1))  # too few to judge
    assert not DecodedAhead._behind([fast] * 5 + [slow_disk])  # 2.3 s taken against 2.5 decoding
    assert DecodedAhead._behind([fast] * 5 + [starved] * WINDOW)
    # Slower than the builder applies, yet on its own core: waiting 0.3 s of a 0.5 s decode saves.
    assert not DecodedAhead._behind([(0.3 + 0.1, 0.5)] * 10)
