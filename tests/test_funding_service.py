"""The funding service as deployed: nameko containers on the real RabbitMQ, event stores in the
real PostgreSQL, views in MongoDB over real pymongo. Funding asks the registry over AMQP RPC for
the expert's registered account; FundDisbursed is heard on the bus with the account masked; the
registry's ExpertErased is heard by funding, and the payment's account reads erased."""

import pytest
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from kernel.errors import Forbidden, RuleViolation
from kernel.idempotency import KeyedRequest
from services.funding.programmes import SHANDONG
from services.funding.service import FundingService
from services.registry.service import RegistryService
from services.registry.tests.forms import expert_form
from tests.infrastructure import bus_listener, callers, services_on_real_parts

ADMIN = {"subject": "test", "role": "national_office", "scope": "national"}
PROVINCE = {"subject": "sd", "role": "provincial_office", "scope": "province:山东"}
COUNTY = {"subject": "yn", "role": "county_association", "scope": "county:山东/临沂/沂南"}
CITY = {"subject": "ly", "role": "county_association", "scope": "city:山东/临沂"}
AUDITOR = {"subject": "au", "role": "auditor", "scope": "national"}
ACCOUNT = "6222020200112233445"
BusListener = bus_listener("funding_bus_listener", "funding", "FundDisbursed")
heard = BusListener.heard


@pytest.fixture
def runner(monkeypatch, amqp_uri, postgres_db, mongo_uri):
    heard.clear()
    with services_on_real_parts(
        monkeypatch, amqp_uri, postgres_db, mongo_uri, RegistryService, FundingService, BusListener
    ) as service_runner:
        yield service_runner


def test_a_project_is_approved_publicized_and_paid_once_over_rpc(runner, amqp_uri):
    with callers(amqp_uri) as calling:
        expert = calling(ADMIN).registry.register_expert(
            expert_form(bank_account=ACCOUNT, effective_date="2016-01-10")
        )
        province = calling(PROVINCE).funding
        programme = province.configure_programme(
            {**SHANDONG, "quotas": {"city:山东/临沂": 1}, "effective_date": "2016-03-01"}
        )
        project = calling(COUNTY).funding.apply(
            {
                "programme_id": programme["id"],
                "applicant": {"type": "individual", "expert_id": expert["id"]},
                "kind": "industry",
                "region": "county:山东/临沂/沂南",
                "villages": ["西岭村"],
                "content": "果树技术服务",
                "year": 2016,
                "effective_date": "2016-04-01",
            }
        )
        with pytest.raises(Forbidden):
            calling(AUDITOR).funding.review(
                project["id"],
                {
                    "level": "applicant_unit",
                    "decision": "approve",
                    "comment": "",
                    "effective_date": "2016-04-10",
                },
            )
        for level in programme["approval_levels"]:
            actor = {"city_association": CITY, "provincial_association": PROVINCE}.get(
                level, COUNTY
            )
            calling(actor).funding.review(
                project["id"],
                {
                    "level": level,
                    "decision": "approve",
                    "comment": "同意",
                    "effective_date": "2016-04-10",
                },
            )
        province.publicize(project["id"], {"effective_date": "2016-05-01"})
        with pytest.raises(RuleViolation):
            province.confirm(project["id"], {"effective_date": "2016-05-07"})
        province.confirm(project["id"], {"effective_date": "2016-05-08"})
        payment = {
            "project_id": project["id"],
            "year": 2016,
            "amount_fen": 400_000,
            "account": ACCOUNT,
            "effective_date": "2016-06-01",
        }

        listener = get_container(runner, BusListener)
        key = KeyedRequest("pay-1", "POST", "/api/v1/disbursements", payment).wire(
            "test-key"
        )  # as the gateway
        with entrypoint_waiter(listener, "FundDisbursed"):
            paid = province.disburse(payment, key)
        again = province.disburse(payment, key)
        with pytest.raises(RuleViolation) as twice:
            province.disburse(payment)

        assert again == paid and list(twice.value.details) == ["amount_fen"]
        assert paid["account"] == "6222***********3445"
        assert heard[0]["payload"]["account"] == "6222***********3445" and ACCOUNT not in str(heard)
        summary = calling().funding.summary("province:山东", 2016)
        assert (
            summary["approved_projects"],
            summary["disbursed_fen"],
            summary["disbursed_wan"],
        ) == (1, 400_000, 0.4)
        assert summary["quota"] == {"total": 1, "used": 1, "left": 0}
        assert (
            summary["positions"]["funding"] >= heard[0]["position"]
        )  # the figures include the payment

        # The registry's erasure reaches funding over RabbitMQ: the account reads erased there.
        with entrypoint_waiter(get_container(runner, FundingService), "expert_erased"):
            calling(ADMIN).registry.erase_expert(expert["id"], {"reason": "本人申请"})
        record = calling(AUDITOR).funding.get_project(project["id"])
        assert record["disbursements"][0]["account"] == "erased"
        assert calling().funding.summary("province:山东", 2016)["disbursed_fen"] == 400_000
