"""Awards service: award rounds and quotas, nominations, eligibility, public notice, objections, commendation."""

from kernel.declaration import Declaration
from services.awards.application import AwardsApplication
from services.awards.domain import PERSONAL_FIELDS
from services.awards.projection import AwardsProjection

SERVICE = Declaration(
    "awards",
    AwardsApplication,
    (AwardsProjection,),
    PERSONAL_FIELDS,
    rpc="services.awards.service:AwardsService",
    routes="gateway.awards_routes:AwardsRoutes",
)
