"""Request schemas of the supervision paths (API.md "Supervision"); errors name the field."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.fields import (
    MAX_BODIES,
    MAX_HOUSEHOLDS,
    MAX_PEOPLE,
    MAX_POSITION,
    YEARS,
    Amount,
    Count,
    IsoDate,
    Pattern,
    Position,
    ProvinceField,
    QueryCount,
    StrictBoolean,
    Text,
    UnitField,
    WriteSchema,
    Year,
    distinct,
)
from services.supervision.domain import FUNDS_WAN_MAX, PHASES
from services.supervision.queries import FILTERS

REPORTING_UNIT = ("province", "society")
ANY_UNIT = ("national", "province", "society", "city", "county")


def _flag():
    return StrictBoolean(required=True)


def _figure(max, what):
    return Count(max, what=what + " nationwide at most", required=True)


class CampaignSchema(WriteSchema):
    name = Text(required=True)
    year = Year(first=2015, required=True)
    cutoff = IsoDate(required=True)
    self_inspection_due = IsoDate(required=True)
    field_inspection_start = IsoDate(required=True)
    field_inspection_end = IsoDate(required=True)
    feedback_due = IsoDate(required=True)
    rectification_due = IsoDate(required=True)
    units = fields.List(
        UnitField(kinds=REPORTING_UNIT),
        required=True,
        validate=[validate.Length(min=1, max=200), distinct("a unit")],
    )

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
    federations = _figure(MAX_BODIES, "federations")
    associations = _figure(MAX_BODIES, "associations")
    experts = _figure(MAX_BODIES, "experts")
    households = _figure(MAX_HOUSEHOLDS, "registered households")
    people = _figure(MAX_PEOPLE, "people in registered households")
    project_funds_wan = Amount(FUNDS_WAN_MAX, what="万元, i.e. 1,000 亿元", required=True)


class SelfInspectionSchema(WriteSchema):
    unit = UnitField(kinds=REPORTING_UNIT, required=True)
    declared = fields.Nested(DeclaredSchema, required=True)
    figures = fields.Nested(FiguresSchema, required=True)
    text = Text(required=True, max=50_000)


class CampaignListQuery(Schema):
    year = QueryCount(YEARS[1], min=YEARS[0], what="a year of the programme", load_default=None)
    limit = QueryCount(100, min=1, load_default=100)
    cursor = Position()


class StatisticsTableQuery(Schema):
    unit = UnitField(kinds=REPORTING_UNIT, required=True)


class GroupSchema(Schema):
    name = Text(required=True, max=100)
    inspectors = fields.List(Text(max=200), required=True, validate=validate.Length(min=1, max=50))
    provinces = fields.List(ProvinceField(), required=True, validate=validate.Length(min=1, max=34))


class FieldInspectionSchema(WriteSchema):
    groups = fields.List(
        fields.Nested(GroupSchema), required=True, validate=validate.Length(min=1, max=50)
    )

    @validates_schema  # not @validates: that runs on the groups that loaded even if one lacks its name
    def distinct_names(self, data, **kwargs):
        names = [group["name"] for group in data.get("groups", [])]
        if len(set(names)) != len(names):
            raise ValidationError("two groups have the same name", "groups")


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
        Pattern(r"[0-9a-f]{64}", "a SHA-256 hex digest (64 lower-case hex)"),
        load_default=list,
        validate=validate.Length(max=100),
    )


class VerifySchema(WriteSchema):
    comment = Text(required=True, max=5000)


class ReopenSchema(WriteSchema):
    reason = Text(required=True, max=5000)


class RectificationQuery(Schema):
    unit = UnitField(kinds=ANY_UNIT)
    campaign = fields.String(validate=validate.Length(min=1, max=64))
    status = fields.String(validate=validate.OneOf(FILTERS))
    as_of = IsoDate(load_default=lambda: date.today().isoformat())
    limit = QueryCount(500, min=1, load_default=100)
    cursor = Position()


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
    provinces = Count(34, min=1, what="China's provincial-level divisions", required=True)
    records_per_province = Count(1000, min=1, required=True)
    at_position = Count(MAX_POSITION, what="a log position", load_default=None)


class CloseSchema(WriteSchema):
    pass
