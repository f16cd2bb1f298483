"""What the awards service returns: aggregates and view documents as plain dicts, personal
numbers masked."""

from kernel.pii import mask_fields
from services.awards.domain import PERSONAL_FIELDS


def round_view(award_round):
    return {
        "id": str(award_round.id),
        "year": award_round.year,
        "name": award_round.name,
        "categories": award_round.categories,
        "national_totals": award_round.national_totals,
        "key_provinces": award_round.key_provinces,
        "quotas": award_round.quotas,
        "notice_days": award_round.notice_days,
        "deadline": award_round.deadline,
        "prior_commendation_since": award_round.prior_commendation_since,
        "eligibility": award_round.eligibility,
        "configured_on": award_round.configured_on,
        "status": award_round.status,
        "notice_start": award_round.notice_start,
        "notice_end": award_round.notice_end,
        "commended_on": award_round.commended_on,
        "endorsements": award_round.endorsements,
        "nominations": len(award_round.nominations),
    }


def nomination_view(nomination):
    return {
        "id": str(nomination.id),
        "round_id": nomination.round_id,
        "category": nomination.category,
        "unit": nomination.unit,
        "nominee": nomination.nominee,
        **mask_fields(nomination.form, PERSONAL_FIELDS),
        "checks": nomination.checks,
        "submitted_on": nomination.submitted_on,
        "status": nomination.status,
        "notice_start": nomination.notice_start,
        "notice_end": nomination.notice_end,
        "objections": [{"id": oid, **o} for oid, o in nomination.objections.items()],
        "conferred_on": nomination.conferred_on,
        "revoked": nomination.revoked,
        "version": nomination.version,
    }


def listed_nomination(doc):
    """A nomination as the round's list has it as of a date (form already masked in the view)."""
    return {
        "id": doc["_id"],
        "round_id": doc["round_id"],
        "category": doc["category"],
        "unit": doc["unit"],
        "nominee": doc["nominee"],
        **doc["form"],
        "submitted_on": doc["submitted_on"],
        "status": doc["status"],
        "status_since": doc["status_since"],
        "objections": [
            {
                "id": o["_id"],
                "reason": o["reason"],
                "raised_on": o["raised_on"],
                "resolved_on": o["resolved_on"],
                "upheld": None if o["upheld"] is None else bool(o["upheld"]),
                "comment": o["comment"],
            }
            for o in doc["objections"]
        ],
        "position": doc["position"],
    }


def commendation_view(commendation):
    return {
        "id": str(commendation.id),
        "nominee": commendation.nominee,
        "year": commendation.year,
        "category": commendation.category,
        "unit": commendation.unit,
        "name": commendation.name,
        "source": commendation.source,
        "recorded_on": commendation.recorded_on,
        "revoked_on": commendation.revoked_on,
    }


def listed_commendation(doc):
    return {
        "id": doc["_id"],
        "nominee": doc["nominee"],
        "year": doc["year"],
        "category": doc["category"],
        "unit": doc["unit"],
        "name": doc["name"],
        "source": doc["source"],
        "recorded_on": doc["recorded_on"],
        "revoked_on": doc.get("revoked_on"),
        "position": doc["position"],
    }
