"""Awards service: award rounds and quotas, nominations, eligibility, public notice, objections, commendation."""
from kernel.catalogue import ServiceLog
from services.awards.application import AwardsApplication
from services.awards.domain import PERSONAL_FIELDS
from services.awards.projection import AwardsProjection

LOG = ServiceLog("awards", AwardsApplication, (AwardsProjection,), PERSONAL_FIELDS)
