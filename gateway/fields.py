"""marshmallow field types over the kernel's value objects: one rule per value, shared by every
schema and by the CSV import (which loads its rows through HouseholdSchema).

A loaded value is the canonical JSON form the services record: a unit's string
(``province:山东``), a location's five-key dict, an ID number's 18 characters."""
from marshmallow import Schema, ValidationError, fields, post_load, validate

from kernel.identity import IdNumberError, canonical_id_number
from kernel.places import KINDS, Place, PlaceError, Unit

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


class IdNumberField(fields.String):
    """A resident ID number (kernel.identity): normalised, checked, a 15-digit one upgraded."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 64:
            raise ValidationError("at most 64 characters")
        try:
            return canonical_id_number(text)
        except IdNumberError as bad:
            raise ValidationError(f"not a valid resident ID number: {bad}") from None
