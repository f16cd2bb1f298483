"""AwardsApplication: the write side of award rounds (表扬嘉奖).

The service gathers the evidence other services hold (hours from the registry's service logs,
rectification state from supervision) and passes it in; every rule is decided here and in the
domain, and every command that records several aggregates saves them in one atomic save.
"""

import uuid

from kernel.application import ServiceApplication, command
from kernel.errors import Conflict, RuleViolation
from kernel.places import canonical_place, canonical_province, canonical_unit
from services.awards.domain import (
    ACTIVE,
    NAMING_FIELDS,
    AwardRound,
    Commendation,
    Nomination,
    hours_check,
    nominee_key,
    prior_commendation_check,
    rectification_check,
    refuse_unless_eligible,
)


class AwardsApplication(ServiceApplication):
    name = "awards"
    sealed_events = NAMING_FIELDS

    # -- rounds ---------------------------------------------------------------------------
    @command
    def configure_round(self, *, effective_date, name=None, eligibility=None, **form) -> AwardRound:
        form["key_provinces"] = [
            canonical_province(p, "key_provinces") for p in form.get("key_provinces", ())
        ]
        round_id = AwardRound.create_id(form["year"])
        if self._exists(round_id):
            raise Conflict(
                f"the {form['year']} round is already configured",
                {"year": ["a round for this year exists"], "round_id": [str(round_id)]},
            )
        award_round = AwardRound(
            name=name or f"{form['year']}年度科技助力精准扶贫表扬",
            eligibility=eligibility,
            effective_date=effective_date,
            **form,
        )
        self.save(award_round)
        return award_round

    def get_round(self, round_id) -> AwardRound:
        return self._get(round_id, AwardRound, "round")

    @command
    def endorse_outstanding(self, round_id, expert_id, justification, effective_date) -> AwardRound:
        """The national office records an "especially outstanding" justification (§001 第六条(三)2)."""
        award_round = self.get_round(round_id)
        award_round.endorse(expert_id, justification, effective_date)
        self.save(award_round)
        return award_round

    # -- nominations ----------------------------------------------------------------------
    @command
    def nominate(self, round_id, *, unit, category, form, evidence, effective_date) -> Nomination:
        """Guards in order: the round takes nominations (open, by the deadline, the category), the
        nominee is not yet nominated (409), the unit's quota has room, the nominee is eligible.
        ``evidence`` holds what other services said: ``hours`` or ``rectification``."""
        unit = canonical_unit(unit)
        if form.get("area") is not None:
            form = {**form, "area": canonical_place(form["area"], "area")}
        award_round = self.get_round(round_id)
        award_round.guard_nominating(category, effective_date)
        nominee = nominee_key(category, unit, form)
        nomination_id = Nomination.create_id(str(award_round.id), nominee)
        if self._exists(nomination_id):
            raise Conflict(
                f"{nominee} is already nominated in the {award_round.year} round",
                {"nominee": ["already nominated"], "nomination_id": [str(nomination_id)]},
            )
        award_round.take_quota(unit, category, str(nomination_id))
        checks = self.checks(award_round, category, nominee, form, evidence)
        refuse_unless_eligible(checks)
        nomination = Nomination(
            round_id=str(award_round.id),
            nominee=nominee,
            category=category,
            unit=unit,
            form=form,
            checks=checks,
            effective_date=effective_date,
        )
        self.save(award_round, nomination, result_id=nomination.id)
        return nomination

    def checks(self, award_round, category, nominee, form, evidence):
        """The rule checks with their evidence, in the order the eligibility response lists them."""
        checks = []
        if category == "individual":
            checks.append(hours_check(award_round, form["expert_id"], evidence["hours"]))
        if category == "organising_unit":
            checks.append(rectification_check(evidence["rectification"], evidence["as_of"]))
        checks.append(
            prior_commendation_check(award_round, self.prior_commendations(award_round, nominee))
        )
        return checks

    def eligibility(self, nomination_id, evidence):
        """The checks as they stand now (for a recorded nomination)."""
        nomination = self.get_nomination(nomination_id)
        award_round = self.get_round(nomination.round_id)
        return self.checks(
            award_round, nomination.category, nomination.nominee, nomination.form, evidence
        )

    def prior_commendations(self, award_round, nominee):
        since = award_round.prior_commendation_since
        if since is None:
            return []
        found = []
        for year in range(since, award_round.year):
            commendation_id = Commendation.create_id(nominee, year)
            if self._exists(commendation_id):
                found.append(self.repository.get(commendation_id))
        return found

    def get_nomination(self, nomination_id) -> Nomination:
        return self._get(nomination_id, Nomination, "nomination")

    # -- public notice --------------------------------------------------------------------
    @command
    def publicize(self, round_id, effective_date) -> AwardRound:
        """Publish the list: NominationPublicized for each active nomination, with the window."""
        award_round = self.get_round(round_id)
        award_round.publicize(effective_date)
        nominations = [self.get_nomination(n) for n in award_round.nominations]
        nominations = [n for n in nominations if n.status in ACTIVE]
        if not nominations:
            raise RuleViolation("there is nothing to publish", {"round_id": ["no nominations"]})
        for nomination in nominations:
            nomination.publicize(award_round.notice_start, award_round.notice_end)
        self.save(award_round, *nominations)
        return award_round

    @command(
        reread=lambda app, result_id: (
            app.get_nomination(result_id.split("/")[0]),
            result_id.split("/")[1],
        )
    )
    def raise_objection(self, nomination_id, reason, raised_by, effective_date):
        nomination = self.get_nomination(nomination_id)
        objection_id = str(uuid.uuid4())
        nomination.raise_objection(objection_id, reason, raised_by, effective_date)
        self.save(nomination, result_id=f"{nomination.id}/{objection_id}")
        return nomination, objection_id

    @command
    def resolve_objection(
        self, nomination_id, objection_id, upheld, comment, effective_date
    ) -> Nomination:
        nomination = self.get_nomination(nomination_id)
        nomination.resolve_objection(objection_id, upheld, comment, effective_date)
        self.save(nomination)
        return nomination

    @command(reread=lambda app, round_id: app.conferred(round_id))
    def commend(self, round_id, selected, effective_date):
        """After the notice: confer the awards on the selected publicized nominations (default all),
        within the national totals; no objection may be left unresolved. Each award is also
        recorded as a commendation of the round's year, for the next rounds."""
        award_round = self.get_round(round_id)
        award_round.guard_commending(effective_date)
        nominations = [self.get_nomination(n) for n in award_round.nominations]
        pending = {
            str(n.id): n.unresolved_objections() for n in nominations if n.unresolved_objections()
        }
        if pending:
            raise RuleViolation(
                "objections are still unresolved",
                {"objections": [f"{nid}: {len(o)} unresolved" for nid, o in pending.items()]},
            )
        publicized = {str(n.id): n for n in nominations if n.status == "publicized"}
        if selected is not None:
            unknown = [nid for nid in selected if nid not in publicized]
            if unknown:
                raise RuleViolation(
                    "only nominations under this round's notice can be commended",
                    {"nomination_ids": [f"{nid}: not publicized in this round" for nid in unknown]},
                )
        chosen = [publicized[nid] for nid in (selected if selected is not None else publicized)]
        conferred = {}
        for nomination in chosen:
            conferred[nomination.category] = conferred.get(nomination.category, 0) + 1
        award_round.commend(conferred, effective_date)
        commendations = []
        for nomination in chosen:
            nomination.confer(award_round.year, effective_date)
            commendations.append(
                Commendation(
                    nominee=nomination.nominee,
                    year=award_round.year,
                    category=nomination.category,
                    unit=nomination.unit,
                    name=display_name(nomination),
                    source=str(nomination.id),
                    effective_date=effective_date,
                )
            )
        self.save(award_round, *chosen, *[c for c in commendations if not self._exists(c.id)])
        return award_round, chosen

    @command
    def revoke(self, nomination_id, reason, effective_date) -> Nomination:
        """Revoke for false material (撤销评选资格, §002 四(五)); a conferred award's commendation
        stops counting for later rounds. History stays in the log."""
        nomination = self.get_nomination(nomination_id)
        was_conferred = nomination.status == "conferred"
        nomination.revoke(reason, effective_date)
        aggregates = [nomination]
        if was_conferred:
            year = self.get_round(nomination.round_id).year
            commendation = self.repository.get(Commendation.create_id(nomination.nominee, year))
            if commendation.source == str(nomination.id) and commendation.revoked_on is None:
                commendation.revoke(reason, effective_date)
                aggregates.append(commendation)
        self.save(*aggregates)
        return nomination

    def conferred(self, round_id):
        """The round and its conferred nominations: what ``commend`` answers."""
        award_round = self.get_round(round_id)
        nominations = [self.get_nomination(n) for n in award_round.nominations]
        return award_round, [n for n in nominations if n.status == "conferred"]

    # -- past commendations ---------------------------------------------------------------
    @command
    def record_commendation(
        self, *, year, category, unit, effective_date, expert_id=None, team_name=None, name=None
    ) -> Commendation:
        unit = canonical_unit(unit)
        nominee = nominee_key(
            category, unit, {"expert_id": expert_id, "team_name": team_name or ""}
        )
        commendation_id = Commendation.create_id(nominee, year)
        if self._exists(commendation_id):
            raise Conflict(
                f"{nominee} is already recorded as commended in {year}",
                {"year": ["already recorded"], "commendation_id": [str(commendation_id)]},
            )
        commendation = Commendation(
            nominee=nominee,
            year=year,
            category=category,
            unit=unit,
            name=name or team_name or expert_id or unit,
            source="record",
            effective_date=effective_date,
        )
        self.save(commendation)
        return commendation

    # -- helpers --------------------------------------------------------------------------


def display_name(nomination):
    form = nomination.form
    return form.get("team_name") or form.get("name") or form.get("expert_id") or nomination.unit
