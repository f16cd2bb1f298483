"""Who may do what in funding (jurisdiction), checked by the service before each command.

- A programme is configured by the national office, or by a provincial office for its province.
- A project is filed by a writer whose jurisdiction covers the project's unit and region (a county
  or city body for projects located in its area).
- Each approval level is reviewed by a body of that level's kind (county, city, province,
  national) whose area overlaps the project's region.
- Public notice, confirmation and payments belong to the programme's owner: the national office,
  or the provincial office of the programme's province.
Auditors and inspectors write nothing.
"""

from kernel.auth import authorize_write, require_writer, unit_of
from kernel.errors import Forbidden
from services.funding.domain import region_covers

OWNERS = ("national_office", "provincial_office")


def authorize_programme(actor, unit):
    require_writer(actor)
    if actor.role in OWNERS and actor.unit.covers(unit_of(unit)):
        return
    raise Forbidden(
        f"{actor.role} {actor.scope} may not configure a programme of {unit}",
        {"unit": ["the national office, or a provincial office for its own province"]},
    )


def authorize_application(actor, unit, region):
    authorize_write(actor, unit=unit, location=unit_of(region).place())


def authorize_review(actor, project, level, level_kind):
    require_writer(actor)
    if level_kind is None:
        return  # not a level of this programme: the command refuses it (422)
    kind = actor.unit.kind
    if kind != level_kind:
        raise Forbidden(
            f"level {level} is reviewed by a {level_kind} body, not {actor.scope}",
            {"level": [f"reviewed by a {level_kind} body"]},
        )
    if kind != "national" and not (
        region_covers(actor.scope, project.region) or region_covers(project.region, actor.scope)
    ):
        raise Forbidden(
            f"{actor.scope} may not review projects in {project.region}",
            {"level": ["outside your area"]},
        )


def authorize_owner(actor, programme):
    if actor.role in OWNERS and actor.unit.covers(unit_of(programme.unit)):
        return
    raise Forbidden(
        f"only the programme's owner ({programme.unit}) publicizes, confirms and pays",
        {"project_id": [f"belongs to a programme of {programme.unit}"]},
    )
