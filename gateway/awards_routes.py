"""HTTP paths of awards (API.md "Awards"), relayed to the awards service over RPC."""

from gateway import awards_schemas as schemas
from gateway.relay import command, lookup
from gateway.rpc import BoundedRpcProxy
from services.awards.contract import NOMINATORS, OBJECTORS

NATIONAL = ("national_office",)


class AwardsRoutes:
    SERVICE = "awards"

    awards = BoundedRpcProxy("awards")

    configure_round = command(
        "POST",
        "/award-rounds",
        "表扬嘉奖 Configure an award round",
        "awards.configure_round",
        schemas.RoundSchema,
        NATIONAL,
        status=201,
    )
    get_round = lookup("/award-rounds/<string:round_id>", "Read an award round", "awards.get_round")
    nominate = command(
        "POST",
        "/award-rounds/<string:round_id>/nominations",
        "推荐 Nominate (a province or national society)",
        "awards.nominate",
        schemas.NominationSchema,
        NOMINATORS,
        status=201,
    )
    nominations = lookup(
        "/award-rounds/<string:round_id>/nominations",
        "The round's nominations as of a date",
        "awards.nominations",
        query=schemas.NominationQuery,
    )
    endorse = command(
        "POST",
        "/award-rounds/<string:round_id>/endorsements",
        "Record an especially-outstanding justification for an expert (national office)",
        "awards.endorse_outstanding",
        schemas.EndorsementSchema,
        NATIONAL,
        status=201,
    )
    publicize = command(
        "POST",
        "/award-rounds/<string:round_id>/publicize",
        "公示 Publish the list for public notice",
        "awards.publicize",
        schemas.PublicizeSchema,
        NATIONAL,
    )
    commend = command(
        "POST",
        "/award-rounds/<string:round_id>/commend",
        "Confer the awards after the notice period",
        "awards.commend",
        schemas.CommendSchema,
        NATIONAL,
    )
    get_nomination = lookup(
        "/nominations/<string:nomination_id>", "Read a nomination", "awards.get_nomination"
    )
    eligibility = lookup(
        "/nominations/<string:nomination_id>/eligibility",
        "The rule checks and their evidence",
        "awards.eligibility",
        query=schemas.EligibilityQuery,
    )
    raise_objection = command(
        "POST",
        "/nominations/<string:nomination_id>/objections",
        "Raise an objection during the notice",
        "awards.raise_objection",
        schemas.ObjectionSchema,
        OBJECTORS,
        status=201,
    )
    resolve_objection = command(
        "POST",
        "/nominations/<string:nomination_id>/objections/<string:objection_id>/resolve",
        "Resolve an objection",
        "awards.resolve_objection",
        schemas.ResolveSchema,
        NATIONAL,
    )
    revoke = command(
        "POST",
        "/nominations/<string:nomination_id>/revoke",
        "Revoke for false material",
        "awards.revoke",
        schemas.RevokeSchema,
        NATIONAL,
    )
    record_commendation = command(
        "POST",
        "/commendations",
        "Record a past commendation",
        "awards.record_commendation",
        schemas.CommendationSchema,
        NATIONAL,
        status=201,
    )
    commendations = lookup(
        "/commendations",
        "Commended lists",
        "awards.commendations",
        query=schemas.CommendationQuery,
    )
