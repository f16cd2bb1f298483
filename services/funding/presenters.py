"""What the funding service returns to callers: aggregates and view documents as plain dicts,
the account masked."""

from kernel.pii import mask


def programme_view(programme):
    return {
        "id": str(programme.id),
        "name": programme.name,
        "year": programme.year,
        "until_year": programme.until_year,
        "unit": programme.unit,
        "project_kinds": programme.project_kinds,
        "approval_levels": programme.approval_levels,
        "level_scopes": programme.level_scopes,
        "subsidy_fen_per_project_year": programme.subsidy_fen_per_project_year,
        "subsidise_units": programme.subsidise_units,
        "subsidise_fully_budget_funded": programme.subsidise_fully_budget_funded,
        "quotas": programme.quotas,
        "notice_days": programme.notice_days,
        "configured_on": programme.configured_on,
        "version": programme.version,
    }


def project_view(project):
    return {
        "id": str(project.id),
        "programme_id": project.programme_id,
        "applicant": project.applicant,
        "kind": project.kind,
        "region": project.region,
        "unit": project.unit,
        "villages": project.villages,
        "content": project.content,
        "year": project.year,
        "until_year": project.until_year,
        "amount_fen": project.amount_fen,
        "status": project.status,
        "next_level": project.next_level,
        "reviews": project.reviews,
        "applied_on": project.applied_on,
        "approved_on": project.approved_on,
        "rejected_on": project.rejected_on,
        "notice_start": project.notice_start,
        "notice_end": project.notice_end,
        "confirmed_on": project.confirmed_on,
        "quota_region": project.quota_region,
        "subsidised": project.no_subsidy_reason is None,
        "no_subsidy_reason": project.no_subsidy_reason,
        "version": project.version,
    }


def disbursement_view(disbursement):
    return {
        "id": str(disbursement.id),
        "project_id": disbursement.project_id,
        "programme_id": disbursement.programme_id,
        "year": disbursement.year,
        "amount_fen": disbursement.amount_fen,
        "account": mask(disbursement.account),
        "expert_id": disbursement.expert_id,
        "region": disbursement.region,
        "unit": disbursement.unit,
        "quota_region": disbursement.quota_region,
        "disbursed_on": disbursement.disbursed_on,
    }


def _plain(doc, drop=("positions",)):
    return {("id" if k == "_id" else k): v for k, v in doc.items() if k not in drop}


def project_record_view(record):
    """GET /projects/{id}: the project, its history (each event's log position) and its payments
    (each with the positions of the approvals, publicity and confirmation behind it)."""
    project = _plain(record["project"])
    project["positions"] = sorted(record["project"].get("positions", []))
    history = [_plain(h, drop=("project_id",)) for h in record["history"]]
    payments = [
        {**_plain(d, drop=("account_masked",)), "account": d["account_masked"]}
        for d in record["disbursements"]
    ]
    return {**project, "history": history, "disbursements": payments}
