"""The 两数 projection: registry events → views in MongoDB.

One document per natural key (expert id, credit code, household code, agreement × household,
service-log id, unit × year), written with upserts that set whole fields, so re-applying an
event changes nothing. Each document keeps the log positions of the events behind it (for
explain). History that counts as of a date (a household's people) is kept one document per
event, since the MongoDB stand-in cannot hold arrays of subdocuments.
"""
from pymongo import UpdateOne

from kernel import pii
from kernel.projection import Projection

EXPERTS, ASSOCIATIONS, HOUSEHOLDS = "registry_experts", "registry_associations", "registry_households"
PEOPLE, PAIRINGS, SERVICE_LOGS, TARGETS = (
    "registry_household_people", "registry_pairings", "registry_service_logs", "registry_targets")


def _place(location):
    location = location or {}
    return {k: location.get(k) for k in ("province", "city", "county", "township", "village")}


def _upsert(key, fields, position):
    return UpdateOne({"_id": key}, {"$set": fields, "$addToSet": {"positions": position}}, upsert=True)


def _changes(changes, masked=()):
    fields = {}
    for name, value in changes.items():
        if name == "location":
            fields["location"] = _place(value)
        elif name in masked:
            fields[name + "_masked"] = pii.mask(value)
        else:
            fields[name] = value
    return fields


class TwoCountsProjection(Projection):
    name = "registry.two_counts"
    collections = (EXPERTS, ASSOCIATIONS, HOUSEHOLDS, PEOPLE, PAIRINGS, SERVICE_LOGS, TARGETS)

    # -- experts --------------------------------------------------------------------------
    def on_ExpertRegistered(self, position, e):
        yield EXPERTS, _upsert(str(e.originator_id), {
            "name": e.name, "gender": e.gender, "id_hash": e.id_hash,
            "id_number_masked": pii.mask(e.id_number), "employer": e.employer, "title": e.title,
            "specialty": e.specialty, "unit": e.unit, "location": _place(e.location),
            "bank_account_masked": pii.mask(e.bank_account), "registered_on": e.effective_date,
            "revoked_on": None, "revoked_position": None, "position": position,
        }, position)

    def on_ExpertRevoked(self, position, e):
        yield EXPERTS, _upsert(str(e.originator_id), {"revoked_on": e.effective_date, "revoked_position": position},
                               position)

    def on_ExpertCorrected(self, position, e):
        yield EXPERTS, _upsert(str(e.originator_id), _changes(e.changes, masked=("bank_account",)), position)

    # -- associations and federations -----------------------------------------------------
    def on_AssociationRegistered(self, position, e):
        yield ASSOCIATIONS, _upsert(e.credit_code, {
            "name": e.name, "kind": e.kind, "level": e.level, "unit": e.unit,
            "location": _place(e.location), "supported_by": e.supported_by,
            "registered_on": e.effective_date, "revoked_on": None, "registered_position": position, "revoked_position": None,
        }, position)

    def on_AssociationRevoked(self, position, e):
        yield ASSOCIATIONS, _upsert(e.credit_code, {"revoked_on": e.effective_date, "revoked_position": position},
                                    position)

    def on_AssociationCorrected(self, position, e):
        yield ASSOCIATIONS, _upsert(e.credit_code, _changes(e.changes), position)

    # -- households -----------------------------------------------------------------------
    def on_HouseholdRegistered(self, position, e):
        yield HOUSEHOLDS, _upsert(e.code, {
            "head_name": e.head_name, "head_id_number_masked": pii.mask(e.head_id_number),
            "people": e.people, "location": _place(e.location), "registered_on": e.effective_date,
            "revoked_on": None, "lifted_on": None, "lifted_people": None, "registered_position": position,
            "revoked_position": None,
        }, position)
        yield PEOPLE, UpdateOne({"_id": f"{e.code}:{position}"}, {"$set": {
            "code": e.code, "since": e.effective_date, "people": e.people, "position": position}},
            upsert=True)

    def on_HouseholdCorrected(self, position, e):
        yield HOUSEHOLDS, _upsert(e.code, _changes(e.changes), position)
        if "people" in e.changes:
            yield PEOPLE, UpdateOne({"_id": f"{e.code}:{position}"}, {"$set": {
                "code": e.code, "since": e.effective_date, "people": e.changes["people"],
                "position": position}}, upsert=True)

    def on_HouseholdRevoked(self, position, e):
        yield HOUSEHOLDS, _upsert(e.code, {"revoked_on": e.effective_date, "revoked_position": position}, position)

    def on_HouseholdLiftedOut(self, position, e):
        yield HOUSEHOLDS, _upsert(e.code, {"lifted_on": e.date, "lifted_people": e.people,
                                           "lifted_position": position}, position)

    def on_HouseholdPaired(self, position, e):
        yield PAIRINGS, UpdateOne({"_id": f"{e.agreement_id}:{e.code}"}, {"$set": {
            "agreement_id": e.agreement_id, "code": e.code, "expert_id": e.expert_id,
            "unit": e.unit, "since": e.effective_date, "start": e.start, "end": e.end,
            "position": position,
        }}, upsert=True)

    # -- service logs and targets ---------------------------------------------------------
    def on_ServiceLogged(self, position, e):
        yield SERVICE_LOGS, UpdateOne({"_id": str(e.originator_id)}, {"$set": {
            "expert_id": e.expert_id, "unit": e.unit, "date": e.date, "year": int(e.date[:4]),
            "place": e.place, "form": e.form, "hours": e.hours, "position": position,
        }}, upsert=True)

    def on_TargetsSet(self, position, e):
        yield TARGETS, _upsert(f"{e.unit}:{e.year}", {"unit": e.unit, "year": e.year,
                                                      "targets": e.targets}, position)

    on_TargetsRevised = on_TargetsSet
