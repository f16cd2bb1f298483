"""Request schemas of the awards paths (API.md "Awards"); errors name the field."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gateway.fields import (
    MAX_PEOPLE,
    PHONE,
    PHONE_ERROR,
    Amount,
    Count,
    IdNumberField,
    IsoDate,
    LocationSchema,
    Pattern,
    ProvinceField,
    QueryCount,
    StrictBoolean,
    Text,
    UnitField,
    WriteSchema,
    distinct,
)
from services.awards.domain import CATEGORIES, UNIT_CLASSES

NOMINATING_UNIT = ("province", "society")
YEAR = validate.Range(min=2015, max=2035, error="a year of the programme, 2015 to 2035")


def _count(max, what="", **kw):
    return Count(max, what=what, **kw)


class LimitSchema(Schema):
    min = _count(1000, required=True)
    max = _count(1000, required=True)

    @validates_schema
    def ordered(self, data, **kwargs):
        if (
            data.get("min") is not None
            and data.get("max") is not None
            and data["min"] > data["max"]
        ):
            raise ValidationError("must not exceed max", "min")


def _limits():
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(CATEGORIES)),
        values=fields.Nested(LimitSchema),
        required=True,
    )


class EligibilitySchema(Schema):
    min_hours = Amount(8784, what="hours in a year")
    min_days = _count(366, "days in a year")


class RoundSchema(WriteSchema):
    year = fields.Integer(required=True, strict=True, validate=YEAR)
    name = Text(max=200)
    categories = fields.List(
        fields.String(validate=validate.OneOf(CATEGORIES)),
        required=True,
        validate=[validate.Length(min=1, max=3), distinct("a category")],
    )
    national_totals = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CATEGORIES)),
        values=_count(10_000),
        required=True,
    )
    key_provinces = fields.List(
        ProvinceField(), load_default=list, validate=validate.Length(max=34)
    )
    quotas = fields.Dict(
        keys=fields.String(validate=validate.OneOf(UNIT_CLASSES)),
        values=fields.Dict(
            keys=fields.String(validate=validate.OneOf(CATEGORIES)),
            values=fields.Nested(LimitSchema),
        ),
        required=True,
    )
    notice_days = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(
            min=7, max=90, error="public notice lasts at least one week (7 to 90 days)"
        ),
    )
    deadline = IsoDate(required=True)
    prior_commendation_since = fields.Integer(
        required=True, strict=True, allow_none=True, validate=YEAR
    )
    eligibility = fields.Nested(EligibilitySchema, load_default=None)

    @validates_schema
    def totals_per_category(self, data, **kwargs):
        if (
            "categories" in data
            and "national_totals" in data
            and set(data["national_totals"]) != set(data["categories"])
        ):
            raise ValidationError("one total per category of the round", "national_totals")


class LeaderSchema(Schema):
    name = Text(required=True, max=100)
    contact = Pattern(PHONE, PHONE_ERROR, required=True)
    title = Text(required=True, max=100)


DEEDS_LIMITS = {"team": 2000, "individual": 1000, "organising_unit": 2000}
SERVICE_CATEGORIES = ("planting", "breeding", "other")
SERVICE_MODES = ("training", "extension", "employment", "other")


class NominationSchema(WriteSchema):
    """One schema for the three forms; which fields are required depends on ``category``."""

    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    unit = UnitField(kinds=NOMINATING_UNIT)
    # team (附件1)
    team_name = Text(max=200)
    field = Text(max=200)
    expert_count = _count(10_000, min=1)
    leader = fields.Nested(LeaderSchema)
    experts = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)), validate=validate.Length(max=500)
    )
    # individual (附件2)
    expert_id = fields.String(validate=validate.Length(min=1, max=64))
    id_number = IdNumberField()
    political_status = Text(max=50)
    justification = Text(max=2000)
    # both
    area = fields.Nested(LocationSchema)
    service_category = fields.String(validate=validate.OneOf(SERVICE_CATEGORIES))
    service_mode = fields.String(validate=validate.OneOf(SERVICE_MODES))
    people_lifted = _count(MAX_PEOPLE, "people in registered households nationwide at most")
    service_days = _count(100_000)
    deeds = Text(max=max(DEEDS_LIMITS.values()))
    honours = fields.String(
        validate=validate.Length(max=2000)
    )  # none yet is normal (issue 13 item 10)
    # organising unit
    summary = Text(max=5000)

    REQUIRED = {
        "team": (
            "team_name",
            "field",
            "expert_count",
            "leader",
            "area",
            "service_category",
            "service_mode",
            "experts",
            "people_lifted",
            "service_days",
            "deeds",
        ),
        "individual": (
            "expert_id",
            "area",
            "service_category",
            "service_mode",
            "people_lifted",
            "service_days",
            "deeds",
        ),
        "organising_unit": ("summary",),
    }

    @validates_schema
    def form_of_category(self, data, **kwargs):
        category = data.get("category")
        if category not in self.REQUIRED:
            return
        errors = {
            name: ["required for a nomination of category " + category]
            for name in self.REQUIRED[category]
            if data.get(name) is None
        }
        allowed = set(self.REQUIRED[category]) | {
            "category",
            "unit",
            "effective_date",
            "honours",
            "deeds",
        }
        allowed |= {"individual": {"id_number", "political_status", "justification"}}.get(
            category, set()
        )
        errors.update(
            {name: [f"not a field of the {category} form"] for name in data if name not in allowed}
        )
        deeds = data.get("deeds")
        if deeds is not None and len(deeds) > DEEDS_LIMITS[category]:
            errors["deeds"] = [f"at most {DEEDS_LIMITS[category]} characters for a {category}"]
        if (
            category == "team"
            and data.get("experts") is not None
            and len(set(data["experts"])) != len(data["experts"])
        ):
            errors["experts"] = ["an expert is listed twice"]
        if errors:
            raise ValidationError(errors)


class EndorsementSchema(WriteSchema):
    expert_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    justification = Text(required=True, max=2000)


class PublicizeSchema(WriteSchema):
    pass


class ObjectionSchema(WriteSchema):
    reason = Text(required=True, max=5000)


class ResolveSchema(WriteSchema):
    upheld = StrictBoolean(required=True)
    comment = Text(required=True, max=5000)


class CommendSchema(WriteSchema):
    nomination_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=None,
        validate=validate.Length(max=1000),
    )


class RevokeSchema(WriteSchema):
    reason = Text(required=True, max=5000)


class CommendationSchema(WriteSchema):
    year = fields.Integer(required=True, strict=True, validate=YEAR)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    unit = UnitField(kinds=NOMINATING_UNIT, required=True)
    expert_id = fields.String(validate=validate.Length(min=1, max=64))
    team_name = Text(max=200)
    name = Text(max=200)

    @validates_schema
    def nominee(self, data, **kwargs):
        category = data.get("category")
        if category == "individual" and not data.get("expert_id"):
            raise ValidationError("required for an individual", "expert_id")
        if category == "team" and not data.get("team_name"):
            raise ValidationError("required for a team", "team_name")
        if (
            data.get("year")
            and data.get("effective_date")
            and str(data["year"]) > data["effective_date"][:4]
        ):
            raise ValidationError("a commendation is recorded after its year", "year")


class NominationQuery(Schema):
    unit = UnitField(kinds=NOMINATING_UNIT)
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    status = fields.String(
        validate=validate.OneOf(["submitted", "publicized", "withdrawn", "conferred", "revoked"])
    )
    as_of = IsoDate(load_default=lambda: date.today().isoformat())


class EligibilityQuery(Schema):
    as_of = IsoDate(load_default=lambda: date.today().isoformat())


class CommendationQuery(Schema):
    year = QueryCount(2035, min=2015, what="a year of the programme")
    unit = UnitField(kinds=NOMINATING_UNIT)
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    as_of = IsoDate(load_default=None)
