"""FundingApplication: the funding write side. Each command gets the aggregates it needs, calls
their verbs (which guard the rules) and saves them.

It knows nothing of nameko: what it needs of the registry (an expert's standing and the keyed
hash of the registered account, ``payee``) comes in as an argument.
"""

from kernel import pii
from kernel.application import ServiceApplication, command
from kernel.errors import NotFound, RuleViolation
from kernel.places import canonical_unit
from services.funding.domain import (
    NAMING_FIELDS,
    Disbursement,
    Programme,
    Project,
    ProjectYear,
    RegionQuota,
)


class FundingApplication(ServiceApplication):
    name = "funding"
    sealed_events = NAMING_FIELDS

    # -- programmes -----------------------------------------------------------------------
    @command
    def configure_programme(self, *, effective_date, **form) -> Programme:
        programme = Programme.configure(effective_date=effective_date, **form)
        self.save(programme, *programme.open_quotas())
        return programme

    def get_programme(self, programme_id) -> Programme:
        return self._get(programme_id, Programme, "programme")

    def quota(self, programme_id, region) -> RegionQuota:
        return self.repository.get(RegionQuota.create_id(programme_id, region))

    # -- projects -------------------------------------------------------------------------
    @command
    def apply(
        self,
        *,
        programme_id,
        applicant,
        kind,
        region,
        villages,
        content,
        year,
        effective_date,
        unit=None,
        until_year=None,
        amount_fen=None,
        expert=None,
    ) -> Project:
        """A project application. ``expert`` is the registry's payee record of an individual
        applicant (None for a unit)."""
        programme = self._referenced(programme_id, Programme, "programme")
        region = canonical_unit(region, "region", kinds=("province", "city", "county"))
        unit = canonical_unit(unit, kinds=("province", "society")) if unit is not None else None
        project = programme.take_application(
            applicant=applicant,
            kind=kind,
            region=region,
            unit=unit,
            villages=villages,
            content=content,
            year=year,
            until_year=until_year,
            amount_fen=amount_fen,
            expert=expert,
            effective_date=effective_date,
        )
        self.save(project)
        return project

    def get_project(self, project_id) -> Project:
        return self._get(project_id, Project, "project")

    def referenced_project(self, project_id) -> Project:
        return self._referenced(project_id, Project, "project")

    @command
    def review(self, project_id, *, level, decision, comment, effective_date) -> Project:
        return self._step(
            project_id, lambda project: project.review(level, decision, comment, effective_date)
        )

    @command
    def publicize(self, project_id, *, effective_date) -> Project:
        """Start the public notice (公示): it runs ``notice_days`` days from the effective date."""
        return self._step(
            project_id,
            lambda project: project.publicize(
                self.get_programme(project.programme_id).notice_days, effective_date
            ),
        )

    @command
    def confirm(self, project_id, *, effective_date) -> Project:
        """After the notice has run its days, the project takes effect (生效实施)."""
        return self._step(project_id, lambda project: project.confirm(effective_date))

    def _step(self, project_id, act):
        project = self.get_project(project_id)
        act(project)
        self.save(project)
        return project

    # -- disbursements --------------------------------------------------------------------
    @command
    def disburse(
        self, *, project_id, year, amount_fen, account, effective_date, payee=None
    ) -> Disbursement:
        """Pay a project-year's subsidy (FundDisbursed). ``payee`` is the registry's record of
        the applicant expert (None for a unit applicant). The project-year's ledger and the
        region's quota change in the same atomic save as the payment itself."""
        project = self.referenced_project(project_id)
        programme = self.get_programme(project.programme_id)
        project.check_payable(year, effective_date)
        project.check_payee(payee, pii.keyed_hash(self.pii_hash_key, account), effective_date)
        ledger = self._ledger(project, year, programme.cap_fen(project))
        disbursement = project.disbursement(
            year, amount_fen, pii.normalise(account), effective_date
        )
        ledger.record_disbursement(str(disbursement.id), amount_fen, effective_date)
        changed = [disbursement, ledger]
        if project.quota_region:
            quota = self.quota(project.programme_id, project.quota_region)
            quota.take(str(project.id), effective_date)
            changed.append(quota)
        self.save(*changed)
        return disbursement

    def get_disbursement(self, disbursement_id) -> Disbursement:
        return self._get(disbursement_id, Disbursement, "disbursement")

    def _ledger(self, project, year, cap_fen) -> ProjectYear:
        """What the project-year has been paid so far (opened with its first payment)."""
        ledger_id = ProjectYear.create_id(str(project.id), year)
        if self._exists(ledger_id):
            return self.repository.get(ledger_id)
        return ProjectYear(project_id=str(project.id), year=year, cap_fen=cap_fen)

    # -- helpers --------------------------------------------------------------------------
    def _referenced(self, aggregate_id, cls, what):
        """A record named in a request body: unknown is a refusal of the request (422)."""
        try:
            return self._get(aggregate_id, cls, what)
        except NotFound:
            raise RuleViolation(
                f"no {what} with id {aggregate_id}", {f"{what}_id": ["not found"]}
            ) from None
