"""Who may do what in supervision, checked by the service before each command.

- Campaigns are launched, scheduled for field inspection and closed by the national office.
- A unit (a writer) reports its own self-inspection, for itself only.
- Findings are recorded by inspectors; spot checks are drawn by the national office or an inspector.
- Rectification: the responsible unit (any writer but the national office) reports progress and
  submits its evidence; an inspector or the national office verifies it or reopens the item.
The application checks what needs the records: that an inspector is assigned to the unit's
province in the campaign, and that a unit works only on its own items.
"""

from kernel.auth import WRITERS, require_role
from kernel.errors import Forbidden
from kernel.places import canonical_unit

RESPONSIBLE_UNITS = tuple(role for role in WRITERS if role != "national_office")
WORK = ("progress", "submit")  # the responsible unit's moves; the others check its work


def authorize_campaign(actor):
    require_role(actor, "national_office")


def authorize_self_inspection(actor, unit):
    require_role(actor, *WRITERS)
    unit = canonical_unit(unit)
    if actor.scope != unit:
        raise Forbidden(
            f"{actor.scope} may not report for {unit}",
            {"unit": ["only the unit reports for itself"]},
        )


def authorize_finding(actor):
    require_role(actor, "inspector")


def authorize_spot_check(actor):
    require_role(actor, "national_office", "inspector")


def authorize_rectification_move(actor, move):
    if move in WORK:
        require_role(actor, *RESPONSIBLE_UNITS)
    else:
        require_role(actor, "inspector", "national_office")
