"""What one entity contributes to the 两数: pure functions of its state, shared by the
aggregates (figures) and the explain view (records), so a figure and its records cannot disagree.

An entity is an association (by credit code), a person (by ID-number hash, with all their
registrations) or a household (by register code, with its pairings). Its contribution is a list
of *membership rows* ``(key, group, entity, start, end, people)``: the entity is a record of
``group`` (federations, associations, experts, households_paired, households_lifted) for the unit
``key`` from ``start`` (inclusive) to ``end`` (exclusive; None: still), carrying ``people`` for
the people metrics. A row's count (or people) enters the figure at ``start`` and leaves at
``end``, so the aggregates are dated deltas derived from the rows.

Counting rules (DOMAIN.md): a record counts from its registration's effective date until its
revocation's; corrections (people, location) count from their effective dates; a person once
however often registered; a household once per unit and once nationally; a pairing counts from
its effective date while its expert's registration is in force; a lift counts for the units the
household was paired for on the day it was lifted (``household_rows``). Credit: a province or
society by the record's unit (a household by its pairings' units); a city or county is its
province's figures narrowed to records located there; ``national`` is everything.
"""

from kernel.errors import ValidationFailed
from kernel.places import PlaceError, Unit

NATIONAL = "national"
GROUPS = ("federations", "associations", "experts", "households_paired", "households_lifted")
# metric → (group of records behind it, what each record adds: 1 or its people)
METRIC_SOURCE = {
    "federations": ("federations", None),
    "associations": ("associations", None),
    "experts": ("experts", None),
    "households_paired": ("households_paired", None),
    "people_in_paired_households": ("households_paired", "people"),
    "households_lifted": ("households_lifted", None),
    "people_lifted": ("households_lifted", "people"),
}


def unit_key(unit):
    """The canonical key of a unit as the views store it (``city:山东/临沂``); a malformed or
    unknown unit is refused naming the field."""
    try:
        return str(Unit.parse(unit))
    except PlaceError as bad:
        raise ValidationFailed(str(bad), bad.details or {"unit": [str(bad)]}) from None


def unit_keys(unit, place):
    """Every unit key a record credited to ``unit`` and located at ``place`` counts for: the
    nation, the unit, and — for a province — the city and county it lies in, if it lies in that
    province at all."""
    keys = [NATIONAL, unit]
    if unit.startswith("province:"):
        province = unit.partition(":")[2]
        place = place or {}
        if place.get("province") == province and place.get("city"):
            keys.append(f"city:{province}/{place['city']}")
            if place.get("county"):
                keys.append(f"county:{province}/{place['city']}/{place['county']}")
    return keys


def as_of(timeline, day):
    """The value of a timeline ``[[effective, position, value], ...]`` on ``day``: the latest
    entry (by effective date, then log position) effective by then; None before the first."""
    best = None
    for entry in timeline:
        if entry[0] <= day and (best is None or (entry[0], entry[1]) > (best[0], best[1])):
            best = entry
    return best[2] if best else None


def in_force(record, day):
    return record["registered_on"] <= day and (
        record["revoked_on"] is None or day < record["revoked_on"]
    )


def _rows(entity, days, value_on):
    """Runs of equal values of ``value_on(day) -> {(key, group): people}``, which may change only
    on ``days``, as membership rows."""
    rows, open_runs = [], {}
    for day in sorted({d for d in days if d}):
        now = value_on(day)
        for slot, (start, value) in list(open_runs.items()):
            if slot not in now or now[slot] != value:
                rows.append((slot[0], slot[1], entity, start, day, value))
                del open_runs[slot]
        for slot, value in now.items():
            if slot not in open_runs:
                open_runs[slot] = (day, value)
    rows += [
        (key, group, entity, start, None, value)
        for (key, group), (start, value) in open_runs.items()
    ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[3]))


def association_rows(doc):
    """An association or federation: one record of its kind's group."""
    group = "federations" if doc["kind"] == "federation" else "associations"
    locations = doc["history"]["locations"]

    def value_on(day):
        if not in_force(doc, day):
            return {}
        return {(key, group): None for key in unit_keys(doc["unit"], as_of(locations, day))}

    days = [doc["registered_on"], doc["revoked_on"], *(entry[0] for entry in locations)]
    return _rows(doc["_id"], days, value_on)


def expert_keys(doc, day):
    """The unit keys one registration counts for on ``day`` (none when not in force)."""
    if not in_force(doc, day):
        return []
    return unit_keys(doc["unit"], as_of(doc["history"]["locations"], day))


def person_rows(id_hash, registrations):
    """A person: one expert record per unit key while any of their registrations counts there."""

    def value_on(day):
        return {(key, "experts"): None for doc in registrations for key in expert_keys(doc, day)}

    days = [
        d
        for doc in registrations
        for d in (
            doc["registered_on"],
            doc["revoked_on"],
            *(e[0] for e in doc["history"]["locations"]),
        )
    ]
    return _rows(id_hash, days, value_on)


def active_pairings(doc, day):
    """The household's pairings that count on ``day``: effective by then, expert in force."""
    return [
        p
        for p in doc["history"]["pairings"]
        if p["since"] <= day and (p["expert_revoked_on"] is None or day < p["expert_revoked_on"])
    ]


def household_keys(doc, day):
    """The unit keys a household counts as paired for on ``day``: its pairings' units, narrowed
    by where it lies then."""
    if not in_force(doc, day):
        return []
    place = as_of(doc["history"]["locations"], day)
    keys = []
    for pairing in active_pairings(doc, day):
        keys += [k for k in unit_keys(pairing["unit"], place) if k not in keys]
    return keys


def household_rows(doc):
    """A household: a paired record (with its people then) per unit key it is paired for, and a
    lifted record (with the people lifted) per unit key it was paired for on the day it was
    lifted out, from that day on while the household's record is in force.

    A lift is the paired help's result (DOMAIN.md: 带动脱贫人数), so it is credited to the pairings
    in force that day, in the place it lay then: not to a unit that paired the household after
    it left poverty (help goes on after a lift), and not taken back when an expert's
    registration ends later (a revocation dated before the lift does take it back)."""
    history = doc["history"]
    if not history["pairings"]:
        return []  # never paired: counted nowhere (most of a register)
    lifted = doc.get("lifted_on")
    lifted_keys = household_keys(doc, lifted) if lifted else []

    def value_on(day):
        keys = household_keys(doc, day)
        people = as_of(history["people"], day)
        value = {(key, "households_paired"): people for key in keys}
        if lifted and lifted <= day and in_force(doc, day):
            value.update({(key, "households_lifted"): doc["lifted_people"] for key in lifted_keys})
        return value

    days = [
        doc["registered_on"],
        doc["revoked_on"],
        lifted,
        *(e[0] for e in history["people"]),
        *(e[0] for e in history["locations"]),
        *(d for p in history["pairings"] for d in (p["since"], p["expert_revoked_on"])),
    ]
    return _rows(doc["_id"], days, value_on)


def deltas(rows, sign=1):
    """``{(key, metric, day): change}`` of the figures these rows make up."""
    changes = {}
    for key, group, _, start, end, people in rows:
        for metric, (source, weight) in METRIC_SOURCE.items():
            if source != group:
                continue
            amount = sign * (people if weight else 1)
            for day, change in ((start, amount), (end, -amount)):
                if day is not None:
                    slot = (key, metric, day)
                    changes[slot] = changes.get(slot, 0) + change
    return changes
