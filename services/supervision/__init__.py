"""Supervision service: campaigns, self-inspections and the statistics table, field inspection, rectification."""

from kernel.declaration import Declaration
from services.supervision.application import SupervisionApplication
from services.supervision.domain import PERSONAL_FIELDS
from services.supervision.projection import SupervisionProjection

SERVICE = Declaration(
    "supervision",
    SupervisionApplication,
    (SupervisionProjection,),
    PERSONAL_FIELDS,
    rpc="services.supervision.service:SupervisionService",
    routes="gateway.supervision_routes:SupervisionRoutes",
)
