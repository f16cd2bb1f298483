"""Request schemas of the public API (API.md). Every body and query is loaded through one of
these; an error names the field. Unknown fields are refused, so a typo is not silently lost."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from gateway.fields import IdNumberField, LocationSchema, UnitField

Text = lambda **kw: fields.String(validate=validate.Length(min=1, max=kw.pop("max", 200)), **kw)  # noqa: E731


class IsoDate(fields.Date):
    """A ``YYYY-MM-DD`` date that stays a string after loading (it travels as JSON)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


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


class ExpertSchema(WriteSchema):
    name = Text(required=True, max=100)
    gender = fields.String(required=True, validate=validate.OneOf(["male", "female"]))
    id_number = IdNumberField(required=True)
    employer = Text(required=True)
    title = Text(required=True, max=100)
    specialty = Text(required=True, max=100)
    phone = fields.String(required=True, validate=validate.Regexp(r"^[0-9+\- ]{7,20}$"))
    email = fields.Email(load_default=None)
    address = Text(load_default=None, max=300)
    unit = UnitField(kinds=("province", "society"), required=True)
    location = fields.Nested(LocationSchema, required=True)
    bank_account = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12,30}$"))
    political_status = Text(load_default=None, max=50)


class HouseholdSchema(WriteSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z\-]{4,40}$"))
    head_name = Text(required=True, max=100)
    head_id_number = IdNumberField(required=True)
    people = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=50))
    location = fields.Nested(LocationSchema, required=True)

    @validates("location")
    def down_to_county(self, value, **kwargs):
        if not value.get("city") or not value.get("county"):
            raise ValidationError("a household's location needs province, city and county")


class PairingSchema(WriteSchema):
    expert_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    household_codes = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                                  required=True,
                                  validate=[validate.Length(min=1, max=500), distinct("a household code")])
    village = Text(required=True, max=100)
    start = IsoDate(required=True)
    end = IsoDate(required=True)
    goals = Text(required=True, max=2000)
    tasks = Text(required=True, max=2000)
    mechanism = Text(required=True, max=2000)

    @validates_schema
    def span(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


class TwoCountsQuery(Schema):
    unit = UnitField(kinds=("national", "province", "society", "city", "county"), required=True)
    as_of = IsoDate(load_default=lambda: date.today().isoformat())


class ExpertListQuery(Schema):
    unit = UnitField(kinds=("province", "society"))
    specialty = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0))




class AssociationSchema(WriteSchema):
    name = Text(required=True, max=200)
    credit_code = fields.String(required=True, validate=validate.Length(equal=18))
    kind = fields.String(required=True, validate=validate.OneOf(["association", "federation"]))
    level = fields.String(required=True, validate=validate.OneOf(["county", "township", "village"]))
    unit = UnitField(kinds=("province", "society"), required=True)
    location = fields.Nested(LocationSchema, required=True)
    supported_by = Text(required=True, max=200)


class RevocationSchema(WriteSchema):
    reason = Text(required=True, max=1000)


class ChangesSchema(Schema):
    """The fields a correction changes; at least one. Nothing defaults: absent means unchanged."""

    @validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one field to change", "_schema")


class ExpertChanges(ChangesSchema):
    name = Text(max=100)
    gender = fields.String(validate=validate.OneOf(["male", "female"]))
    employer = Text()
    title = Text(max=100)
    specialty = Text(max=100)
    phone = fields.String(validate=validate.Regexp(r"^[0-9+\- ]{7,20}$"))
    email = fields.Email(allow_none=True)
    address = Text(max=300, allow_none=True)
    location = fields.Nested(LocationSchema)
    bank_account = fields.String(allow_none=True, validate=validate.Regexp(r"^[0-9]{12,30}$"))
    political_status = Text(max=50, allow_none=True)


class HouseholdChanges(ChangesSchema):
    head_name = Text(max=100)
    people = fields.Integer(strict=True, validate=validate.Range(min=1, max=50))
    location = fields.Nested(LocationSchema)


class AssociationChanges(ChangesSchema):
    name = Text(max=200)
    level = fields.String(validate=validate.OneOf(["county", "township", "village"]))
    location = fields.Nested(LocationSchema)
    supported_by = Text(max=200)


class ExpertCorrectionSchema(RevocationSchema):
    changes = fields.Nested(ExpertChanges, required=True)


class HouseholdCorrectionSchema(RevocationSchema):
    changes = fields.Nested(HouseholdChanges, required=True)


class AssociationCorrectionSchema(RevocationSchema):
    changes = fields.Nested(AssociationChanges, required=True)


class ServiceLogSchema(WriteSchema):
    expert_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    date = IsoDate(required=True, validate=not_in_future)
    place = Text(required=True, max=200)
    form = Text(required=True, max=100)
    content = Text(required=True, max=2000)
    participants = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100000))
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24, min_inclusive=False))


class LiftedOutSchema(WriteSchema):
    date = IsoDate(required=True, validate=not_in_future)
    people = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=50))


METRIC_NAMES = ("federations", "associations", "experts", "households_paired",
                "people_in_paired_households", "households_lifted", "people_lifted")


def _target():
    return fields.Integer(strict=True, validate=validate.Range(min=0))


class TargetsSchema(WriteSchema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2015, max=2035))
    federations = _target()
    associations = _target()
    experts = _target()
    households_paired = _target()
    people_in_paired_households = _target()
    households_lifted = _target()
    people_lifted = _target()

    @validates_schema
    def some_target(self, data, **kwargs):
        if not any(data.get(m) is not None for m in METRIC_NAMES):
            raise ValidationError("set at least one metric's target", "targets")


class ExplainQuery(TwoCountsQuery):
    metric = fields.String(required=True, validate=validate.OneOf(METRIC_NAMES))
