"""Erasure with the chain intact (issue 16): the fields that name a person are sealed under the
record's own data key, and erasing destroys that key — the stored events, and so the chain and
the proofs over them, stay byte for byte as they were, while the person can never be read again."""

import base64

import pytest
from cryptography.exceptions import InvalidTag

from kernel import eventstore, personal
from kernel.chain import link
from kernel.errors import Conflict, RuleViolation
from kjfp.sample_data import id_number
from services.registry.application import RegistryApplication
from services.registry.domain import Expert, Household
from services.registry.tests.forms import expert_form, household_form
from tests.auditing import raw_states, stored_log
from tests.infrastructure import settings_for

ACCOUNT = "6222020200112233445"


def test_personal_fields_are_sealed_under_the_persons_own_key(app):
    expert = app.register_expert(**expert_form(bank_account=ACCOUNT, email="wang@example.cn"))
    app.register_household(**household_form("371321000001"))

    for state in raw_states(app):
        for clear in (
            "王建国",
            "张三",
            "13800000001",
            ACCOUNT,
            "wang@example.cn",
            expert_form()["id_number"],
        ):
            assert clear not in state
    assert app.get_expert(expert.id).name == "王建国"
    assert app.get_expert(expert.id).bank_account == ACCOUNT
    assert app.get_household("371321000001").head_name == "张三"


def test_erasing_an_expert_destroys_the_key_and_leaves_the_log_as_it_was(app):
    expert = app.register_expert(**expert_form(bank_account=ACCOUNT))
    app.correct(
        "expert", str(expert.id), {"phone": "13900000009", "title": "教授"}, "换号", "2020-02-01"
    )
    states_before, chain_before = stored_log(app)

    erased = app.erase("expert", str(expert.id), "本人申请删除个人信息")

    states_after, chain_after = stored_log(app)
    assert states_after[: len(states_before)] == states_before  # nothing stored was rewritten
    assert (
        link(chain_before, app.recorder.select_notifications(start=1, limit=1000)[-1])
        == chain_after
    )
    for record in (erased, app.get_expert(str(expert.id))):
        assert (record.name, record.id_number, record.phone, record.bank_account) == ("erased",) * 4
        assert record.title == "教授" and record.unit == "province:山东" and record.erased
    assert record.id_hash == erased.id_hash  # the dedup hash stays


def test_an_erased_person_cannot_be_read_even_with_the_service_key(app, tmp_path):
    """A fresh process with CIPHER_KEY (and a copy of the keys table) still reads only 'erased'."""
    expert = app.register_expert(**expert_form())
    app.erase("expert", str(expert.id), "本人申请")
    fresh = RegistryApplication(
        env=eventstore.application_env(settings_for(tmp_path), "registry"), pii_hash_key="test-key"
    )
    try:
        events = [
            fresh.mapper.to_domain_event(n)
            for n in fresh.recorder.select_notifications(start=1, limit=10)
        ]
        registered = next(e for e in events if type(e).__name__ == "ExpertRegistered")
        assert (registered.name, registered.id_number, registered.phone) == ("erased",) * 3
        assert registered.gender == "male"
    finally:
        fresh.close()


def test_a_re_registration_of_an_erased_experts_id_number_is_still_a_duplicate(app):
    expert = app.register_expert(**expert_form())
    app.erase("expert", str(expert.id), "本人申请")
    with pytest.raises(Conflict) as refused:
        app.register_expert(**expert_form(name="另一人"))
    assert "id_number" in refused.value.details


def test_erasing_twice_is_a_conflict_and_records_nothing(app):
    expert = app.register_expert(**expert_form())
    app.erase("expert", str(expert.id), "本人申请")
    head = app.recorder.max_notification_id()
    with pytest.raises(Conflict):
        app.erase("expert", str(expert.id), "again")
    assert app.recorder.max_notification_id() == head


def test_an_erased_persons_naming_fields_cannot_be_set_again_but_the_rest_can(app):
    app.register_household(**household_form("371321000001"))
    app.erase("household", "371321000001", "户主申请")
    with pytest.raises(RuleViolation) as refused:
        app.correct("household", "371321000001", {"head_name": "李四"}, "更正", "2020-03-01")
    assert list(refused.value.details) == ["head_name"]
    corrected = app.correct("household", "371321000001", {"people": 5}, "新增人口", "2020-03-01")
    assert corrected.people == 5 and corrected.head_name == "erased"


def test_erasing_a_household_keeps_what_the_figures_need(app):
    household = app.register_household(**household_form("371321000001", people=4))
    erased = app.erase("household", "371321000001", "户主申请")
    again = app.get_household("371321000001")
    assert (again.head_name, again.head_id_number) == ("erased", "erased")
    assert (again.code, again.people, again.location, again.registered_on) == (
        "371321000001",
        4,
        household.location,
        "2020-01-06",
    )
    assert again.head_id_hash == erased.head_id_hash


def test_events_recorded_before_envelopes_still_load_and_erase(app):
    """A log written before this scheme holds the personal fields in clear: it loads as it is,
    and reads 'erased' once the person is erased."""
    legacy = Expert(**{k: v for k, v in expert_form().items()}, id_hash="h")
    event = legacy.collect_events()[0]
    plain = super(personal.PersonalMapper, app.mapper).to_stored_event(event)  # no envelope
    app.recorder.insert_events([plain])
    assert app.get_expert(str(legacy.id)).name == "王建国"

    app.erase("expert", str(legacy.id), "本人申请")
    assert app.get_expert(str(legacy.id)).name == "erased"


def test_an_import_writes_the_batchs_keys_in_one_statement_and_reads_none(app, monkeypatch):
    """With the events, in their transaction: a key is never stored without its events."""
    table = app.mapper.ring.table
    calls, reads = [], []
    insert, select = table.insert_with, table.select
    monkeypatch.setattr(
        table, "insert_with", lambda cursor, rows: calls.append(len(rows)) or insert(cursor, rows)
    )
    monkeypatch.setattr(table, "select", lambda ids: reads.append(len(ids)) or select(ids))
    rows = [{**household_form(f"37132100{i:04d}"), "row": i} for i in range(1, 201)]
    result = app.import_households(rows)
    assert len(result["created"]) == 200
    assert calls == [200] and reads == []
    assert app.get_household("371321000007").head_name == "张三"


def test_a_sealed_value_cannot_be_moved_to_another_record(app):
    first = app.register_expert(**expert_form())
    second = app.register_expert(**expert_form(id_number=id_number("371321", "19700101", "022")))
    aead = app.mapper.ring.lookup(str(first.id))
    sealed = personal._seal(aead, str(first.id), "name", "王建国")
    with pytest.raises(InvalidTag):  # another person's key, and another record bound in
        personal._open(app.mapper.ring.lookup(str(second.id)), str(second.id), "name", sealed)
    assert personal._open(aead, str(first.id), "name", sealed) == "王建国"
    assert base64.b64decode(sealed["$person"])  # stored as base64


def test_a_key_another_writer_stored_meanwhile_is_used_not_replaced(app, monkeypatch):
    """Two writers racing to make the same record's key: the one stored first is the key."""
    person = str(Household.create_id("371321000001"))
    other = personal.KeyRing("", app.mapper.ring.table)  # same table, as a second replica
    other._kek = app.mapper.ring._kek
    other.ensure([person])
    stored = other.lookup(person)
    real, reads = app.mapper.ring.table.select, []
    monkeypatch.setattr(
        app.mapper.ring.table,
        "select",
        lambda ids: real(ids) if reads.append(ids) or len(reads) > 1 else {},
    )
    app.mapper.ring.ensure([person])  # did not see the row, lost the insert, read it again
    assert len(reads) == 2
    assert app.mapper.ring.lookup(person) is not None
    sealed = personal._seal(app.mapper.ring.lookup(person), person, "head_name", "张三")
    assert personal._open(stored, person, "head_name", sealed) == "张三"


def test_a_paying_service_sees_an_erased_expert_as_erased_with_no_account_to_check(app):
    from services.registry.presenters import payee_view

    expert = app.register_expert(**expert_form(bank_account=ACCOUNT))
    assert payee_view(expert, "k")["bank_account_hash"] is not None
    erased = payee_view(app.erase("expert", str(expert.id), "本人申请"), "k")
    assert (erased["erased"], erased["bank_account_hash"], erased["bank_account"]) == (
        True,
        None,
        "erased",
    )


def test_on_postgresql_a_second_replica_reads_the_keys_and_forgets_an_erased_one(
    two_replicas, monkeypatch
):
    writer, reader = two_replicas
    reader.mapper.ring.ttl = 0  # (5 minutes in service) what the reader holds expires at once
    rows = [{**household_form(f"37132100{i:04d}"), "row": i} for i in range(1, 51)]
    inserts = []
    table = writer.mapper.ring.table
    original = table.insert_with
    monkeypatch.setattr(
        table,
        "insert_with",
        lambda cursor, rows: inserts.append(len(rows)) or original(cursor, rows),
    )
    assert len(writer.import_households(rows)["created"]) == 50
    assert inserts == [50]  # all 50 keys in one statement, in the events' transaction
    assert reader.get_household("371321000007").head_name == "张三"

    writer.erase("household", "371321000007", "户主申请")
    notifications = reader.recorder.select_notifications(start=1, limit=100)
    reader.mapper.prefetch(notifications)
    registered = [
        reader.mapper.to_domain_event(n)
        for n in notifications
        if n.originator_id == Household.create_id("371321000007")
    ][0]
    assert (registered.head_name, registered.head_id_number) == ("erased", "erased")
    assert reader.get_household("371321000008").head_name == "张三"


def test_an_import_naming_an_erased_household_reports_it_as_already_registered(app):
    app.register_household(**household_form("371321000001"))
    app.erase("household", "371321000001", "户主申请")
    rows = [{**household_form(f"37132100000{i}"), "row": i} for i in (1, 2)]
    result = app.import_households(rows)
    assert [d["code"] for d in result["duplicates"]] == ["371321000001"]
    assert [c["code"] for c in result["created"]] == ["371321000002"]
    assert app.get_household("371321000001").head_name == "erased"
    assert app.get_household("371321000002").head_name == "张三"


def test_an_export_carries_the_keys_so_an_auditor_reads_what_the_store_reads(app, tmp_path):
    from kjfp.audit.logs import ExportLog, StoreLog, export
    from services.registry import SERVICE

    app.register_household(**household_form("371321000001"))
    app.register_household(**household_form("371321000002"))
    app.erase("household", "371321000002", "户主申请")
    settings = settings_for(tmp_path)
    store = StoreLog(settings, SERVICE)
    export(store, tmp_path / "registry.jsonl")
    for log in (store, ExportLog(tmp_path / "registry.jsonl", SERVICE)):
        mapper = log.scratch(settings.cipher_key).mapper
        events = [mapper.to_domain_event(n) for batch in log.batches() for n in batch]
        heads = {e.code: e.head_name for e in events if type(e).__name__ == "HouseholdRegistered"}
        assert heads == {"371321000001": "张三", "371321000002": "erased"}
    store.close()


def test_a_batch_that_fails_stores_no_key_and_keeps_the_existing_records_key(app, tmp_path):
    app.register_household(**household_form("371321000001", head_name="王五"))
    rows = [{**household_form(f"37132100000{i}"), "row": i} for i in (1, 2)]
    result = app.import_households(
        rows
    )  # the first attempt fails on 371321000001, the retry saves the rest
    assert [d["code"] for d in result["duplicates"]] == ["371321000001"]
    fresh = RegistryApplication(
        env=eventstore.application_env(settings_for(tmp_path), "registry"), pii_hash_key="test-key"
    )
    try:
        assert fresh.get_household("371321000001").head_name == "王五"
        assert fresh.get_household("371321000002").head_name == "张三"
    finally:
        fresh.close()


def test_the_bus_carries_the_erasure_without_anything_personal(app):
    from kernel.outbox import Outbox
    from services.registry.domain import PERSONAL_FIELDS

    expert = app.register_expert(**expert_form(bank_account=ACCOUNT))
    app.erase("expert", str(expert.id), "本人申请")
    sent = []
    Outbox("registry", app, PERSONAL_FIELDS).publish_pending(sent.extend)
    assert [e["type"] for e in sent] == ["ExpertRegistered", "IdNumberClaimed", "ExpertErased"]
    for clear in ("王建国", "13800000001", ACCOUNT, expert_form()["id_number"]):
        assert clear not in str(sent)
    assert sent[0]["payload"]["name"] == "erased"  # published after the erasure: read as erased


def test_correcting_a_legacy_experts_phone_seals_the_new_value_under_a_new_key(app):
    legacy = Expert(**expert_form(), id_hash="h")
    app.recorder.insert_events(
        [super(personal.PersonalMapper, app.mapper).to_stored_event(legacy.collect_events()[0])]
    )
    app.correct("expert", str(legacy.id), {"phone": "13900000009"}, "换号", "2020-02-01")
    assert "13900000009" not in raw_states(app)[-1]
    assert app.get_expert(str(legacy.id)).phone == "13900000009"
    app.erase("expert", str(legacy.id), "本人申请")
    assert (app.get_expert(str(legacy.id)).phone, app.get_expert(str(legacy.id)).name) == (
        "erased",
        "erased",
    )
