"""Request schemas of the funding paths (API.md "Funding"). Unknown fields are refused; every
error names its field. Whether a configuration hangs together (levels, quotas inside the unit)
is checked again by the service, so RPC callers get the same answers."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.fields import (
    Count,
    IsoDate,
    Pattern,
    QueryCount,
    StrictBoolean,
    Text,
    UnitField,
    Whole,
    WriteSchema,
    Year,
    distinct,
)
from services.funding.contract import APPLICANTS, LEVEL_KINDS, PROJECT_KINDS


def Fen(**kw):  # noqa: N802
    return Count(10**12, min=1, what="an amount in fen (分): up to 100 亿元", **kw)


KIND = validate.OneOf(PROJECT_KINDS)
LEVEL = Whole(r"[a-z][a-z0-9_]{0,49}", "a level code: lower-case letters, digits, _")


class ProjectKindSchema(Schema):
    code = fields.String(required=True, validate=KIND)
    applicants = fields.List(
        fields.String(validate=validate.OneOf(APPLICANTS)),
        required=True,
        validate=validate.Length(min=1, max=2),
    )


class ProgrammeSchema(WriteSchema):
    name = Text(required=True, max=200)
    year = Year(required=True)
    until_year = Year(load_default=None)
    unit = UnitField(kinds=("national", "province"), load_default=None)
    project_kinds = fields.List(
        fields.Nested(ProjectKindSchema), required=True, validate=validate.Length(min=1, max=3)
    )
    approval_levels = fields.List(
        fields.String(validate=LEVEL), required=True, validate=validate.Length(min=1, max=10)
    )
    level_scopes = fields.Dict(
        keys=fields.String(validate=LEVEL),
        values=fields.String(validate=validate.OneOf(LEVEL_KINDS)),
        load_default=dict,
        validate=validate.Length(max=10),
    )
    subsidy_fen_per_project_year = Fen(required=True, allow_none=True)
    subsidise_units = StrictBoolean(required=True)
    subsidise_fully_budget_funded = StrictBoolean(required=True)
    quotas = fields.Dict(
        keys=UnitField(kinds=("province", "city", "county")),
        values=Count(100_000, what="projects of one unit"),
        load_default=dict,
        validate=validate.Length(max=3000),
    )  # China has ~2,850 counties
    notice_days = Count(90, min=1, what="days of public notice", required=True)

    @validates_schema
    def span(self, data, **kwargs):
        if (
            data.get("until_year") is not None
            and data.get("year")
            and data["until_year"] < data["year"]
        ):
            raise ValidationError("must not be before year", "until_year")


class ApplicantSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(APPLICANTS))
    expert_id = fields.String(validate=validate.Length(min=1, max=64))
    unit_name = Text(max=200)
    fully_budget_funded = StrictBoolean(load_default=False)

    @validates_schema
    def who(self, data, **kwargs):
        if data.get("type") == "individual":
            if not data.get("expert_id"):
                raise ValidationError("an individual applicant names the expert", "expert_id")
            for field in ("unit_name", "fully_budget_funded"):
                if data.get(field):
                    raise ValidationError("only for a unit applicant", field)
        if data.get("type") == "unit":
            if not data.get("unit_name"):
                raise ValidationError("a unit applicant names the unit", "unit_name")
            if data.get("expert_id"):
                raise ValidationError("only for an individual applicant", "expert_id")


class ProjectSchema(WriteSchema):
    programme_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    applicant = fields.Nested(ApplicantSchema, required=True)
    kind = fields.String(required=True, validate=KIND)
    region = UnitField(kinds=("province", "city", "county"), required=True)
    unit = UnitField(kinds=("province", "society"), load_default=None)
    villages = fields.List(
        Text(max=100),
        required=True,
        validate=[validate.Length(min=1, max=100), distinct("a village")],
    )
    content = Text(required=True, max=4000)
    year = Year(required=True)
    until_year = Year(load_default=None)
    amount_fen = Fen(load_default=None)

    @validates_schema
    def span(self, data, **kwargs):
        if (
            data.get("until_year") is not None
            and data.get("year")
            and data["until_year"] < data["year"]
        ):
            raise ValidationError("must not be before year", "until_year")


class ReviewSchema(WriteSchema):
    level = fields.String(required=True, validate=LEVEL)
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    comment = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def reasoned_rejection(self, data, **kwargs):
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            raise ValidationError("a rejection gives its reason", "comment")


class StepSchema(WriteSchema):
    """Publicize or confirm: only the effective date."""


class DisbursementSchema(WriteSchema):
    project_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    year = Year(required=True)
    amount_fen = Fen(required=True)
    account = Pattern(r"[0-9 ]{12,40}", "a bank account number: 12 to 30 digits", required=True)


class SummaryQuery(Schema):
    unit = UnitField(kinds=("national", "province", "society", "city", "county"), required=True)
    year = QueryCount(2035, min=2010, what="a year of the programme", load_default=None)
    as_of = IsoDate(load_default=None)
