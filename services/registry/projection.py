"""The 两数 projection: registry events → views in MongoDB, and the figures read from them.

Views hold one document per natural key (expert id, household code, agreement × household),
written with upserts that set whole fields, so re-applying an event changes nothing. Figures
are counted at query time from effective dates, so any as-of date can be asked for, and a
person or household is counted once by construction (sets of keyed hashes / codes).
"""
from pymongo import UpdateOne

from kernel import pii

EXPERTS, HOUSEHOLDS, PAIRINGS = "registry_experts", "registry_households", "registry_pairings"


def _place(location):
    location = location or {}
    return {k: location.get(k) for k in ("province", "city", "county", "township", "village")}


class TwoCountsProjection:
    name = "registry.two_counts"
    collections = (EXPERTS, HOUSEHOLDS, PAIRINGS)

    def apply(self, views, events):
        writes = {name: [] for name in self.collections}
        for position, e in events:
            handler = getattr(self, "on_" + type(e).__name__, None)
            if handler:
                for collection, op in handler(position, e):
                    writes[collection].append(op)
        for collection, ops in writes.items():
            if ops:
                views[collection].bulk_write(ops, ordered=True)

    def drop(self, views):
        for name in self.collections:
            views[name].drop()

    # Each handler yields (collection, UpdateOne) pairs; all are idempotent upserts.
    def on_ExpertRegistered(self, position, e):
        yield EXPERTS, UpdateOne({"_id": str(e.originator_id)}, {"$set": {
            "name": e.name, "gender": e.gender, "id_hash": e.id_hash,
            "id_number_masked": pii.mask(e.id_number), "employer": e.employer, "title": e.title,
            "specialty": e.specialty, "unit": e.unit, "location": _place(e.location),
            "bank_account_masked": pii.mask(e.bank_account), "registered_on": e.effective_date,
            "revoked_on": None, "position": position,
        }}, upsert=True)

    def on_HouseholdRegistered(self, position, e):
        yield HOUSEHOLDS, UpdateOne({"_id": e.code}, {"$set": {
            "head_name": e.head_name, "head_id_number_masked": pii.mask(e.head_id_number),
            "people": e.people, "location": _place(e.location), "registered_on": e.effective_date,
            "revoked_on": None, "position": position,
        }}, upsert=True)

    def on_HouseholdPaired(self, position, e):
        yield PAIRINGS, UpdateOne({"_id": f"{e.agreement_id}:{e.code}"}, {"$set": {
            "agreement_id": e.agreement_id, "code": e.code, "expert_id": e.expert_id,
            "unit": e.unit, "since": e.effective_date, "start": e.start, "end": e.end,
            "position": position,
        }}, upsert=True)
