"""SupervisionApplication: the write side of supervision campaigns (专项督查)."""

from kernel.application import ServiceApplication, command
from kernel.errors import Forbidden, RuleViolation
from kernel.places import canonical_province, canonical_unit
from services.supervision.domain import (
    Campaign,
    Finding,
    Rectification,
    SelfInspection,
    SpotCheck,
    bounded,
    draw,
    draw_records,
    province_of,
)


class SupervisionApplication(ServiceApplication):
    name = "supervision"

    # -- campaigns ------------------------------------------------------------------------
    @command
    def launch_campaign(self, *, effective_date, **form) -> Campaign:
        form["units"] = [
            canonical_unit(u, "units", kinds=("province", "society")) for u in form["units"]
        ]
        campaign = Campaign(effective_date=effective_date, **form)
        self.save(campaign)
        return campaign

    @command
    def schedule_field_inspection(self, campaign_id, groups, effective_date) -> Campaign:
        campaign = self.get_campaign(campaign_id)
        groups = [
            {
                **g,
                "provinces": [
                    canonical_province(p, "groups.provinces") for p in g.get("provinces", ())
                ],
            }
            for g in groups
        ]
        campaign.schedule_field_inspection(groups, effective_date)
        self.save(campaign)
        return campaign

    @command
    def close_campaign(self, campaign_id, effective_date) -> Campaign:
        campaign = self.get_campaign(campaign_id)
        campaign.close(effective_date)
        self.save(campaign)
        return campaign

    def get_campaign(self, campaign_id) -> Campaign:
        return self._get(campaign_id, Campaign, "campaign")

    # -- self-inspection ------------------------------------------------------------------
    @command
    def submit_self_inspection(
        self, campaign_id, *, unit, declared, figures, text, effective_date
    ) -> SelfInspection:
        """File (or revise) a unit's report; after the due date it is accepted and marked late."""
        unit = canonical_unit(unit, kinds=("province", "society"))
        figures = bounded(figures)
        campaign = self.get_campaign(campaign_id)
        campaign.guard_open("self-inspection", effective_date)
        if unit not in campaign.units:
            raise RuleViolation(
                f"the campaign does not cover {unit}", {"unit": ["not covered by the campaign"]}
            )
        late = effective_date > campaign.self_inspection_due
        report_id = SelfInspection.create_id(str(campaign.id), unit)
        if self._exists(report_id):
            report = self.repository.get(report_id)
            report.revise(declared, figures, text, late, effective_date)
        else:
            report = SelfInspection(
                str(campaign.id), unit, declared, figures, text, late, effective_date
            )
        self.save(report)
        return report

    def self_inspection(self, campaign_id, unit):
        """The unit's latest report in the campaign, or None if it has filed none."""
        report_id = SelfInspection.create_id(str(self.get_campaign(campaign_id).id), unit)
        return self.repository.get(report_id) if self._exists(report_id) else None

    # -- field inspection -----------------------------------------------------------------
    @command
    def record_finding(
        self,
        campaign_id,
        *,
        inspector,
        unit,
        description,
        severity,
        requires_rectification,
        due,
        effective_date,
    ) -> Finding:
        """An assigned inspector records a finding; one that needs action opens a rectification
        rectification due by ``due`` (default: the campaign's rectification deadline)."""
        unit = canonical_unit(unit)
        campaign = self.get_campaign(campaign_id)
        campaign.guard_open("findings", effective_date)
        if not campaign.covers(unit):
            raise RuleViolation(
                f"the campaign does not cover {unit}", {"unit": ["not covered by the campaign"]}
            )
        if not campaign.assigned(inspector, unit):
            raise Forbidden(
                f"this inspector is not assigned to inspect {province_of(unit) or unit}",
                {"unit": ["not in your inspection group's provinces"]},
            )
        if not campaign.field_inspection_start <= effective_date <= campaign.feedback_due:
            raise RuleViolation(
                f"findings are recorded from {campaign.field_inspection_start} to {campaign.feedback_due}",
                {"effective_date": ["outside the field inspection and feedback phases"]},
            )
        finding = Finding(
            campaign_id=str(campaign.id),
            unit=unit,
            inspector=inspector,
            description=description,
            severity=severity,
            requires_rectification=requires_rectification,
            due=(due or campaign.rectification_due) if requires_rectification else None,
            effective_date=effective_date,
        )
        aggregates = [finding]
        if requires_rectification:
            aggregates.append(
                Rectification(
                    finding_id=str(finding.id),
                    campaign_id=str(campaign.id),
                    unit=unit,
                    description=description,
                    due=finding.due,
                    effective_date=effective_date,
                )
            )
        self.save(*aggregates)
        return finding

    # -- rectification --------------------------------------------------------------------
    @command
    def work_on_rectification(
        self, rectification_id, move, actor_unit, effective_date, **details
    ) -> Rectification:
        """The responsible unit reports progress or submits its evidence."""
        rectification = self.get_rectification(rectification_id)
        getattr(rectification, move)(actor_unit, effective_date=effective_date, **details)
        self.save(rectification)
        return rectification

    @command
    def check_rectification(
        self, rectification_id, move, verifier, national_office, effective_date, **details
    ) -> Rectification:
        """The national office, or an inspector assigned to the unit's province in the item's
        campaign, verifies the submitted evidence or reopens the rectification."""
        rectification = self.get_rectification(rectification_id)
        if not national_office and not self.get_campaign(rectification.campaign_id).assigned(
            verifier, rectification.unit
        ):
            where = province_of(rectification.unit) or rectification.unit
            raise Forbidden(
                f"only the national office or the inspectors of {where} "
                "in this campaign check its rectification",
                {"unit": ["not assigned to you"]},
            )
        getattr(rectification, move)(verifier, effective_date=effective_date, **details)
        self.save(rectification)
        return rectification

    def get_rectification(self, rectification_id) -> Rectification:
        return self._get(rectification_id, Rectification, "rectification")

    # -- spot checks ----------------------------------------------------------------------
    def draw_provinces(self, campaign_id, seed, provinces):
        """The provinces of a spot check: drawn from those the campaign covers."""
        campaign = self.get_campaign(campaign_id)
        covered = {province_of(unit) for unit in campaign.units} - {None}
        return draw(seed, "provinces", covered, provinces)

    @command
    def record_spot_check(
        self,
        campaign_id,
        *,
        seed,
        provinces,
        records_per_province,
        registry_position,
        frame_sizes,
        lookup,
        effective_date,
    ) -> SpotCheck:
        """Draw ``records_per_province`` records from each province's spot-check frame as it stood
        at ``registry_position`` (``frame_sizes``: its ordinals 1..n then; ``lookup(province,
        ordinals)`` reads them from the registry) and record the whole draw."""
        campaign = self.get_campaign(campaign_id)
        campaign.guard_open("spot checks", effective_date)
        sample = {
            province: draw_records(
                seed,
                f"records:{province}",
                frame_sizes[province],
                records_per_province,
                lambda ordinals, province=province: lookup(province, ordinals),
            )
            for province in provinces
        }
        spot_check = SpotCheck(
            campaign_id=str(campaign.id),
            seed=seed,
            provinces=provinces,
            records_per_province=records_per_province,
            registry_position=registry_position,
            sample=sample,
            effective_date=effective_date,
        )
        self.save(spot_check)
        return spot_check

    # -- helpers --------------------------------------------------------------------------
