"""Registry service: real-name registers of experts, households and pairings, and the 两数."""

from kernel.declaration import Declaration
from services.registry.application import RegistryApplication
from services.registry.domain import PERSONAL_FIELDS
from services.registry.projection import TwoCountsProjection

SERVICE = Declaration(
    "registry",
    RegistryApplication,
    (TwoCountsProjection,),
    PERSONAL_FIELDS,
    rpc="services.registry.service:RegistryService",
    routes="gateway.registry_routes:RegistryRoutes",
)
