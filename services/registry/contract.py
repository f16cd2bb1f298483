"""The registry's public constants: what other services and the gateway may rely on, so that none
of them keeps its own copy (a metric's name, the largest figure a unit can have).

The limits are the nation's: 29.5M registered households (~90M people) and the programme's goal
of 100,000 experts, 10,000 associations and 1,000 federations, with room to spare. A figure beyond
them is a typing error; the gateway's schemas and the aggregates refuse it alike, so no caller
(an RPC client that skips the gateway included) can record one that a view store cannot hold.
"""

from kernel.errors import ValidationFailed

METRICS = (
    "federations",
    "associations",
    "experts",
    "households_paired",
    "people_in_paired_households",
    "households_lifted",
    "people_lifted",
)
# The registers a record can be revoked or corrected in, and those whose records name a person
# who can be erased (an association names its organisation, not a person).
REGISTERS = ("expert", "association", "household")
ERASABLE = ("expert", "household")
MAX_BODIES = 1_000_000  # experts, associations or federations of one unit
MAX_HOUSEHOLDS = 30_000_000
MAX_PEOPLE = 100_000_000
HOUSEHOLD_PEOPLE_MAX = 50  # people in one household
# What a correction may change; an ID number or an affiliation is fixed by revoking and registering anew.
EXPERT_CORRECTABLE = (
    "name",
    "gender",
    "employer",
    "title",
    "specialty",
    "phone",
    "email",
    "address",
    "location",
    "bank_account",
    "political_status",
)
HOUSEHOLD_CORRECTABLE = ("head_name", "people", "location")
ASSOCIATION_CORRECTABLE = ("name", "level", "location", "supported_by")
METRIC_LIMITS = {
    "federations": MAX_BODIES,
    "associations": MAX_BODIES,
    "experts": MAX_BODIES,
    "households_paired": MAX_HOUSEHOLDS,
    "people_in_paired_households": MAX_PEOPLE,
    "households_lifted": MAX_HOUSEHOLDS,
    "people_lifted": MAX_PEOPLE,
}


def bounded_figures(figures, limits, field=""):
    """``figures`` if each is a whole number from 0 to its limit (None allowed: not set);
    ValidationFailed naming each wrong one (``field.name``) otherwise."""
    prefix = f"{field}." if field else ""
    wrong = {}
    for name, value in figures.items():
        if name not in limits:
            wrong[prefix + name] = ["not a figure of this form"]
        elif value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limits[name]
        ):
            wrong[prefix + name] = [f"a whole number from 0 to {limits[name]:,}"]
    if wrong:
        raise ValidationFailed("figures out of bounds: " + ", ".join(sorted(wrong)), wrong)
    return figures
