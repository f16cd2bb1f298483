"""Issue 13 item 13: personal numbers never travel in clear on the broker.

The gateway and the registry as deployed (nameko containers on the real RabbitMQ, the registry's
event store in the real PostgreSQL, its views in MongoDB over pymongo). A spy queue bound to
nameko's RPC exchange reads every raw AMQP message body — requests and replies — while a client
registers, corrects and imports over HTTP: no ID number or bank account appears in clear, the
sealed form does, and the registry still registers (masks, dedup and the account's keyed hash
are those of the clear numbers)."""

import logging
import os
import uuid

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from gateway.service import GatewayService
from kernel import auth
from kernel.pii import keyed_hash, mask
from kernel.sealed import SEALED
from kjfp.sample_data import id_number
from services.registry.service import RegistryService
from services.registry.tests.forms import expert_form, household_form
from tests.infrastructure import free_port, services_on_real_parts

ACCOUNT = "6222020200112233445"
NEW_ACCOUNT = "6222020200998877665"


@pytest.fixture
def system(monkeypatch, amqp_uri, postgres_db, mongo_uri):
    port = free_port()
    with services_on_real_parts(
        monkeypatch,
        amqp_uri,
        postgres_db,
        mongo_uri,
        RegistryService,
        GatewayService,
        web_port=port,
    ):
        yield f"http://127.0.0.1:{port}/api/v1", os.environ["TOKEN_SECRET"]


@pytest.fixture
def spy(system, amqp_uri):
    """Every message published on nameko's RPC exchange from now on, as raw bodies."""
    with Connection(amqp_uri) as connection:
        exchange = Exchange("nameko-rpc", type="topic", durable=True)
        queue = Queue(f"spy-{uuid.uuid4().hex[:8]}", exchange, routing_key="#", auto_delete=True)
        bound = queue(connection.default_channel)
        bound.declare()

        def drain():
            bodies = []
            while (message := bound.get(no_ack=True)) is not None:
                bodies.append(
                    message.body if isinstance(message.body, bytes) else message.body.encode()
                )
            return bodies

        yield drain


def test_no_clear_id_number_or_account_on_the_broker_and_the_registry_still_registers(
    system, spy, amqp_uri, caplog
):
    """Issue 13 item 13: requests carry personal fields sealed; the registry unseals them."""
    caplog.set_level(logging.DEBUG)
    base, secret = system
    headers = {
        "Authorization": f"Bearer {auth.mint(secret, 'national_office', 'national', 'tester')}"
    }
    expert = expert_form(bank_account=ACCOUNT)
    heads = [id_number("371321", "19980101", f"{n + 100:03d}") for n in range(1, 4)]
    households = [
        household_form(f"37132100000{n}", head_id_number=head) for n, head in enumerate(heads, 1)
    ]

    created = requests.post(
        f"{base}/experts", json=expert, headers={**headers, "Idempotency-Key": "e-1"}
    )
    assert created.status_code == 201, created.text
    corrected = requests.post(
        f"{base}/experts/{created.json()['id']}/corrections",
        json={"changes": {"bank_account": NEW_ACCOUNT}, "reason": "换卡"},
        headers=headers,
    )
    assert corrected.status_code == 200, corrected.text
    assert (
        requests.post(f"{base}/households", json=households[0], headers=headers).status_code == 201
    )
    imported = requests.post(f"{base}/households/import", json=households[1:], headers=headers)
    assert imported.json()["created"] == 2, imported.text
    again = requests.post(f"{base}/experts", json={**expert, "name": "重名"}, headers=headers)
    bodies = spy()

    clear = [expert["id_number"], ACCOUNT, NEW_ACCOUNT, *heads]
    assert bodies and any(SEALED.encode() in body for body in bodies)
    assert not [number for number in clear for body in bodies if number.encode() in body]
    assert not [
        number for number in clear for record in caplog.records if number in record.getMessage()
    ]
    # the registry saw the clear numbers: masks, the dedup by ID number and the account's keyed hash
    assert created.json()["id_number"] == mask(expert["id_number"])
    assert again.status_code == 409 and "id_number" in again.json()["details"]
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as cluster:
        payee = cluster.registry.payee(created.json()["id"])
    assert payee["bank_account_hash"] == keyed_hash(os.environ["PII_HASH_KEY"], NEW_ACCOUNT)


def test_a_sealed_value_opens_only_under_its_own_field_and_key():
    """Issue 13 item 13 (in memory, no broker): what the broker could do to a sealed value —
    move it to another field, alter it, or hold another deployment's key — never opens it."""
    from kernel.errors import ValidationFailed
    from kernel.sealed import Seal

    seal = Seal("the deployment's CIPHER_KEY")
    form = {
        "name": "王建国",
        "id_number": "370102199603120112",
        "changes": [{"bank_account": ACCOUNT}],
    }
    sealed = seal.seal(form, {"id_number", "bank_account"})

    assert (
        sealed["name"] == "王建国" and SEALED in sealed["id_number"] and ACCOUNT not in str(sealed)
    )
    assert seal.unseal(sealed) == form
    with pytest.raises(ValidationFailed) as moved:
        seal.unseal({"bank_account": sealed["id_number"]})
    assert "bank_account" in moved.value.details
    with pytest.raises(ValidationFailed):
        Seal("another key").unseal(sealed)
