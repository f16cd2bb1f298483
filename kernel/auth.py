"""Bearer tokens (signed JWT with expiry) carrying one role and its scope, and scope checks.

A scope is a unit: ``national``, ``province:山东``, ``city:山东/临沂``, ``county:山东/临沂/沂南``,
``society:中国农学会``. PyJWT does the signing and expiry so that we do not hand-roll crypto.
"""
import time
import uuid
from dataclasses import dataclass

import jwt

from kernel.errors import Forbidden, Unauthorized

ROLES = (
    "national_office", "provincial_office", "society", "county_association",
    "inspector", "expert", "auditor",
)
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str
    scope: str

    def to_dict(self):
        return {"subject": self.subject, "role": self.role, "scope": self.scope}

    @classmethod
    def from_dict(cls, data):
        return cls(data["subject"], data["role"], data["scope"])


def mint(secret, role, scope, subject=None, ttl_seconds=8 * 3600, now=None):
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    parse_unit(scope)
    now = int(now if now is not None else time.time())
    claims = {"sub": subject or f"{role}:{uuid.uuid4().hex[:8]}", "role": role, "scope": scope,
              "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret, token, previous_secret=None):
    """The actor a token names, if ``secret`` signed it — or ``previous_secret``, the one being
    rotated out, so that tokens already handed out keep working until they expire."""
    try:
        try:
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        except jwt.InvalidSignatureError:
            if not previous_secret:
                raise
            claims = jwt.decode(token, previous_secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired")
    except jwt.PyJWTError:
        raise Unauthorized("invalid token")
    if claims.get("role") not in ROLES or not claims.get("scope"):
        raise Unauthorized("token lacks role or scope")
    try:
        parse_unit(claims["scope"])
    except ValueError:
        raise Unauthorized("token scope is not a unit")
    return Actor(claims["sub"], claims["role"], claims["scope"])


def parse_unit(unit):
    """``city:山东/临沂`` → ``("city", ["山东", "临沂"])``; raises ValueError when malformed."""
    if unit == "national":
        return "national", []
    kind, sep, path = (unit or "").partition(":")
    parts = path.split("/") if path else []
    depth = {"province": 1, "city": 2, "county": 3, "society": 1}.get(kind)
    if not sep or depth is None or len(parts) != depth or not all(p.strip() for p in parts):
        raise ValueError(
            f"unit {unit!r} is not one of national, province:P, city:P/C, county:P/C/X, society:S")
    return kind, parts


def location_path(location):
    return [location.get(k) for k in ("province", "city", "county")]


def scope_covers_location(scope, location):
    kind, parts = parse_unit(scope)
    if kind == "national":
        return True
    if kind == "society":
        return False
    return location_path(location)[: len(parts)] == parts


def scope_covers_unit(scope, unit):
    """Does a token scoped to ``scope`` reach data credited to ``unit``?"""
    if scope == "national":
        return True
    s_kind, s_parts = parse_unit(scope)
    u_kind, u_parts = parse_unit(unit)
    if "society" in (s_kind, u_kind):
        return scope == unit
    if u_kind == "national":
        return False
    return u_parts[: len(s_parts)] == s_parts and len(u_parts) >= len(s_parts)


WRITERS = ("national_office", "provincial_office", "society", "county_association")


def require_role(actor, *roles):
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role} may not do this", {"role": [f"one of {', '.join(roles)} required"]})


def require_writer(actor):
    if actor.role not in WRITERS:
        raise Forbidden(f"role {actor.role} may not write registers")


def authorize_write(actor, unit=None, location=None):
    """Refuse a write outside the actor's jurisdiction.

    ``unit`` is the affiliation the record is credited to; ``location`` where it is. A county or
    city body may write records of its province's unit that are located inside its area."""
    require_writer(actor)
    kind, parts = parse_unit(actor.scope)
    if kind == "national":
        return
    if unit is not None and not scope_covers_unit(actor.scope, unit):
        inside_area = (kind in ("city", "county") and unit == f"province:{parts[0]}"
                       and location is not None and scope_covers_location(actor.scope, location))
        if not inside_area:
            raise Forbidden(f"{actor.scope} may not write records of {unit}", {"unit": ["outside your jurisdiction"]})
    if unit is None and location is not None and not scope_covers_location(actor.scope, location):
        raise Forbidden(f"{actor.scope} may not write records located in {location.get('province')}",
                        {"location": ["outside your jurisdiction"]})


def authorize_targets(actor, unit):
    """Targets are allocated downwards: the national office sets provinces' and societies';
    a provincial office may set those of the cities and counties inside its province."""
    if actor.role == "national_office":
        return
    kind, _ = parse_unit(unit)
    if actor.role == "provincial_office" and kind in ("city", "county") and scope_covers_unit(actor.scope, unit):
        return
    raise Forbidden(f"{actor.role} {actor.scope} may not set the targets of {unit}", {"unit": ["not yours to set"]})


def authorize_household_in_pairing(actor, location):
    """Provinces, cities and counties pair households inside their area; national societies
    (and the national office) pair households wherever their experts serve."""
    kind, _ = parse_unit(actor.scope)
    if kind in ("province", "city", "county") and not scope_covers_location(actor.scope, location):
        raise Forbidden(f"{actor.scope} may not pair households located in {location.get('province')}",
                        {"household_codes": ["outside your jurisdiction"]})


NATIONWIDE_READERS = ("national_office", "auditor", "inspector")


def authorize_read(actor, unit, location=None):
    """Personal records (names, contacts) are read inside one's jurisdiction; national bodies,
    auditors and inspectors read everything."""
    if actor.role in NATIONWIDE_READERS or actor.scope == "national":
        return
    if scope_covers_unit(actor.scope, unit):
        return
    kind, parts = parse_unit(actor.scope)
    if (kind in ("city", "county") and unit == f"province:{parts[0]}" and location is not None
            and scope_covers_location(actor.scope, location)):
        return
    raise Forbidden(f"{actor.scope} may not read records of {unit}", {"unit": ["outside your jurisdiction"]})
