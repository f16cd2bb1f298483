"""Bearer tokens (signed JWT with expiry) carrying one role and its scope, and scope checks.

A scope is a unit (kernel.places.Unit): ``national``, ``province:山东``, ``city:山东/临沂``,
``county:山东/临沂/沂南``, ``society:中国农学会``, held canonical. PyJWT does the signing and expiry
so that we do not hand-roll crypto.
"""

import time
import uuid
from dataclasses import dataclass

import jwt

from kernel.errors import Forbidden, Unauthorized
from kernel.places import Place, PlaceError, Unit, canonical_unit

ROLES = (
    "national_office",
    "provincial_office",
    "society",
    "county_association",
    "inspector",
    "expert",
    "auditor",
)
ALGORITHM = "HS256"
CLAIM_TYPES = {"sub": str, "role": str, "scope": str, "exp": int, "iat": int, "nbf": int}


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str
    scope: str

    @property
    def unit(self):
        """The scope as a Unit."""
        return Unit.parse(self.scope)

    def to_dict(self):
        return {"subject": self.subject, "role": self.role, "scope": self.scope}

    @classmethod
    def from_dict(cls, data):
        return cls(data["subject"], data["role"], data["scope"])


def mint(secret, role, scope, subject=None, ttl_seconds=8 * 3600, now=None):
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    scope = str(Unit.parse(scope))  # canonical: province:山东省 and province:山东 are one scope
    now = int(now if now is not None else time.time())
    claims = {
        "sub": subject or f"{role}:{uuid.uuid4().hex[:8]}",
        "role": role,
        "scope": scope,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret, token, previous_secret=None):
    """The actor a token names, if ``secret`` signed it — or ``previous_secret``, the one being
    rotated out, so that tokens already handed out keep working until they expire."""
    try:
        try:
            claims = jwt.decode(
                token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.InvalidSignatureError:
            if not previous_secret:
                raise
            claims = jwt.decode(
                token, previous_secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid token") from None
    # Every claim has its type: a signed token with e.g. a list for scope, or "exp" as a string
    # (PyJWT then skips the expiry check), is refused rather than trusted.
    wrong = [
        name
        for name, kind in CLAIM_TYPES.items()
        if name in claims and (not isinstance(claims[name], kind) or isinstance(claims[name], bool))
    ]
    if wrong:
        raise Unauthorized(
            "invalid token",
            {"Authorization": [f"claim {name} has the wrong type" for name in wrong]},
        )
    if claims.get("role") not in ROLES or not claims.get("scope"):
        raise Unauthorized("token lacks role or scope")
    try:
        scope = str(Unit.parse(claims["scope"]))
    except ValueError:
        raise Unauthorized("token scope is not a unit") from None
    return Actor(claims["sub"], claims["role"], scope)


def unit_of(value):
    """The Unit ``value`` names (a Unit or its text); ValidationFailed naming ``unit`` otherwise."""
    return value if isinstance(value, Unit) else Unit.parse(canonical_unit(value))


def place_of(location):
    """The Place a location mapping names. A record stored before places were canonical may
    name one the division list does not know: it is then taken as written, so that it can
    still be read, corrected or revoked by whoever's area names it."""
    if isinstance(location, Place):
        return location
    try:
        return Place.parse(location)
    except PlaceError:
        return Place(*(location.get(k) for k in Place.FIELDS))


WRITERS = ("national_office", "provincial_office", "society", "county_association")
ERASERS = ("national_office",)  # who may erase a person's personal data (kernel.personal)


def require_role(actor, *roles):
    if actor.role not in roles:
        raise Forbidden(
            f"role {actor.role} may not do this", {"role": [f"one of {', '.join(roles)} required"]}
        )


def require_writer(actor):
    if actor.role not in WRITERS:
        raise Forbidden(f"role {actor.role} may not write registers")


def _inside_area(scope, unit, location):
    """A city or county body reaches its province's records that are located inside its area."""
    return (
        scope.kind in ("city", "county")
        and unit == scope.lineage[1]
        and location is not None
        and scope.covers(place_of(location))
    )


def authorize_write(actor, unit=None, location=None):
    """Refuse a write outside the actor's jurisdiction.

    ``unit`` is the affiliation the record is credited to; ``location`` where it is. A county or
    city body may write records of its province's unit that are located inside its area."""
    require_writer(actor)
    scope = actor.unit
    if scope.kind == "national":
        return
    if unit is not None:
        unit = unit_of(unit)
        if not scope.covers(unit) and not _inside_area(scope, unit, location):
            raise Forbidden(
                f"{scope} may not write records of {unit}", {"unit": ["outside your jurisdiction"]}
            )
    if unit is None and location is not None and not scope.covers(place_of(location)):
        raise Forbidden(
            f"{scope} may not write records located in {place_of(location).province}",
            {"location": ["outside your jurisdiction"]},
        )


def authorize_change(actor, unit=None, location=None, new_location=None):
    """A change to a record is the writer's only if the record is in its jurisdiction both as it
    is and as it would be: a correction cannot move a record out of the writer's area."""
    authorize_write(actor, unit=unit, location=location)
    if new_location is not None:
        authorize_write(actor, unit=unit, location=new_location)


def authorize_targets(actor, unit):
    """Targets are allocated downwards: the national office sets provinces' and societies';
    a provincial office may set those of the cities and counties inside its province."""
    if actor.role == "national_office":
        return
    unit = unit_of(unit)
    if (
        actor.role == "provincial_office"
        and unit.kind in ("city", "county")
        and actor.unit.covers(unit)
    ):
        return
    raise Forbidden(
        f"{actor.role} {actor.scope} may not set the targets of {unit}",
        {"unit": ["not yours to set"]},
    )


def authorize_household_in_pairing(actor, location):
    """Provinces, cities and counties pair households inside their area; national societies
    (and the national office) pair households wherever their experts serve."""
    scope = actor.unit
    if scope.geographic and not scope.covers(place_of(location)):
        raise Forbidden(
            f"{scope} may not pair households located in {place_of(location).province}",
            {"household_codes": ["outside your jurisdiction"]},
        )


NATIONWIDE_READERS = ("national_office", "auditor", "inspector")


def authorize_read(actor, unit, location=None):
    """Personal records (names, contacts) are read inside one's jurisdiction; national bodies,
    auditors and inspectors read everything."""
    if actor.role in NATIONWIDE_READERS or actor.scope == "national":
        return
    unit = unit_of(unit)
    if actor.unit.covers(unit) or _inside_area(actor.unit, unit, location):
        return
    raise Forbidden(
        f"{actor.scope} may not read records of {unit}", {"unit": ["outside your jurisdiction"]}
    )
