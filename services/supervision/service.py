"""Nameko adapter for supervision: RPC methods check who may act (access.py), then call the
Application."""

from datetime import date

from kernel.acting import PeerRpcProxy, asked
from kernel.auth import NATIONWIDE_READERS, authorize_read
from kernel.errors import EXPECTED, RuleViolation
from kernel.places import canonical_unit
from kernel.sealed import rpc
from kernel.service_parts import LogService
from services.supervision import SERVICE, access, presenters, queries
from services.supervision.statistics import statistics_table


class SupervisionService(LogService, serves=SERVICE):
    registry = PeerRpcProxy("registry")
    funding = PeerRpcProxy("funding")

    # -- campaigns ------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def launch_campaign(self, form, idempotency=None):
        access.authorize_campaign(self.actor)
        campaign = self.parts.app.launch_campaign(**form, idempotency=self._keyed(idempotency))
        return presenters.campaign_view(campaign)

    @rpc(expected_exceptions=EXPECTED)
    def get_campaign(self, campaign_id):
        return presenters.campaign_view(self.parts.app.get_campaign(campaign_id))

    @rpc(expected_exceptions=EXPECTED)
    def campaigns(self, year=None, cursor=0, limit=100):
        """A page of the campaigns in launch order (``next_cursor``: pass it back as ``cursor``)."""
        _, (docs, next_cursor) = self.parts.read(
            lambda v: queries.campaigns(v, year, cursor, limit)
        )
        return {"items": [presenters.campaign_listing(d) for d in docs], "next_cursor": next_cursor}

    @rpc(expected_exceptions=EXPECTED)
    def schedule_field_inspection(self, campaign_id, form, idempotency=None):
        access.authorize_campaign(self.actor)
        return presenters.campaign_view(
            self.parts.app.schedule_field_inspection(
                campaign_id, **form, idempotency=self._keyed(idempotency)
            )
        )

    @rpc(expected_exceptions=EXPECTED)
    def close_campaign(self, campaign_id, form, idempotency=None):
        access.authorize_campaign(self.actor)
        return presenters.campaign_view(
            self.parts.app.close_campaign(campaign_id, **form, idempotency=self._keyed(idempotency))
        )

    # -- self-inspection and the statistics table -----------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def submit_self_inspection(self, campaign_id, form, idempotency=None):
        access.authorize_self_inspection(self.actor, form["unit"])
        form = {**form, "unit": canonical_unit(form["unit"])}
        report = self.parts.app.submit_self_inspection(
            campaign_id, **form, idempotency=self._keyed(idempotency)
        )
        return presenters.self_inspection_view(report)

    @rpc(expected_exceptions=EXPECTED)
    def statistics_table(self, campaign_id, unit):
        """Declared beside registered as of the campaign's cut-off, with every discrepancy, and
        the log position and signed checkpoint of each log it rests on."""
        authorize_read(self.actor, unit)
        position, campaign, report = self._campaign_at(campaign_id, unit)
        counts = self.registry.two_counts(unit, campaign.cutoff)
        funds = self._funds(unit, campaign.cutoff)
        positions = {
            **counts["positions"],
            **(funds or {}).get("positions", {}),
            "supervision": position,
        }
        checkpoints = {
            **counts["checkpoints"],
            **(funds or {}).get("checkpoints", {}),
            "supervision": self._checkpoint(position),
        }
        return {
            **statistics_table(campaign, unit, report, counts, funds),
            "positions": positions,
            "checkpoints": checkpoints,
        }

    def _campaign_at(self, campaign_id, unit, tries=5):
        """``(position, campaign, self-inspection)`` read at one log position: the head is read
        before and after, and the read repeated if an event came in between (else the position
        named could be one the table was not computed at)."""
        app = self.parts.app
        for _ in range(tries):
            position = app.recorder.max_notification_id() or 0
            campaign = app.get_campaign(campaign_id)
            if unit not in campaign.units:
                raise RuleViolation(
                    f"the campaign does not cover {unit}", {"unit": ["not covered by the campaign"]}
                )
            report = app.self_inspection(campaign_id, unit)
            if (app.recorder.max_notification_id() or 0) == position:
                break
        else:  # still moving: name the later head, which at least holds everything read
            position = app.recorder.max_notification_id() or 0
        return position, campaign, report

    def _funds(self, unit, as_of):
        """The funding ledger's figures, or None when no funding service answers in time (item 11
        then shows as not available rather than as zero)."""
        return asked(self.funding.summary, unit, None, as_of)

    # -- field inspection -----------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_finding(self, campaign_id, form, idempotency=None):
        access.authorize_finding(self.actor)
        finding = self.parts.app.record_finding(
            campaign_id,
            inspector=self.actor.subject,
            **form,
            idempotency=self._keyed(idempotency),
        )
        return presenters.finding_view(finding)

    # -- rectification --------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def move_rectification(self, move, rectification_id, form, idempotency=None):
        """progress / submit by the responsible unit; verify / reopen by an inspector or the
        national office."""
        actor, app = self.actor, self.parts.app
        access.authorize_rectification_move(actor, move)
        if move in access.WORK:
            rectification = app.work_on_rectification(
                rectification_id,
                move,
                actor.scope,
                **form,
                idempotency=self._keyed(idempotency),
            )
        else:
            rectification = app.check_rectification(
                rectification_id,
                move,
                actor.subject,
                actor.role == "national_office",
                **form,
                idempotency=self._keyed(idempotency),
            )
        return presenters.rectification_view(rectification, date.today().isoformat())

    @rpc(expected_exceptions=EXPECTED)
    def rectifications(
        self, unit=None, campaign=None, status=None, as_of=None, cursor=0, limit=100
    ):
        actor = self.actor
        if unit is None and actor.role not in NATIONWIDE_READERS and actor.scope != "national":
            unit = actor.scope
        if unit is not None:
            authorize_read(actor, unit)
        as_of = as_of or date.today().isoformat()
        _, (page, next_cursor) = self.parts.read(
            lambda v: queries.rectifications(v, as_of, unit, campaign, status, cursor, limit)
        )
        return {
            "items": [presenters.tracked_rectification(doc, as_of) for doc in page],
            "next_cursor": next_cursor,
        }

    @rpc(expected_exceptions=EXPECTED)
    def rectification_summary(self, unit=None, as_of=None, campaign=None):
        """Open, overdue and verified items of a unit as of a date (awards ask this too)."""
        as_of = as_of or date.today().isoformat()
        position, result = self.parts.read(lambda v: queries.summary(v, as_of, unit, campaign))
        return {**result, "positions": {"supervision": position}}

    # -- spot checks ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def draw_spot_check(self, campaign_id, form, idempotency=None):
        """Draw provinces from the seed, then records from each province's register as it stood
        at one registry log position; the same seed and position always give the same sample."""
        access.authorize_spot_check(self.actor)
        app = self.parts.app
        provinces = app.draw_provinces(campaign_id, form["seed"], form["provinces"])
        frame = self.registry.frame_sizes(provinces, form.get("at_position"))
        spot_check = app.record_spot_check(
            campaign_id,
            seed=form["seed"],
            provinces=provinces,
            records_per_province=form["records_per_province"],
            registry_position=frame["position"],
            frame_sizes=frame["sizes"],
            lookup=lambda province, ordinals: self.registry.frame_records(
                province, ordinals, frame["position"]
            ),
            effective_date=form["effective_date"],
            idempotency=self._keyed(idempotency),
        )
        return presenters.spot_check_view(spot_check)
