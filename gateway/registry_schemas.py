"""Request schemas of the registry's paths (API.md "Registry" and "两数"). Every body and query is
loaded through one of these; an error names the field. Unknown fields are refused, so a typo is
not silently lost."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from gateway.fields import (
    PHONE,
    PHONE_ERROR,
    Count,
    CreditCodeField,
    IdNumberField,
    IsoDate,
    LocationSchema,
    Pattern,
    Position,
    QueryCount,
    Text,
    UnitField,
    WriteSchema,
    Year,
    distinct,
    not_in_future,
)
from services.registry.contract import METRIC_LIMITS, METRICS

HOUSEHOLD_PEOPLE = "people in one household"
BANK_ACCOUNT, BANK_ACCOUNT_ERROR = r"[0-9]{12,30}", "a bank account number: 12 to 30 digits"


class ExpertSchema(WriteSchema):
    name = Text(required=True, max=100)
    gender = fields.String(required=True, validate=validate.OneOf(["male", "female"]))
    id_number = IdNumberField(required=True)
    employer = Text(required=True)
    title = Text(required=True, max=100)
    specialty = Text(required=True, max=100)
    phone = Pattern(PHONE, PHONE_ERROR, required=True)
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    address = Text(load_default=None, max=300)
    unit = UnitField(kinds=("province", "society"), required=True)
    location = fields.Nested(LocationSchema, required=True)
    bank_account = Pattern(BANK_ACCOUNT, BANK_ACCOUNT_ERROR, load_default=None)
    political_status = Text(load_default=None, max=50)


class HouseholdSchema(WriteSchema):
    code = Pattern(
        r"[0-9A-Za-z\-]{4,40}", "a household code: 4 to 40 letters, digits or -", required=True
    )
    head_name = Text(required=True, max=100)
    head_id_number = IdNumberField(required=True)
    people = Count(50, min=1, what=HOUSEHOLD_PEOPLE, required=True)
    location = fields.Nested(LocationSchema, required=True)

    @validates("location")
    def down_to_county(self, value, **kwargs):
        if not value.get("city") or not value.get("county"):
            raise ValidationError("a household's location needs province, city and county")


class PairingSchema(WriteSchema):
    expert_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    household_codes = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=[validate.Length(min=1, max=500), distinct("a household code")],
    )
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
    specialty = Text(max=100)
    limit = QueryCount(500, min=1, load_default=50)
    cursor = Position()


class AssociationSchema(WriteSchema):
    name = Text(required=True, max=200)
    credit_code = CreditCodeField(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["association", "federation"]))
    level = fields.String(required=True, validate=validate.OneOf(["county", "township", "village"]))
    unit = UnitField(kinds=("province", "society"), required=True)
    location = fields.Nested(LocationSchema, required=True)
    supported_by = Text(required=True, max=200)


class RevocationSchema(WriteSchema):
    reason = Text(required=True, max=1000)


class ErasureSchema(Schema):
    """Why a person's personal data is erased (recorded in the log: name no one in it)."""

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
    phone = Pattern(PHONE, PHONE_ERROR)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    address = Text(max=300, allow_none=True)
    location = fields.Nested(LocationSchema)
    bank_account = Pattern(BANK_ACCOUNT, BANK_ACCOUNT_ERROR, allow_none=True)
    political_status = Text(max=50, allow_none=True)


class HouseholdChanges(ChangesSchema):
    head_name = Text(max=100)
    people = Count(50, min=1, what=HOUSEHOLD_PEOPLE)
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
    participants = Count(100_000, required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24, min_inclusive=False))


class LiftedOutSchema(WriteSchema):
    date = IsoDate(required=True, validate=not_in_future)
    people = Count(50, min=1, what=HOUSEHOLD_PEOPLE, required=True)


def _target(metric):
    return Count(METRIC_LIMITS[metric], what=metric + " nationwide at most")


class TargetsSchema(WriteSchema):
    year = Year(first=2015, required=True)
    federations = _target("federations")
    associations = _target("associations")
    experts = _target("experts")
    households_paired = _target("households_paired")
    people_in_paired_households = _target("people_in_paired_households")
    households_lifted = _target("households_lifted")
    people_lifted = _target("people_lifted")

    @validates_schema
    def some_target(self, data, **kwargs):
        if not any(data.get(m) is not None for m in METRICS):
            raise ValidationError("set at least one metric's target", "targets")


class ExplainQuery(TwoCountsQuery):
    metric = fields.String(required=True, validate=validate.OneOf(METRICS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(
        validate=validate.Regexp(r"\A[A-Za-z0-9_-]{1,2000}\Z", error="a next_cursor from a page")
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
