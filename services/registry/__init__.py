"""Registry service: real-name registers of experts, households and pairings, and the 两数."""
from kernel.catalogue import ServiceLog
from services.registry.application import RegistryApplication
from services.registry.domain import PERSONAL_FIELDS
from services.registry.projection import TwoCountsProjection

LOG = ServiceLog("registry", RegistryApplication, (TwoCountsProjection,), PERSONAL_FIELDS)
