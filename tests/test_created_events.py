"""Stored events outlive the code: every aggregate's created event keeps the topic and the
attribute names (in order) it had when the aggregates wrote their ``__init__`` by hand, so the
logs already written (and the hash chains and Merkle trees over them) load and verify. Unit test:
no event store, the library's JSON mapper in memory."""

import inspect

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

from kernel import erasure, idempotency
from services.awards import domain as awards
from services.funding import domain as funding
from services.registry import domain as registry
from services.supervision import domain as supervision

# Each aggregate's created event: topic → its attributes after the library's four
# (originator_id, originator_version, timestamp, originator_topic), in order, as recorded
# before the aggregates became dataclasses.
CREATED = {
    "services.registry.domain:Expert.ExpertRegistered": (
        "name gender id_number id_hash employer title specialty phone email address unit location "
        "bank_account political_status effective_date"
    ),
    "services.registry.domain:IdNumberClaim.IdNumberClaimed": "id_hash expert_id",
    "services.registry.domain:Household.HouseholdRegistered": (
        "code head_name head_id_number head_id_hash people location effective_date"
    ),
    "services.registry.domain:PairingAgreement.PairingAgreementFiled": (
        "expert_id unit household_codes village start end goals tasks mechanism effective_date"
    ),
    "services.registry.domain:Association.AssociationRegistered": (
        "name credit_code kind level unit location supported_by effective_date"
    ),
    "services.registry.domain:ServiceLog.ServiceLogged": (
        "expert_id unit date place form content participants hours effective_date"
    ),
    "services.registry.domain:Targets.TargetsSet": "unit year targets effective_date",
    "services.funding.domain:Programme.ProgrammeConfigured": (
        "name year until_year unit project_kinds approval_levels level_scopes "
        "subsidy_fen_per_project_year subsidise_units subsidise_fully_budget_funded quotas "
        "notice_days effective_date"
    ),
    "services.funding.domain:Project.ProjectApplied": (
        "programme_id applicant kind region unit villages content year until_year amount_fen "
        "approval_levels quota_region no_subsidy_reason effective_date"
    ),
    "services.funding.domain:RegionQuota.QuotaOpened": "programme_id region total",
    "services.funding.domain:ProjectYear.ProjectYearOpened": "project_id year cap_fen",
    "services.funding.domain:Disbursement.FundDisbursed": (
        "project_id programme_id year amount_fen account expert_id region unit quota_region trail "
        "effective_date"
    ),
    "services.awards.domain:AwardRound.AwardRoundConfigured": (
        "year name categories national_totals key_provinces quotas notice_days deadline "
        "prior_commendation_since eligibility effective_date"
    ),
    "services.awards.domain:Nomination.NominationSubmitted": (
        "round_id nominee category unit form checks effective_date"
    ),
    "services.awards.domain:Commendation.CommendationRecorded": (
        "nominee year category unit name source effective_date"
    ),
    "services.supervision.domain:Campaign.CampaignLaunched": (
        "name year cutoff self_inspection_due field_inspection_start field_inspection_end "
        "feedback_due rectification_due units effective_date"
    ),
    "services.supervision.domain:SelfInspection.SelfInspectionSubmitted": (
        "campaign_id unit declared figures text late effective_date"
    ),
    "services.supervision.domain:Finding.FindingRecorded": (
        "campaign_id unit inspector description severity requires_rectification due effective_date"
    ),
    "services.supervision.domain:Rectification.RectificationRequired": (
        "finding_id campaign_id unit description due effective_date"
    ),
    "services.supervision.domain:SpotCheck.SpotCheckDrawn": (
        "campaign_id seed provinces records_per_province registry_position sample effective_date"
    ),
    "kernel.erasure:Erasure.PersonErased": "person_id source",
    "kernel.idempotency:IdempotencyRecord.IdempotencyKeyUsed": (
        "service requester key fingerprint result_id"
    ),
}

# An attribute's sample value is its own name, except where a rule or a type wants another.
DATES = ("cutoff", "self_inspection_due", "field_inspection_start", "field_inspection_end")
SAMPLE = {
    **{phase: f"2020-03-{day:02d}" for day, phase in enumerate(DATES, start=1)},
    "feedback_due": "2020-06-30",
    "rectification_due": "2020-09-30",
    "effective_date": "2020-03-02",
    "start": "2020-03-02",
    "end": "2020-12-31",
    "due": "2020-12-31",
    "notice_days": 7,
    "categories": ["individual"],
    "national_totals": {"individual": 10},
    "quotas": {},
    "prior_commendation_since": None,
    "eligibility": None,
}


def sample(topic):
    return {name: SAMPLE.get(name, name) for name in CREATED[topic].split()}


def created(topic):
    aggregate_class, _ = topic.rsplit(".", 1)
    return resolve_topic(aggregate_class)(**sample(topic))


def mapper():
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def test_every_aggregate_is_in_the_table():
    modules = (registry, funding, awards, supervision, erasure, idempotency)
    aggregates = {
        get_topic(c)
        for m in modules
        for _, c in inspect.getmembers(m, inspect.isclass)
        if issubclass(c, Aggregate) and c.__module__ == m.__name__
    }
    assert aggregates == {topic.rsplit(".", 1)[0] for topic in CREATED}


@pytest.mark.parametrize("topic", CREATED, ids=lambda topic: topic.rsplit(".", 1)[1])
def test_a_created_event_keeps_its_topic_attributes_and_values(topic):
    aggregate = created(topic)
    (event,) = aggregate.collect_events()
    state = vars(event)
    assert get_topic(type(event)) == topic
    assert list(state)[4:] == CREATED[topic].split()
    assert {name: state[name] for name in CREATED[topic].split()} == sample(topic)

    stored = mapper().to_stored_event(event)
    assert (stored.topic, stored.originator_version) == (topic, 1)
    replayed = mapper().to_domain_event(stored).mutate(None)
    assert {**vars(replayed), "_pending_events": []} == {**vars(aggregate), "_pending_events": []}


def test_a_recorded_created_event_still_rebuilds_its_aggregate():
    """A household's registration as it is stored (bulk import writes it without the aggregate)."""
    event = registry.Household.registration_event(
        code="H1",
        head_name="李四",
        head_id_number="140123198001010011",
        head_id_hash="hash",
        people=4,
        location="village:山西/吕梁/临县/城庄镇/前青塘村",
        effective_date="2020-03-02",
    )
    household = mapper().to_domain_event(mapper().to_stored_event(event)).mutate(None)
    assert (household.code, household.people, household.registered_on) == ("H1", 4, "2020-03-02")
    assert household.revoked_on is None and household.pairings == {} and not household.erased
