"""What the registry returns to callers: aggregates as plain dicts, personal numbers masked, and
``erased`` in every personal field of a person whose data was erased (kernel.personal)."""

from kernel.pii import keyed_hash, mask


def expert_view(expert):
    return {
        "id": str(expert.id),
        "name": expert.name,
        "gender": expert.gender,
        "id_number": mask(expert.id_number),
        "employer": expert.employer,
        "title": expert.title,
        "specialty": expert.specialty,
        "phone": expert.phone,
        "email": expert.email,
        "address": expert.address,
        "unit": expert.unit,
        "location": expert.location,
        "bank_account": mask(expert.bank_account),
        "political_status": expert.political_status,
        "registered_on": expert.registered_on,
        "revoked_on": expert.revoked_on,
        "erased": expert.erased,
        "version": expert.version,
    }


def payee_view(expert, hash_key):
    """An expert as a paying service sees it: the account only as a keyed hash (and masked);
    an erased expert has no account that can be checked."""
    account = None if expert.erased else expert.bank_account
    return {
        "expert_id": str(expert.id),
        "name": expert.name,
        "unit": expert.unit,
        "location": expert.location,
        "registered_on": expert.registered_on,
        "revoked_on": expert.revoked_on,
        "erased": expert.erased,
        "bank_account": mask(expert.bank_account),
        "bank_account_hash": keyed_hash(hash_key, account) if account else None,
    }


def household_view(household):
    return {
        "id": household.code,
        "code": household.code,
        "head_name": household.head_name,
        "head_id_number": mask(household.head_id_number),
        "people": household.people,
        "location": household.location,
        "registered_on": household.registered_on,
        "revoked_on": household.revoked_on,
        "lifted_on": household.lifted_on,
        "lifted_people": household.lifted_people,
        "erased": household.erased,
    }


def pairing_view(agreement):
    return {
        "id": str(agreement.id),
        "expert_id": agreement.expert_id,
        "unit": agreement.unit,
        "household_codes": agreement.household_codes,
        "village": agreement.village,
        "start": agreement.start,
        "end": agreement.end,
        "goals": agreement.goals,
        "tasks": agreement.tasks,
        "mechanism": agreement.mechanism,
        "filed_on": agreement.filed_on,
    }


def expert_listing(doc):
    """An expert as the views hold it (never the keyed hash)."""
    return {
        "id": doc["_id"],
        "name": doc["name"],
        "gender": doc["gender"],
        "id_number": doc["id_number_masked"],
        "employer": doc["employer"],
        "title": doc["title"],
        "specialty": doc["specialty"],
        "unit": doc["unit"],
        "location": doc["location"],
        "registered_on": doc["registered_on"],
        "revoked_on": doc["revoked_on"],
    }


def association_view(association):
    return {
        "id": association.credit_code,
        "name": association.name,
        "credit_code": association.credit_code,
        "kind": association.kind,
        "level": association.level,
        "unit": association.unit,
        "location": association.location,
        "supported_by": association.supported_by,
        "registered_on": association.registered_on,
        "revoked_on": association.revoked_on,
    }


def service_log_view(log):
    return {
        "id": str(log.id),
        "expert_id": log.expert_id,
        "unit": log.unit,
        "date": log.date,
        "place": log.place,
        "form": log.form,
        "content": log.content,
        "participants": log.participants,
        "hours": log.hours,
    }


def targets_view(record):
    return {"unit": record.unit, "year": record.year, **record.targets}
