"""Request schemas of the supervision paths (API.md "Supervision"); errors name the field."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from gateway.fields import ProvinceField, UnitField
from gateway.schemas import IsoDate, Text, WriteSchema, distinct
from services.supervision.domain import PHASES
from services.supervision.queries import FILTERS

REPORTING_UNIT = ("province", "society")
ANY_UNIT = ("national", "province", "society", "city", "county")


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes", 1 or "false" are refused, not guessed at."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


def _flag():
    return StrictBoolean(required=True)


def _count():
    return fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class CampaignSchema(WriteSchema):
    name = Text(required=True)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2015, max=2035))
    cutoff = IsoDate(required=True)
    self_inspection_due = IsoDate(required=True)
    field_inspection_start = IsoDate(required=True)
    field_inspection_end = IsoDate(required=True)
    feedback_due = IsoDate(required=True)
    rectification_due = IsoDate(required=True)
    units = fields.List(UnitField(kinds=REPORTING_UNIT), required=True,
                        validate=[validate.Length(min=1, max=200), distinct("a unit")])

    @validates_schema
    def phases_in_order(self, data, **kwargs):
        for earlier, later in zip(PHASES, PHASES[1:]):
            if data.get(earlier) and data.get(later) and data[later] < data[earlier]:
                raise ValidationError(f"must not be before {earlier}", later)


class DeclaredSchema(Schema):
    leading_group = _flag()
    plan_issued = _flag()
    regular_meetings = _flag()
    tasks_and_targets_precise = _flag()
    pairing_assessment_publicity = _flag()
    fund_measures = _flag()


class FiguresSchema(Schema):
    federations = _count()
    associations = _count()
    experts = _count()
    households = _count()
    people = _count()
    project_funds_wan = fields.Float(required=True, validate=validate.Range(min=0, max=10_000_000))


class SelfInspectionSchema(WriteSchema):
    unit = UnitField(kinds=REPORTING_UNIT, required=True)
    declared = fields.Nested(DeclaredSchema, required=True)
    figures = fields.Nested(FiguresSchema, required=True)
    text = Text(required=True, max=50_000)


class StatisticsTableQuery(Schema):
    unit = UnitField(kinds=REPORTING_UNIT, required=True)


class GroupSchema(Schema):
    name = Text(required=True, max=100)
    inspectors = fields.List(Text(max=200), required=True, validate=validate.Length(min=1, max=50))
    provinces = fields.List(ProvinceField(), required=True, validate=validate.Length(min=1, max=34))


class FieldInspectionSchema(WriteSchema):
    groups = fields.List(fields.Nested(GroupSchema), required=True, validate=validate.Length(min=1, max=50))

    @validates("groups")
    def distinct_names(self, value, **kwargs):
        names = [group["name"] for group in value]
        if len(set(names)) != len(names):
            raise ValidationError("two groups have the same name")


class FindingSchema(WriteSchema):
    unit = UnitField(kinds=ANY_UNIT, required=True)
    description = Text(required=True, max=5000)
    severity = fields.String(required=True, validate=validate.OneOf(["minor", "major", "critical"]))
    requires_rectification = StrictBoolean(required=True)
    due = IsoDate(load_default=None)


class ProgressSchema(WriteSchema):
    note = Text(required=True, max=5000)


class SubmitSchema(WriteSchema):
    evidence = Text(required=True, max=20_000)
    evidence_hashes = fields.List(
        fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$", error="a SHA-256 hex digest (64 lower-case hex)")),
        load_default=list, validate=validate.Length(max=100))


class VerifySchema(WriteSchema):
    comment = Text(required=True, max=5000)


class ReopenSchema(WriteSchema):
    reason = Text(required=True, max=5000)


MOVE_SCHEMAS = {"progress": ProgressSchema, "submit": SubmitSchema, "verify": VerifySchema, "reopen": ReopenSchema}


class RectificationQuery(Schema):
    unit = UnitField(kinds=ANY_UNIT)
    campaign = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.OneOf(FILTERS))
    as_of = IsoDate(load_default=lambda: date.today().isoformat())
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0))


class RectificationSummaryQuery(Schema):
    unit = UnitField(kinds=ANY_UNIT)
    campaign = fields.String(validate=validate.Length(min=1, max=64))
    as_of = IsoDate(load_default=lambda: date.today().isoformat())


class Seed(fields.Field):
    """A seed is written as a number or a string; it is kept as a string."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
            raise ValidationError("a number or a non-empty string")
        if len(str(value)) > 100:
            raise ValidationError("at most 100 characters")
        return str(value)


class SpotCheckSchema(WriteSchema):
    seed = Seed(required=True)
    provinces = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=34))
    records_per_province = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    at_position = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0))


class CloseSchema(WriteSchema):
    pass
