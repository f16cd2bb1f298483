"""marshmallow field types every request schema shares, so that each input rule lives in one place
(also for the CSV import, which loads its rows through HouseholdSchema):

- over the kernel's value objects: a loaded value is the canonical JSON form the services record:
  a unit's string (``province:山东``), a location's five-key dict, an ID number's 18 characters;
- patterns matched against the whole value, text of bounded length, and numbers bounded by what the
  domain allows (an unbounded integer, e.g. 2^63, is recorded and then breaks every reader of the log);
- ISO dates within the programme's years, distinct lists, and ``WriteSchema``, the base of every
  write's body (its ``effective_date``, today by default and never in the future)."""

import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate

from kernel.identity import canonical_credit_code, canonical_id_number
from kernel.places import KINDS, Place, PlaceError, Unit
from services.registry.contract import MAX_BODIES, MAX_HOUSEHOLDS, MAX_PEOPLE  # noqa: F401 - not copied

# What the programme can hold, the bounds of figures, targets and counts (DOMAIN.md, issue 13):
# about 29.5 million registered poor households nationwide, about 90 million people in them.
MAX_POSITION = (
    2**53 - 1
)  # a log position or cursor: exact in every JSON reader and in SQLite/PostgreSQL
YEARS = (
    2010,
    2035,
)  # the programme's years: 2015-2020 and its consolidation period, funding from 2010


class Whole(validate.Validator):
    """The whole value matches ``pattern``. marshmallow's Regexp uses ``re.match``, whose ``$``
    also matches before a final newline: "X\\n" passed as household code "X"."""

    def __init__(self, pattern, error):
        # Anchored too, so that the OpenAPI document (apispec reads ``regex``) says "whole value".
        self.regex, self.error = re.compile(f"^(?:{pattern})$"), error

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self.error)
        return value


def Pattern(pattern, error, **kwargs):  # noqa: N802 - a field factory, named like the fields it makes
    return fields.String(validate=Whole(pattern, error), **kwargs)


def Text(max=200, **kwargs):  # noqa: N802
    """Free text of 1 to ``max`` characters."""
    return fields.String(validate=validate.Length(min=1, max=max), **kwargs)


def Count(max, min=0, what="", **kwargs):  # noqa: N802
    """A whole number from ``min`` to ``max``; ``what`` says where the bound comes from."""
    error = f"a whole number from {min} to {max:,}" + (f" ({what})" if what else "")
    return fields.Integer(
        strict=True, validate=validate.Range(min=min, max=max, error=error), **kwargs
    )


def QueryCount(max, min=0, what="", **kwargs):  # noqa: N802
    """``Count`` for a query parameter, which arrives as text."""
    error = f"a whole number from {min} to {max:,}" + (f" ({what})" if what else "")
    return fields.Integer(validate=validate.Range(min=min, max=max, error=error), **kwargs)


def Year(first=YEARS[0], **kwargs):  # noqa: N802
    return Count(YEARS[1], min=first, what="a year of the programme", **kwargs)


def Position(**kwargs):  # noqa: N802
    """A log position or list cursor given in a query."""
    return QueryCount(MAX_POSITION, what="a log position", load_default=0, **kwargs)


def Amount(max, what="", **kwargs):  # noqa: N802
    """A non-negative decimal number up to ``max`` (NaN and infinity are refused by marshmallow)."""
    error = f"a number from 0 to {max:,}" + (f" ({what})" if what else "")
    return fields.Float(validate=validate.Range(min=0, max=max, error=error), **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes", 1 or "false" are refused, not guessed at."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


PHONE = r"[0-9+\- ]{7,20}"
PHONE_ERROR = "a phone number: 7 to 20 digits, +, - or spaces"


_NAME = dict(validate=validate.Length(min=1, max=50))


class UnitField(fields.String):
    """A unit (``province:山东省`` loads as ``province:山东``) of one of ``kinds``."""

    def __init__(self, kinds=KINDS, **kwargs):
        self.kinds = tuple(kinds)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 200:
            raise ValidationError("at most 200 characters")
        try:
            unit = Unit.parse(text)
        except PlaceError as bad:
            raise ValidationError(bad.details.get("unit") or str(bad)) from None
        if unit.kind not in self.kinds:
            raise ValidationError(f"must be a unit of kind {' or '.join(self.kinds)}")
        return str(unit)


class ProvinceField(fields.String):
    """A province's name, loaded canonical (山東省 → 山东)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 50:
            raise ValidationError("at most 50 characters")
        try:
            return Place.parse({"province": text}).province
        except PlaceError as bad:
            raise ValidationError(bad.details.get("province") or str(bad)) from None


class LocationSchema(Schema):
    """A location (API.md): province, city, county checked against GB/T 2260 and loaded canonical;
    township and village free text, normalised. An error names the part, e.g. ``location.city``."""

    province = fields.String(required=True, **_NAME)
    city = fields.String(**_NAME)
    county = fields.String(**_NAME)
    township = fields.String(**_NAME)
    village = fields.String(**_NAME)

    @post_load
    def canonical(self, data, **kwargs):
        try:
            return Place.parse(data).to_dict()
        except PlaceError as bad:
            raise ValidationError(bad.details) from None


class _Identifier(fields.String):
    """An identifying number checked by its rule in kernel.identity (``canonical``, which raises
    a ValueError saying which part is wrong) and loaded in its canonical form."""

    what = ""

    @staticmethod
    def canonical(text):
        raise NotImplementedError

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 64:
            raise ValidationError("at most 64 characters")
        try:
            return self.canonical(text)
        except ValueError as bad:
            raise ValidationError(f"not a valid {self.what}: {bad}") from None


class IdNumberField(_Identifier):
    """A resident ID number: normalised, checked, a 15-digit one upgraded."""

    what, canonical = "resident ID number", staticmethod(canonical_id_number)


class CreditCodeField(_Identifier):
    """A unified social credit code: normalised and checked."""

    what, canonical = "unified social credit code", staticmethod(canonical_credit_code)


DATES = (date(2000, 1, 1), date(2100, 12, 31))


class IsoDate(fields.Date):
    """A ``YYYY-MM-DD`` date that stays a string after loading (it travels as JSON), within the
    years a record of the programme can carry: date arithmetic on 9999-12-31 overflows."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not DATES[0] <= day <= DATES[1]:
            raise ValidationError(f"a date from {DATES[0]} to {DATES[1]}")
        return day.isoformat()


def not_in_future(value):
    if value > date.today().isoformat():
        raise ValidationError("must not be in the future")


def distinct(what):
    """A list validator: ``what`` (e.g. "a village") may not be listed twice."""

    def check(values):
        if len(set(values)) != len(values):
            raise ValidationError(f"{what} is listed twice")

    return check


class WriteSchema(Schema):
    effective_date = IsoDate(load_default=lambda: date.today().isoformat(), validate=not_in_future)
