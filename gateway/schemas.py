"""Request schemas of the public API (API.md). Every body and query is loaded through one of
these; an error names the field. Unknown fields are refused, so a typo is not silently lost."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from kernel.auth import parse_unit

Text = lambda **kw: fields.String(validate=validate.Length(min=1, max=kw.pop("max", 200)), **kw)  # noqa: E731


class IsoDate(fields.Date):
    """A ``YYYY-MM-DD`` date that stays a string after loading (it travels as JSON)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


def not_in_future(value):
    if value > date.today().isoformat():
        raise ValidationError("must not be in the future")


def unit_of(*kinds):
    def check(value):
        try:
            kind, _ = parse_unit(value)
        except ValueError as bad:
            raise ValidationError(str(bad))
        if kind not in kinds:
            raise ValidationError(f"must be a unit of kind {' or '.join(kinds)}")
    return check


class LocationSchema(Schema):
    province = Text(required=True, max=50)
    city = Text(max=50)
    county = Text(max=50)
    township = Text(max=50)
    village = Text(max=50)


class WriteSchema(Schema):
    effective_date = IsoDate(load_default=lambda: date.today().isoformat(), validate=not_in_future)


class ExpertSchema(WriteSchema):
    name = Text(required=True, max=100)
    gender = fields.String(required=True, validate=validate.OneOf(["male", "female"]))
    id_number = fields.String(required=True, validate=validate.Length(equal=18))
    employer = Text(required=True)
    title = Text(required=True, max=100)
    specialty = Text(required=True, max=100)
    phone = fields.String(required=True, validate=validate.Regexp(r"^[0-9+\- ]{7,20}$"))
    email = fields.Email(load_default=None)
    address = Text(load_default=None, max=300)
    unit = fields.String(required=True, validate=unit_of("province", "society"))
    location = fields.Nested(LocationSchema, required=True)
    bank_account = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12,30}$"))
    political_status = Text(load_default=None, max=50)


class HouseholdSchema(WriteSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z\-]{4,40}$"))
    head_name = Text(required=True, max=100)
    head_id_number = fields.String(required=True, validate=validate.Length(equal=18))
    people = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=50))
    location = fields.Nested(LocationSchema, required=True)

    @validates("location")
    def down_to_county(self, value, **kwargs):
        if not value.get("city") or not value.get("county"):
            raise ValidationError("a household's location needs province, city and county")


class PairingSchema(WriteSchema):
    expert_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    household_codes = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                                  required=True, validate=validate.Length(min=1, max=500))
    village = Text(required=True, max=100)
    start = IsoDate(required=True)
    end = IsoDate(required=True)
    goals = Text(required=True, max=2000)
    tasks = Text(required=True, max=2000)
    mechanism = Text(required=True, max=2000)

    @validates("household_codes")
    def distinct(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ValidationError("a household code is listed twice")

    @validates_schema
    def span(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


class TwoCountsQuery(Schema):
    unit = fields.String(required=True, validate=unit_of("national", "province", "society", "city", "county"))
    as_of = IsoDate(load_default=lambda: date.today().isoformat())


class ExpertListQuery(Schema):
    unit = fields.String(validate=unit_of("province", "society"))
    specialty = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0))


