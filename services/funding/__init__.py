"""Funding service: programmes and quotas, project applications and their approval chain, public
notice, disbursements."""

from kernel.declaration import Declaration
from services.funding.application import FundingApplication
from services.funding.domain import PERSONAL_FIELDS
from services.funding.projection import FundingProjection

SERVICE = Declaration(
    "funding",
    FundingApplication,
    (FundingProjection,),
    PERSONAL_FIELDS,
    rpc="services.funding.service:FundingService",
    routes="gateway.funding_routes:FundingRoutes",
)
