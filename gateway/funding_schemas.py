"""Request schemas of the funding paths (API.md "Funding"). Unknown fields are refused; every
error names its field. Whether a configuration hangs together (levels, quotas inside the unit)
is checked again by the service, so RPC callers get the same answers."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.fields import UnitField
from gateway.schemas import IsoDate, Text, WriteSchema, distinct

Year = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=2010, max=2035), **kw)  # noqa: E731
Fen = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=1, max=10**12), **kw)  # noqa: E731
KIND = validate.OneOf(["training", "industry", "popularisation"])
LEVEL = validate.Regexp(r"^[a-z][a-z0-9_]{0,49}$", error="a level code: lower-case letters, digits, _")


class ProjectKindSchema(Schema):
    code = fields.String(required=True, validate=KIND)
    applicants = fields.List(fields.String(validate=validate.OneOf(["individual", "unit"])), required=True,
                             validate=validate.Length(min=1, max=2))


class ProgrammeSchema(WriteSchema):
    name = Text(required=True, max=200)
    year = Year(required=True)
    until_year = Year(load_default=None)
    unit = UnitField(kinds=("national", "province"), load_default=None)
    project_kinds = fields.List(fields.Nested(ProjectKindSchema), required=True, validate=validate.Length(min=1, max=3))
    approval_levels = fields.List(fields.String(validate=LEVEL), required=True, validate=validate.Length(min=1, max=10))
    level_scopes = fields.Dict(keys=fields.String(validate=LEVEL),
                               values=fields.String(validate=validate.OneOf(["county", "city", "province", "national"])),
                               load_default=dict)
    subsidy_fen_per_project_year = Fen(required=True, allow_none=True)
    subsidise_units = fields.Boolean(required=True)
    subsidise_fully_budget_funded = fields.Boolean(required=True)
    quotas = fields.Dict(keys=UnitField(kinds=("province", "city", "county")),
                         values=fields.Integer(strict=True, validate=validate.Range(min=0, max=100000)),
                         load_default=dict)
    notice_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=90))

    @validates_schema
    def span(self, data, **kwargs):
        if data.get("until_year") is not None and data.get("year") and data["until_year"] < data["year"]:
            raise ValidationError("must not be before year", "until_year")


class ApplicantSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["individual", "unit"]))
    expert_id = fields.String(validate=validate.Length(min=1, max=64))
    unit_name = Text(max=200)
    fully_budget_funded = fields.Boolean(load_default=False)

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
    villages = fields.List(Text(max=100), required=True, validate=[validate.Length(min=1, max=100), distinct("a village")])
    content = Text(required=True, max=4000)
    year = Year(required=True)
    until_year = Year(load_default=None)
    amount_fen = Fen(load_default=None)

    @validates_schema
    def span(self, data, **kwargs):
        if data.get("until_year") is not None and data.get("year") and data["until_year"] < data["year"]:
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
    account = fields.String(required=True, validate=validate.Regexp(r"^[0-9 ]{12,40}$",
                                                                    error="a bank account number: 12 to 30 digits"))


class SummaryQuery(Schema):
    unit = UnitField(kinds=("national", "province", "society", "city", "county"), required=True)
    year = fields.Integer(load_default=None, validate=validate.Range(min=2010, max=2035))
    as_of = IsoDate(load_default=None)
