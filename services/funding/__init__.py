"""Funding service: programmes and quotas, project applications and their approval chain, public notice, disbursements."""
from kernel.catalogue import ServiceLog
from services.funding.application import FundingApplication
from services.funding.domain import PERSONAL_FIELDS
from services.funding.projection import FundingProjection

LOG = ServiceLog("funding", FundingApplication, (FundingProjection,), PERSONAL_FIELDS)
