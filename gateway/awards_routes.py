"""HTTP paths of awards (API.md "Awards"), relayed to the awards service over RPC."""

from gateway import awards_schemas as schemas
from gateway.openapi import route
from gateway.requests import keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy
from services.awards.contract import NOMINATORS, OBJECTORS

NATIONAL = ("national_office",)


class AwardsRoutes:
    SERVICE = "awards"

    awards = BoundedRpcProxy("awards")

    @route("POST", "/award-rounds", "表扬嘉奖 Configure an award round", body=schemas.RoundSchema)
    def configure_round(self, request):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.RoundSchema())
        return 201, self.awards.configure_round(form, actor.to_dict(), keyed_request(request))

    @route("GET", "/award-rounds/<string:round_id>", "Read an award round")
    def get_round(self, request, round_id):
        self.auth.actor(request)
        return self.awards.get_round(round_id)

    @route(
        "POST",
        "/award-rounds/<string:round_id>/nominations",
        "推荐 Nominate (a province or national society)",
        body=schemas.NominationSchema,
    )
    def nominate(self, request, round_id):
        actor = self.auth.actor(request, NOMINATORS)
        form = load_body(request, schemas.NominationSchema())
        return 201, self.awards.nominate(round_id, form, actor.to_dict(), keyed_request(request))

    @route(
        "GET",
        "/award-rounds/<string:round_id>/nominations",
        "The round's nominations as of a date",
        query=schemas.NominationQuery,
    )
    def nominations(self, request, round_id):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.NominationQuery())
        return self.awards.nominations(
            round_id,
            actor.to_dict(),
            query.get("unit"),
            query.get("category"),
            query.get("status"),
            query["as_of"],
        )

    @route(
        "POST",
        "/award-rounds/<string:round_id>/endorsements",
        "Record an especially-outstanding justification for an expert (national office)",
        body=schemas.EndorsementSchema,
    )
    def endorse(self, request, round_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.EndorsementSchema())
        return 201, self.awards.endorse_outstanding(
            round_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/award-rounds/<string:round_id>/publicize",
        "公示 Publish the list for public notice",
        body=schemas.PublicizeSchema,
    )
    def publicize(self, request, round_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.PublicizeSchema())
        return self.awards.publicize(round_id, form, actor.to_dict(), keyed_request(request))

    @route(
        "POST",
        "/award-rounds/<string:round_id>/commend",
        "Confer the awards after the notice period",
        body=schemas.CommendSchema,
    )
    def commend(self, request, round_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.CommendSchema())
        return self.awards.commend(round_id, form, actor.to_dict(), keyed_request(request))

    @route("GET", "/nominations/<string:nomination_id>", "Read a nomination")
    def get_nomination(self, request, nomination_id):
        actor = self.auth.actor(request)
        return self.awards.get_nomination(nomination_id, actor.to_dict())

    @route(
        "GET",
        "/nominations/<string:nomination_id>/eligibility",
        "The rule checks and their evidence",
        query=schemas.EligibilityQuery,
    )
    def eligibility(self, request, nomination_id):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.EligibilityQuery())
        return self.awards.eligibility(nomination_id, actor.to_dict(), query["as_of"])

    @route(
        "POST",
        "/nominations/<string:nomination_id>/objections",
        "Raise an objection during the notice",
        body=schemas.ObjectionSchema,
    )
    def raise_objection(self, request, nomination_id):
        actor = self.auth.actor(request, OBJECTORS)
        form = load_body(request, schemas.ObjectionSchema())
        return 201, self.awards.raise_objection(
            nomination_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/nominations/<string:nomination_id>/objections/<string:objection_id>/resolve",
        "Resolve an objection",
        body=schemas.ResolveSchema,
    )
    def resolve_objection(self, request, nomination_id, objection_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.ResolveSchema())
        return self.awards.resolve_objection(
            nomination_id, objection_id, form, actor.to_dict(), keyed_request(request)
        )

    @route(
        "POST",
        "/nominations/<string:nomination_id>/revoke",
        "Revoke for false material",
        body=schemas.RevokeSchema,
    )
    def revoke(self, request, nomination_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.RevokeSchema())
        return self.awards.revoke(nomination_id, form, actor.to_dict(), keyed_request(request))

    @route("POST", "/commendations", "Record a past commendation", body=schemas.CommendationSchema)
    def record_commendation(self, request):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.CommendationSchema())
        return 201, self.awards.record_commendation(form, actor.to_dict(), keyed_request(request))

    @route("GET", "/commendations", "Commended lists", query=schemas.CommendationQuery)
    def commendations(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.CommendationQuery())
        return self.awards.commendations(
            actor.to_dict(),
            query.get("year"),
            query.get("unit"),
            query.get("category"),
            query.get("as_of"),
        )
