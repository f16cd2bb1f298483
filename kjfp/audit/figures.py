"""Figures from the logs alone: the records and events behind a 两数 figure (explain), and the
statistics table or the 两数 of a unit at named log positions (report). Both rebuild what they
need from the stored events with the key, in memory, and name each log's position, chain hash
and the signed checkpoint that holds it, so anyone holding the same logs gets the same bytes.

The checkpoint named is the smallest signed one stored with the log (or carried by the export)
whose tree holds every event up to the position, as the services name it beside their figures;
it is checked against the log read: the Merkle tree over its events up to the checkpoint's size
must have the root it signs (``CheckpointMismatch`` otherwise). Checking its signature takes
the verifier key (``kjfp audit report --key``)."""

import json

from kernel import merkle
from kernel.chain import GENESIS, event_bytes, link
from kernel.errors import RuleViolation
from kernel.merkle import ProofError
from kernel.note import Checkpoint
from kernel.outbox import payload_of, public_name
from kernel.pii import mask_fields
from kernel.tree import b64
from kjfp.audit.replay import Replayer
from kjfp.audit.scratch import ScratchViews
from services.funding import queries as funding_queries
from services.registry import queries as registry_queries
from services.registry.domain import METRICS
from services.supervision.statistics import statistics_table


def _stop(log, at):
    last = log.last_position()
    if at is not None and at > last:
        raise RuleViolation(
            f"the {log.service} log ends at {last}", {"at": [f"beyond the end of the log ({last})"]}
        )
    return last if at is None else at


class CheckpointMismatch(Exception):
    """The log read is not the history the signed checkpoint stored with it signs."""


def covering(log, position):
    """The smallest signed checkpoint of ``log`` whose tree holds every event up to
    ``position`` (the one a service names beside a figure computed there), or None. Only those
    whose events the log holds (an export written while the service ran may carry a checkpoint
    signed after its last event was read)."""
    if not position:
        return None
    last = log.last_position()
    held = [item for item in log.signed() if position <= item["position"] <= last]
    return min(held, key=lambda item: item["tree_size"]) if held else None


class _Anchored:
    """A log read once for two things: what is built from it, and its chain hash at the stop —
    what a reader checks to know they hold the same log — with the signed checkpoint that holds
    it, checked against the events read."""

    def __init__(self, log, stop):
        self.log, self.stop, self.chain = log, stop, GENESIS
        self.service, self.service_log = log.service, log.service_log
        self.tree, self.read_to = merkle.CompactRange(), 0

    def batches(self, after=0, stop=None):
        for batch in self.log.batches(after, stop):
            for notification in batch:
                self.chain = link(self.chain, notification)
                self.tree.push(merkle.leaf_hash(event_bytes(notification)))
            self.read_to = batch[-1].id
            yield batch

    def anchor(self):
        return {"position": self.stop, "chain_hash": self.chain, "checkpoint": self._checkpoint()}

    def _checkpoint(self):
        found = covering(self.log, self.stop)
        if found is None:
            return None
        for batch in self.log.batches(self.read_to, found["position"]):  # held beyond the stop too
            for notification in batch:
                self.tree.push(merkle.leaf_hash(event_bytes(notification)))
        try:  # what the note says (its signature is the key holder's to check: --key)
            signs = Checkpoint.parse(found["note"][: found["note"].rfind("\n\n") + 1])
        except ProofError as bad:
            raise CheckpointMismatch(
                f"{self.service}: the checkpoint of {found['tree_size']} leaves: {bad}"
            ) from bad
        held = (self.tree.size, b64(self.tree.root()))
        if held != (found["tree_size"], found["root_hash"]) or held != (
            signs.tree_size,
            b64(signs.root_hash),
        ):
            raise CheckpointMismatch(
                f"{self.service}: the {self.tree.size} events up to position {found['position']} are not "
                f"the tree the checkpoint of {found['tree_size']} leaves signs (root {found['root_hash']})"
            )
        return {key: found[key] for key in ("tree_size", "root_hash", "position", "note")}


def _views_at(log, cipher_key, stop):
    """The log's views at ``stop`` (queryable), and its anchor there."""
    anchored, views = _Anchored(log, stop), ScratchViews()
    Replayer(anchored, log.scratch(cipher_key).mapper, views).run_to(stop)  # the log's own keys
    return views.queryable(), anchored.anchor()


def explain(registry_log, cipher_key, unit, metric, as_of, at=None):
    """The figure, its records and every event they rest on (personal numbers masked)."""
    views, anchor = explained_views(registry_log, cipher_key, metric, at)
    records = list(registry_queries.explain_records(views, unit, metric, as_of))
    figure = registry_queries.figures(views, unit, as_of)[metric]
    wanted = {p for record in records for p in record["positions"]}
    mapper = registry_log.scratch(cipher_key).mapper
    personal = registry_log.service_log.personal_fields
    events = []
    for batch in registry_log.batches(0, anchor["position"]):
        for notification in batch:
            if notification.id in wanted:
                e = mapper.to_domain_event(notification)
                events.append(
                    {
                        "position": notification.id,
                        "type": public_name(e),
                        "originator_id": str(notification.originator_id),
                        "version": notification.originator_version,
                        "occurred_at": e.timestamp.isoformat(),
                        "payload": mask_fields(payload_of(e), personal),
                    }
                )
    return {
        "unit": unit,
        "metric": metric,
        "as_of": as_of,
        "figure": figure,
        "records": records,
        "events": events,
        "logs": {"registry": anchor},
    }


def explain_csv(registry_log, cipher_key, unit, metric, as_of, at=None):
    """Every record behind the figure as CSV lines (the HTTP API's ``format=csv``), a page at a
    time once the views are rebuilt."""
    views, _ = explained_views(registry_log, cipher_key, metric, at)
    return registry_queries.csv_lines(
        metric, registry_queries.explain_records(views, unit, metric, as_of)
    )


def explained_views(registry_log, cipher_key, metric, at):
    if metric not in METRICS:
        raise RuleViolation(f"no metric {metric!r}", {"metric": [f"one of {', '.join(METRICS)}"]})
    return _views_at(registry_log, cipher_key, _stop(registry_log, at))


def report(logs, cipher_key, unit, campaign_id=None, as_of=None, at=None):
    """The statistics table of ``unit`` in a campaign (as of its cut-off), or without a campaign
    the 两数 and funds of ``unit`` as of ``as_of``; ``at`` names log positions (default: ends)."""
    at = at or {}
    unknown = sorted(set(at) - set(logs))
    if unknown:
        raise RuleViolation(
            f"no log {', '.join(unknown)} to stop at", {"at": [f"one of {', '.join(logs)}"]}
        )
    stops = {name: _stop(log, at.get(name)) for name, log in logs.items()}
    anchors, campaign, report_filed = {}, None, None
    if campaign_id is not None:
        supervision = logs["supervision"].scratch(cipher_key)
        anchored = _Anchored(logs["supervision"], stops["supervision"])
        for batch in anchored.batches(0, stops["supervision"]):
            supervision.recorder.insert_events(list(batch))
        anchors["supervision"] = anchored.anchor()
        campaign = supervision.get_campaign(campaign_id)
        if unit not in campaign.units:
            raise RuleViolation(
                f"the campaign does not cover {unit}", {"unit": ["not covered by the campaign"]}
            )
        report_filed = supervision.self_inspection(campaign_id, unit)
        as_of = campaign.cutoff
    if as_of is None:
        raise RuleViolation("a report is as of a date", {"as_of": ["give a date, or a campaign"]})
    views, anchors["registry"] = _views_at(logs["registry"], cipher_key, stops["registry"])
    counts = registry_queries.two_counts(views, unit, as_of)
    funds = None
    if "funding" in logs:
        views, anchors["funding"] = _views_at(logs["funding"], cipher_key, stops["funding"])
        funds = funding_queries.summary(views, unit, None, as_of)
    body = (
        {"statistics_table": statistics_table(campaign, unit, report_filed, counts, funds)}
        if campaign
        else {"two_counts": counts, "funds": funds}
    )
    return {"unit": unit, "as_of": as_of, **body, "logs": dict(sorted(anchors.items()))}


def dumps(document):
    """The one rendering of a figure document: stable key order, UTF-8, a final newline."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
