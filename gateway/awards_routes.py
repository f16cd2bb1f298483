"""HTTP paths of awards (API.md "Awards"), relayed to the awards service over RPC."""
from gateway import awards_schemas as schemas
from gateway.entrypoints import http
from gateway.requests import API, keyed_request, load_body, load_query
from gateway.rpc import BoundedRpcProxy

NATIONAL = ("national_office",)
NOMINATORS = ("provincial_office", "society")
OBJECTORS = ("national_office", "provincial_office", "society", "county_association", "expert")


class AwardsRoutes:
    SERVICE = "awards"
    PATHS = [
        ("/award-rounds", "post", "表扬嘉奖 Configure an award round", schemas.RoundSchema, None),
        ("/award-rounds/{round_id}", "get", "Read an award round", None, None),
        ("/award-rounds/{round_id}/nominations", "post", "推荐 Nominate (a province or national society)",
         schemas.NominationSchema, None),
        ("/award-rounds/{round_id}/nominations", "get", "The round's nominations as of a date", None,
         schemas.NominationQuery),
        ("/award-rounds/{round_id}/endorsements", "post",
         "Record an especially-outstanding justification for an expert (national office)",
         schemas.EndorsementSchema, None),
        ("/award-rounds/{round_id}/publicize", "post", "公示 Publish the list for public notice",
         schemas.PublicizeSchema, None),
        ("/award-rounds/{round_id}/commend", "post", "Confer the awards after the notice period",
         schemas.CommendSchema, None),
        ("/nominations/{nomination_id}", "get", "Read a nomination", None, None),
        ("/nominations/{nomination_id}/eligibility", "get", "The rule checks and their evidence", None,
         schemas.EligibilityQuery),
        ("/nominations/{nomination_id}/objections", "post", "Raise an objection during the notice",
         schemas.ObjectionSchema, None),
        ("/nominations/{nomination_id}/objections/{objection_id}/resolve", "post", "Resolve an objection",
         schemas.ResolveSchema, None),
        ("/nominations/{nomination_id}/revoke", "post", "Revoke for false material", schemas.RevokeSchema, None),
        ("/commendations", "post", "Record a past commendation", schemas.CommendationSchema, None),
        ("/commendations", "get", "Commended lists", None, schemas.CommendationQuery),
    ]

    awards = BoundedRpcProxy("awards")

    @http("POST", API + "/award-rounds")
    def configure_round(self, request):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.RoundSchema())
        return 201, self.awards.configure_round(form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/award-rounds/<string:round_id>")
    def get_round(self, request, round_id):
        self.auth.actor(request)
        return self.awards.get_round(round_id)

    @http("POST", API + "/award-rounds/<string:round_id>/nominations")
    def nominate(self, request, round_id):
        actor = self.auth.actor(request, NOMINATORS)
        form = load_body(request, schemas.NominationSchema())
        return 201, self.awards.nominate(round_id, form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/award-rounds/<string:round_id>/nominations")
    def nominations(self, request, round_id):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.NominationQuery())
        return self.awards.nominations(round_id, actor.to_dict(), query.get("unit"), query.get("category"),
                                       query.get("status"), query["as_of"])

    @http("POST", API + "/award-rounds/<string:round_id>/endorsements")
    def endorse(self, request, round_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.EndorsementSchema())
        return 201, self.awards.endorse_outstanding(round_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/award-rounds/<string:round_id>/publicize")
    def publicize(self, request, round_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.PublicizeSchema())
        return self.awards.publicize(round_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/award-rounds/<string:round_id>/commend")
    def commend(self, request, round_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.CommendSchema())
        return self.awards.commend(round_id, form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/nominations/<string:nomination_id>")
    def get_nomination(self, request, nomination_id):
        actor = self.auth.actor(request)
        return self.awards.get_nomination(nomination_id, actor.to_dict())

    @http("GET", API + "/nominations/<string:nomination_id>/eligibility")
    def eligibility(self, request, nomination_id):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.EligibilityQuery())
        return self.awards.eligibility(nomination_id, actor.to_dict(), query["as_of"])

    @http("POST", API + "/nominations/<string:nomination_id>/objections")
    def raise_objection(self, request, nomination_id):
        actor = self.auth.actor(request, OBJECTORS)
        form = load_body(request, schemas.ObjectionSchema())
        return 201, self.awards.raise_objection(nomination_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/nominations/<string:nomination_id>/objections/<string:objection_id>/resolve")
    def resolve_objection(self, request, nomination_id, objection_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.ResolveSchema())
        return self.awards.resolve_objection(nomination_id, objection_id, form, actor.to_dict(),
                                             keyed_request(request))

    @http("POST", API + "/nominations/<string:nomination_id>/revoke")
    def revoke(self, request, nomination_id):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.RevokeSchema())
        return self.awards.revoke(nomination_id, form, actor.to_dict(), keyed_request(request))

    @http("POST", API + "/commendations")
    def record_commendation(self, request):
        actor = self.auth.actor(request, NATIONAL)
        form = load_body(request, schemas.CommendationSchema())
        return 201, self.awards.record_commendation(form, actor.to_dict(), keyed_request(request))

    @http("GET", API + "/commendations")
    def commendations(self, request):
        actor = self.auth.actor(request)
        query = load_query(request, schemas.CommendationQuery())
        return self.awards.commendations(actor.to_dict(), query.get("year"), query.get("unit"),
                                         query.get("category"), query.get("as_of"))
