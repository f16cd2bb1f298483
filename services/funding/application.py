"""FundingApplication: the funding write side (commands validate, then record events).

It knows nothing of nameko: what it needs of the registry (an expert's standing and the keyed
hash of the registered account, ``payee``) comes in as an argument.
"""

from kernel import pii
from kernel.application import ServiceApplication, command
from kernel.errors import NotFound, RuleViolation, ValidationFailed
from kernel.places import PlaceError, Unit, canonical_unit
from services.funding.domain import (
    APPLICANTS, KINDS, KNOWN_LEVELS, LEVEL_KINDS, Disbursement, Programme, Project, ProjectYear,
    RegionQuota, guard_not_revoked, region_covers)


def check_programme(form):
    """A programme's configuration must hang together; every fault names its field (400)."""
    problems = {}

    def fault(field, message):
        problems.setdefault(field, []).append(message)

    unit = form["unit"]
    try:
        unit_kind = Unit.parse(unit).kind
    except PlaceError as bad:
        unit_kind = None
        fault("unit", str(bad))
    if unit_kind not in (None, "national", "province"):
        fault("unit", "a programme belongs to national or to a province")
    if form["until_year"] < form["year"]:
        fault("until_year", "before year")
    codes = [k["code"] for k in form["project_kinds"]]
    if not codes or len(set(codes)) != len(codes) or not set(codes) <= set(KINDS):
        fault("project_kinds", f"distinct codes among {', '.join(KINDS)}")
    for entry in form["project_kinds"]:
        if not entry["applicants"] or not set(entry["applicants"]) <= set(APPLICANTS):
            fault("project_kinds", f"{entry['code']}: applicants among {', '.join(APPLICANTS)}")
    levels = form["approval_levels"]
    if not levels or len(set(levels)) != len(levels):
        fault("approval_levels", "at least one level, each once")
    for level in levels:
        if form["level_scopes"].get(level, KNOWN_LEVELS.get(level)) not in LEVEL_KINDS:
            fault("level_scopes", f"{level}: say which unit level reviews it ({', '.join(LEVEL_KINDS)})")
    for level in set(form["level_scopes"]) - set(levels):
        fault("level_scopes", f"{level}: not one of the approval levels")
    for region, places in form["quotas"].items():
        try:
            kind = Unit.parse(region).kind
        except PlaceError as bad:
            fault("quotas", str(bad))
            continue
        if kind not in ("province", "city", "county"):
            fault("quotas", f"{region}: a quota belongs to a province, city or county")
        elif unit_kind and not region_covers(unit, region):
            fault("quotas", f"{region}: outside the programme's unit {unit}")
        if not isinstance(places, int) or isinstance(places, bool) or places < 0:
            fault("quotas", f"{region}: a number of places (0 or more)")
    subsidy = form["subsidy_fen_per_project_year"]
    if subsidy is not None and (not isinstance(subsidy, int) or subsidy <= 0):
        fault("subsidy_fen_per_project_year", "a positive number of fen, or null for free amounts")
    if form["notice_days"] < 1:
        fault("notice_days", "at least one day")
    if problems:
        raise ValidationFailed("the programme's configuration does not hang together", problems)


class FundingApplication(ServiceApplication):
    name = "funding"

    # -- programmes -----------------------------------------------------------------------
    @command
    def configure_programme(self, *, effective_date, **form) -> Programme:
        form["until_year"] = form.get("until_year") or form["year"]
        scopes = form.get("level_scopes") or {}
        check_programme({**form, "level_scopes": scopes})
        form["unit"] = str(Unit.parse(form["unit"]))
        form["quotas"] = {str(Unit.parse(region)): places for region, places in form["quotas"].items()}
        form["level_scopes"] = {level: scopes.get(level, KNOWN_LEVELS.get(level)) for level in form["approval_levels"]}
        programme = Programme(effective_date=effective_date, **form)
        quotas = [RegionQuota(programme_id=str(programme.id), region=region, total=places)
                  for region, places in sorted(form["quotas"].items())]
        self.save(programme, *quotas)
        return programme

    def get_programme(self, programme_id) -> Programme:
        return self._get(programme_id, Programme, "programme")

    def quota(self, programme_id, region) -> RegionQuota:
        return self.repository.get(RegionQuota.create_id(programme_id, region))

    # -- projects -------------------------------------------------------------------------
    @command
    def apply(self, *, programme_id, applicant, kind, region, villages, content, year, effective_date,
              unit=None, until_year=None, amount_fen=None, expert=None) -> Project:
        """A project application. ``expert`` is the registry's payee record of an individual
        applicant (None for a unit)."""
        programme = self._referenced(programme_id, Programme, "programme")
        region = canonical_unit(region, "region", kinds=("province", "city", "county"))
        unit = canonical_unit(unit, kinds=("province", "society")) if unit is not None else None
        allowed = programme.applicants_for(kind)
        if allowed is None:
            raise RuleViolation(f"{kind} is not a project kind of this programme",
                                {"kind": ["not a project kind of this programme"]})
        if applicant["type"] not in allowed:
            raise RuleViolation(f"{kind} projects of this programme are open to: {', '.join(allowed)}",
                                {"applicant.type": [f"{kind} projects are open to: {', '.join(allowed)}"]})
        if applicant["type"] == "individual":
            if expert is None:
                raise RuleViolation("an individual applicant must be a registered expert",
                                    {"applicant.expert_id": ["not registered"]})
            guard_not_revoked(expert, effective_date)
        if not region_covers(programme.unit, region):
            raise RuleViolation(f"{region} is outside the programme's unit {programme.unit}",
                                {"region": [f"outside {programme.unit}"]})
        until_year = until_year or year
        if not (programme.year <= year <= until_year <= programme.until_year):
            raise RuleViolation(f"the programme runs {programme.year}–{programme.until_year}",
                                {"year": [f"the programme runs {programme.year}–{programme.until_year}"]})
        if programme.free_amounts and amount_fen is None:
            raise RuleViolation("this programme has free amounts: say how much a year the project asks",
                                {"amount_fen": ["required: the programme has free amounts"]})
        if not programme.free_amounts and amount_fen is not None:
            raise RuleViolation("this programme pays a fixed subsidy per project-year",
                                {"amount_fen": [f"fixed by the programme: {programme.subsidy_fen_per_project_year} fen"]})
        if effective_date < programme.configured_on:
            raise RuleViolation("the programme was not yet configured then",
                                {"effective_date": [f"before the programme ({programme.configured_on})"]})
        project = Project(
            programme_id=str(programme.id), applicant=applicant, kind=kind, region=region,
            unit=unit or str(Unit.parse(region).lineage[1]), villages=villages, content=content, year=year,
            until_year=until_year, amount_fen=amount_fen, approval_levels=programme.approval_levels,
            quota_region=programme.quota_region_for(region),
            no_subsidy_reason=programme.no_subsidy_reason(applicant, kind), effective_date=effective_date)
        self.save(project)
        return project

    def get_project(self, project_id) -> Project:
        return self._get(project_id, Project, "project")

    def referenced_project(self, project_id) -> Project:
        return self._referenced(project_id, Project, "project")

    @command
    def review(self, project_id, *, level, decision, comment, effective_date) -> Project:
        return self._step(project_id,
                          lambda project: project.review(level, decision, comment, effective_date))

    @command
    def publicize(self, project_id, *, effective_date) -> Project:
        """Start the public notice (公示): it runs ``notice_days`` days from the effective date."""
        return self._step(project_id, lambda project: project.publicize(
            self.get_programme(project.programme_id).notice_days, effective_date))

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
    def disburse(self, *, project_id, year, amount_fen, account, effective_date, payee=None) -> Disbursement:
        """Pay a project-year's subsidy (FundDisbursed). ``payee`` is the registry's record of
        the applicant expert (None for a unit applicant). The project-year's ledger and the
        region's quota change in the same atomic save as the payment itself."""
        project = self.referenced_project(project_id)
        programme = self.get_programme(project.programme_id)
        if not project.effective:
            raise RuleViolation(f"the project is {project.status}: no payment before approval and publicity",
                                {"project_id": [f"not effective ({project.status})"]})
        if effective_date < project.confirmed_on:
            raise RuleViolation("the project was not yet effective then",
                                {"effective_date": [f"before the project took effect ({project.confirmed_on})"]})
        if not project.covers_year(year):
            raise RuleViolation(f"the project runs {project.year}–{project.until_year}",
                                {"year": [f"not an implementation year of the project ({project.year}–{project.until_year})"]})
        if year > int(effective_date[:4]):
            raise RuleViolation(f"{year} has not begun", {"year": ["a year that has not begun"]})
        if project.no_subsidy_reason:
            raise RuleViolation(project.no_subsidy_reason, {"project_id": [project.no_subsidy_reason]})
        expert_id = project.applicant.get("expert_id")
        if expert_id:
            if payee is None or payee["expert_id"] != expert_id:
                raise RuleViolation("the payee is not the project's expert", {"account": ["no registered payee"]})
            guard_not_revoked(payee, effective_date)
            if not payee["bank_account_hash"] or payee["bank_account_hash"] != pii.keyed_hash(self.pii_hash_key, account):
                raise RuleViolation("subsidies are paid only into the expert's registered personal account",
                                    {"account": ["not the expert's registered account"]})
        cap = programme.subsidy_fen_per_project_year if not programme.free_amounts else project.amount_fen
        ledger_id = ProjectYear.create_id(str(project.id), year)
        ledger = (self.repository.get(ledger_id) if self._exists(ledger_id)
                  else ProjectYear(project_id=str(project.id), year=year, cap_fen=cap))
        disbursement = Disbursement(
            project_id=str(project.id), programme_id=project.programme_id, year=year, amount_fen=amount_fen,
            account=pii.normalise(account), expert_id=expert_id, region=project.region, unit=project.unit,
            quota_region=project.quota_region, trail=project.trail, effective_date=effective_date)
        ledger.pay(str(disbursement.id), amount_fen, effective_date)
        changed = [disbursement, ledger]
        if project.quota_region:
            quota = self.quota(project.programme_id, project.quota_region)
            quota.take(str(project.id), effective_date)
            changed.append(quota)
        self.save(*changed)
        return disbursement

    def get_disbursement(self, disbursement_id) -> Disbursement:
        return self._get(disbursement_id, Disbursement, "disbursement")

    # -- helpers --------------------------------------------------------------------------
    def _referenced(self, aggregate_id, cls, what):
        """A record named in a request body: unknown is a refusal of the request (422)."""
        try:
            return self._get(aggregate_id, cls, what)
        except NotFound:
            raise RuleViolation(f"no {what} with id {aggregate_id}", {f"{what}_id": ["not found"]})

