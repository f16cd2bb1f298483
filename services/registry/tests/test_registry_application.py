"""The registry's write side as a story: experts and households are registered once, pairings
are filed all-or-nothing. Runs on the embedded SQLite event store; the race test uses the real
PostgreSQL event store with two application instances standing in for two replicas."""

import eventlet
import pytest

from kernel.errors import Conflict, RuleViolation, ValidationFailed
from kjfp.sample_data import id_number
from services.registry.application import RegistryApplication
from services.registry.domain import Household, IdNumberClaim
from services.registry.tests.forms import expert_form, household_form, pairing_form


def test_an_expert_is_registered_once_per_id_number(app):
    expert = app.register_expert(**expert_form())
    assert app.get_expert(expert.id).name == "王建国"

    with pytest.raises(Conflict) as refused:
        app.register_expert(**expert_form(name="王建國", phone="13900000000"))
    assert "id_number" in refused.value.details
    # Spacing and a lower-case check letter are the same person.
    with pytest.raises(Conflict):
        app.register_expert(**expert_form(id_number=" ".join(expert_form()["id_number"])))


def test_an_id_number_with_a_wrong_check_digit_is_refused_and_nothing_recorded(app):
    good = expert_form()["id_number"]
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as refused:
        app.register_expert(**expert_form(id_number=wrong))
    assert list(refused.value.details) == ["id_number"]
    assert app.recorder.max_notification_id() in (None, 0)


def test_pairing_records_one_household_paired_per_household(app):
    expert = app.register_expert(**expert_form())
    for code in ("371321000001", "371321000002"):
        app.register_household(**household_form(code))
    before = app.recorder.max_notification_id()

    agreement = app.file_pairing(**pairing_form(str(expert.id), ["371321000001", "371321000002"]))

    new = app.recorder.select_notifications(start=before + 1, limit=10)
    names = [app.mapper.to_domain_event(n).__class__.__name__ for n in new]
    assert names == [
        "PairingAgreementFiled",
        "ExpertAgreementTaken",
        "HouseholdPaired",
        "HouseholdPaired",
    ]
    assert app.get_household("371321000001").pairings == {str(agreement.id): str(expert.id)}


def test_a_pairing_naming_an_unregistered_household_records_nothing(app):
    expert = app.register_expert(**expert_form())
    app.register_household(**household_form("371321000001"))
    before = app.recorder.max_notification_id()

    with pytest.raises(RuleViolation) as refused:
        app.file_pairing(**pairing_form(str(expert.id), ["371321000001", "371321999999"]))

    assert refused.value.details == {"household_codes": ["371321999999: not registered"]}
    assert app.recorder.max_notification_id() == before
    assert app.get_household("371321000001").pairings == {}


def test_a_household_is_paired_with_the_same_expert_only_once(app):
    expert = app.register_expert(**expert_form())
    app.register_household(**household_form("371321000001"))
    app.file_pairing(**pairing_form(str(expert.id), ["371321000001"]))
    with pytest.raises(Conflict):
        app.file_pairing(**pairing_form(str(expert.id), ["371321000001"]))


def test_pairing_needs_a_registered_expert_and_dates_inside_the_registrations(app):
    app.register_household(**household_form("371321000001"))
    with pytest.raises(RuleViolation):
        app.file_pairing(**pairing_form("00000000-0000-0000-0000-000000000000", ["371321000001"]))
    expert = app.register_expert(**expert_form(effective_date="2020-03-01"))
    with pytest.raises(RuleViolation):
        app.file_pairing(
            **pairing_form(str(expert.id), ["371321000001"], effective_date="2020-02-01")
        )


def test_a_household_code_is_registered_once(app):
    app.register_household(**household_form("371321000001"))
    with pytest.raises(Conflict):
        app.register_household(**household_form("371321000001", people=2))


def test_personal_numbers_are_encrypted_at_rest(app, tmp_path):
    form = expert_form(bank_account="6222020200112233445")
    app.register_expert(**form)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("registry.sqlite*"))
    assert form["id_number"].encode() not in stored
    assert b"6222020200112233445" not in stored
    assert (
        "王建国".encode() not in stored
    )  # the whole event state is encrypted, not just the numbers


# -- on the real PostgreSQL event store -------------------------------------------------------


def test_the_event_store_refuses_a_second_registration_that_raced_past_the_check(two_replicas):
    first, second = two_replicas
    # The second replica read "not registered" before the first one saved: simulate exactly that.
    checks = []

    def stale_then_real(aggregate_id):
        checks.append(aggregate_id)
        return False if len(checks) == 1 else RegistryApplication._exists(second, aggregate_id)

    second._exists = stale_then_real

    winner = first.register_expert(**expert_form())
    with pytest.raises(Conflict) as refused:
        second.register_expert(**expert_form(name="冒名"))

    assert refused.value.details == {"id_number": ["already registered"]}
    assert len(checks) == 2  # the save was refused by the store, and the retry saw the winner
    claim = second.repository.get(IdNumberClaim.create_id(winner.id_hash))
    assert claim.expert_id == str(winner.id)
    assert second.recorder.max_notification_id() == 2  # one ExpertRegistered, one IdNumberClaimed


def test_parallel_registrations_of_one_id_number_on_two_replicas_register_exactly_one(two_replicas):
    results = []

    def register(application, n):
        try:
            results.append(application.register_expert(**expert_form(phone=f"1380000{n:04d}")))
        except Conflict as refused:
            results.append(refused)

    pool = eventlet.GreenPool()
    for n in range(8):
        pool.spawn(register, two_replicas[n % 2], n)
    pool.waitall()

    assert sum(not isinstance(r, Conflict) for r in results) == 1
    assert len(results) == 8


# -- Idempotency-Key --------------------------------------------------------------------------


def keyed(key, form, requester="clerk-1"):
    from kernel.idempotency import Idempotency, fingerprint

    return Idempotency("registry", requester, key, fingerprint("test-key", form))


def test_a_retried_request_with_the_same_key_returns_the_first_result_and_records_nothing(app):
    form = expert_form()
    first = app.register_expert(**form, idempotency=keyed("k-1", form))
    after_first = app.recorder.max_notification_id()

    again = app.register_expert(**form, idempotency=keyed("k-1", form))

    assert again.id == first.id
    assert app.recorder.max_notification_id() == after_first
    with pytest.raises(Conflict) as reused:
        other = expert_form(name="另一个人", id_number=id_number("371321", "19990101", "055"))
        app.register_expert(**other, idempotency=keyed("k-1", other))
    assert "Idempotency-Key" in reused.value.details
    # Another requester's key of the same name is theirs alone.
    with pytest.raises(Conflict) as duplicate:
        app.register_expert(**form, idempotency=keyed("k-1", form, requester="clerk-2"))
    assert "id_number" in duplicate.value.details


def test_a_keyed_pairing_retried_records_its_households_once(app):
    expert = app.register_expert(**expert_form())
    app.register_household(**household_form("371321000001"))
    form = pairing_form(str(expert.id), ["371321000001"])
    first = app.file_pairing(**form, idempotency=keyed("pair-1", form))
    assert app.file_pairing(**form, idempotency=keyed("pair-1", form)).id == first.id
    assert len(app.get_household("371321000001").pairings) == 1


def test_two_replicas_racing_with_one_key_record_once(two_replicas):
    form = expert_form()
    results = []
    pool = eventlet.GreenPool()
    for n in range(6):
        pool.spawn(
            lambda a: results.append(a.register_expert(**form, idempotency=keyed("race", form)).id),
            two_replicas[n % 2],
        )
    pool.waitall()
    assert len(results) == 6 and len(set(results)) == 1
    assert two_replicas[0].recorder.max_notification_id() == 3  # expert, claim, key


def test_an_import_batch_with_an_already_registered_household_records_exactly_the_new_ones(app):
    app.register_household(**household_form("371321000002"))
    before = app.recorder.max_notification_id()
    rows = [{**household_form(f"37132100000{n}"), "row": n} for n in (1, 2, 3)]

    result = app.import_households(rows)

    assert [c["code"] for c in result["created"]] == ["371321000001", "371321000003"]
    assert result["duplicates"] == [
        {"row": 2, "code": "371321000002", "reason": "already registered"}
    ]
    assert app.recorder.max_notification_id() == before + 2  # reported created == really recorded
    assert app.import_households(rows)["created"] == []


def test_an_imported_household_is_the_same_aggregate_as_one_registered_by_the_command(app):
    form = household_form("371321000001")
    app.import_households([{**form, "row": 1}])
    imported = app.get_household("371321000001")
    app.register_household(**household_form("371321000002"))
    registered = app.get_household("371321000002")

    differs = {k for k in vars(imported) if vars(imported)[k] != vars(registered)[k]}
    assert differs == {
        "_id",
        "_created_on",
        "_modified_on",
        "code",
        "head_id_number",
        "head_id_hash",
    }
    assert type(imported) is Household and imported.version == registered.version == 1


def test_targets_beyond_what_the_nation_holds_are_refused_even_without_the_gateway(app):
    """Issue 13 item 2: targets of 2^63 once stalled every reader of the 两数 for good; the
    aggregate refuses them as the gateway's schema does (one limit: services/registry/contract.py),
    when set and when revised, and records nothing."""
    with pytest.raises(ValidationFailed) as refused:
        app.set_targets("city:山东/临沂", 2020, {"households_paired": 2**63}, "2020-01-01")
    assert "households_paired" in refused.value.details
    assert (app.recorder.max_notification_id() or 0) == 0
    app.set_targets("city:山东/临沂", 2020, {"households_paired": 100}, "2020-01-01")
    with pytest.raises(ValidationFailed) as refused:
        app.set_targets(
            "city:山东/临沂", 2020, {"experts": -1, "households_paired": True}, "2020-02-01"
        )
    assert set(refused.value.details) == {"experts", "households_paired"}
    assert app.recorder.max_notification_id() == 1
