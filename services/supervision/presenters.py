"""What the supervision service returns: aggregates and view documents as plain dicts."""


def campaign_view(campaign):
    return {
        "id": str(campaign.id),
        "name": campaign.name,
        "year": campaign.year,
        "cutoff": campaign.cutoff,
        "self_inspection_due": campaign.self_inspection_due,
        "field_inspection_start": campaign.field_inspection_start,
        "field_inspection_end": campaign.field_inspection_end,
        "feedback_due": campaign.feedback_due,
        "rectification_due": campaign.rectification_due,
        "units": campaign.units,
        "groups": campaign.groups,
        "launched_on": campaign.launched_on,
        "closed_on": campaign.closed_on,
    }


def campaign_listing(doc):
    """A campaign as the list shows it (the campaign itself: ``GET /campaigns/{id}``)."""
    return {
        "id": doc["_id"],
        "name": doc["name"],
        "year": doc["year"],
        "cutoff": doc["cutoff"],
        "units": doc["units"],
        "launched_on": doc["launched_on"],
        "closed_on": doc["closed_on"],
    }


def self_inspection_view(report):
    return {
        "id": str(report.id),
        "campaign_id": report.campaign_id,
        "unit": report.unit,
        "declared": report.declared,
        "figures": report.figures,
        "text": report.text,
        "late": report.late,
        "submitted_on": report.submitted_on,
        "version": report.version,
    }


def finding_view(finding):
    return {
        "id": str(finding.id),
        "campaign_id": finding.campaign_id,
        "unit": finding.unit,
        "inspector": finding.inspector,
        "description": finding.description,
        "severity": finding.severity,
        "requires_rectification": finding.requires_rectification,
        "due": finding.due,
        "found_on": finding.found_on,
        "rectification_id": str(finding.rectification_id)
        if finding.requires_rectification
        else None,
    }


def rectification_view(rectification, as_of):
    return {
        "id": str(rectification.id),
        "finding_id": rectification.finding_id,
        "campaign_id": rectification.campaign_id,
        "unit": rectification.unit,
        "description": rectification.description,
        "due": rectification.due,
        "status": rectification.status,
        "status_since": rectification.last_moved_on,
        "overdue": rectification.overdue(as_of),
        "as_of": as_of,
    }


def tracked_rectification(doc, as_of):
    """A rectification as the tracking view has it as of a date."""
    return {
        "id": doc["_id"],
        "finding_id": doc["finding_id"],
        "campaign_id": doc["campaign_id"],
        "unit": doc["unit"],
        "description": doc["description"],
        "due": doc["due"],
        "status": doc["status"],
        "status_since": doc["status_since"],
        "overdue": bool(doc["overdue"]),
        "as_of": as_of,
        "position": doc["position"],
    }


def spot_check_view(spot_check):
    return {
        "id": str(spot_check.id),
        "campaign_id": spot_check.campaign_id,
        "seed": spot_check.seed,
        "provinces": spot_check.provinces,
        "records_per_province": spot_check.records_per_province,
        "at_position": spot_check.registry_position,
        "records": [
            {"province": province, "kind": key.split(":", 1)[0], "id": key.split(":", 1)[1]}
            for province in spot_check.provinces
            for key in spot_check.sample[province]
        ],
        "drawn_on": spot_check.drawn_on,
    }
