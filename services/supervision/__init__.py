"""Supervision service: campaigns, self-inspections and the statistics table, field inspection, rectification."""
from kernel.catalogue import ServiceLog
from services.supervision.application import SupervisionApplication
from services.supervision.domain import PERSONAL_FIELDS
from services.supervision.projection import SupervisionProjection

LOG = ServiceLog("supervision", SupervisionApplication, (SupervisionProjection,), PERSONAL_FIELDS)
