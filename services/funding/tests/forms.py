"""Valid funding command arguments and a registry payee, overridable field by field."""

import copy

from kernel.pii import keyed_hash, mask
from services.funding.programmes import PILOT, SHANDONG

ACCOUNT = "6222020200112233445"


def programme_form(ready=SHANDONG, **overrides):
    form = {**copy.deepcopy(ready), "effective_date": "2016-03-01"}
    form.update(overrides)
    return form


def payee(
    expert_id="e-1",
    account=ACCOUNT,
    registered_on="2016-01-10",
    revoked_on=None,
    key="test-key",
    erased=False,
):
    """What the registry's ``payee`` RPC answers for an expert."""
    return {
        "expert_id": expert_id,
        "name": "王建国",
        "unit": "province:山东",
        "location": {"province": "山东", "city": "临沂", "county": "沂南"},
        "registered_on": registered_on,
        "revoked_on": revoked_on,
        "erased": erased,
        "bank_account": mask(account),
        "bank_account_hash": keyed_hash(key, account) if account else None,
    }


def individual(expert_id="e-1"):
    return {"type": "individual", "expert_id": expert_id}


def unit_applicant(name="山东省科技馆", fully_budget_funded=False):
    return {"type": "unit", "unit_name": name, "fully_budget_funded": fully_budget_funded}


def project_form(programme_id, **overrides):
    form = dict(
        programme_id=programme_id,
        applicant=individual(),
        kind="industry",
        region="county:山东/临沂/沂南",
        villages=["西岭村"],
        content="苹果矮化密植技术服务",
        year=2016,
        effective_date="2016-04-01",
    )
    form.update(overrides)
    return form


__all__ = ["PILOT", "SHANDONG"]
