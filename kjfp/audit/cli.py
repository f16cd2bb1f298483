"""``kjfp audit``: the auditor's tools, over the raw event stores or exports, services not needed.

The stores are the ones the environment names (EVENT_STORE, POSTGRES_*, KJFP_DATA_DIR), or the
SQLite files in ``--data-dir``, or the export files in ``--exports``. Verify and export need no
key; replay, explain and report decode events and need CIPHER_KEY.
Exit status: 0 all well, 1 a broken chain or a difference found, 2 a usage or input error.
"""

import dataclasses
import json
import sys
from base64 import b64encode
from contextlib import contextmanager
from pathlib import Path

import click
from tqdm import tqdm

from kernel import config
from kernel.errors import DomainError


class AuditError(click.ClickException):
    exit_code = 2


@click.group()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Read the embedded SQLite stores in this directory.",
)
@click.option(
    "--exports",
    type=click.Path(exists=True, file_okay=False),
    help="Read <service>.jsonl exports here.",
)
@click.pass_context
def audit(ctx, data_dir, exports):
    """Auditor tools: verify, export, replay, explain, report, prove, check-proof, witness."""
    settings = config.load()
    if data_dir:
        settings = dataclasses.replace(settings, event_store="sqlite", data_dir=Path(data_dir))
    ctx.obj = {"settings": settings, "exports": exports}


@contextmanager
def _input_errors():
    try:
        yield
    except (KeyError, FileNotFoundError, ValueError) as problem:
        raise AuditError(problem.args[0] if problem.args else str(problem)) from problem
    except DomainError as problem:
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in problem.details.items())
        raise AuditError(f"{problem.message} ({fields})") from problem


def _logs(ctx, services, optional=()):
    """The logs named (or all there are), closed when the command ends."""
    from kjfp.audit.logs import open_logs

    with _input_errors():
        logs = open_logs(ctx.obj["settings"], services or None, ctx.obj["exports"], optional)
    if not services:
        from kjfp.bootstrap import declarations

        for name in sorted(set(declarations()) - set(logs)):
            click.echo(f"{name}: no event log here (skipped)", err=True)
    for log in logs.values():
        ctx.call_on_close(log.close)
    return logs


@contextmanager
def _progress(log, what):
    with tqdm(
        total=log.last_position(),
        unit="event",
        desc=f"{what} {log.service}",
        file=sys.stderr,
        disable=None,
        leave=False,
    ) as bar:
        yield bar.update


@audit.command()
@click.argument("services", nargs=-1)
@click.option(
    "--checkpoints",
    "kept",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Checkpoints kept elsewhere: a saved GET /audit/checkpoints answer or an export.",
)
@click.pass_context
def verify(ctx, services, kept):
    """Recompute each log's hash chain and check it against every link and checkpoint."""
    from kjfp.audit.verify import verify as verify_log

    kept_by_service = _kept_checkpoints(kept)
    broken = False
    for name, log in _logs(ctx, services).items():
        with _progress(log, "verifying") as progress:
            verdict = verify_log(log, kept_by_service.get(name, ()), progress)
        broken = broken or not verdict.ok
        for line in verdict.lines():
            click.echo(line)
    sys.exit(1 if broken else 0)


def _kept_checkpoints(paths):
    kept = {}
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        with _input_errors():
            if path.endswith(".jsonl"):
                lines = text.splitlines()
                service, item = json.loads(lines[0])["service"], json.loads(lines[-1])
            else:
                item = json.loads(text)
                service = item["service"]
            kept.setdefault(service, []).extend(item["checkpoints"])
    return kept


@audit.command()
@click.argument("services", nargs=-1)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Directory for <service>.jsonl."
)
@click.option(
    "--at",
    "stops",
    multiple=True,
    help="service=position: that log only up to there, e.g. the position a signed checkpoint holds.",
)
@click.pass_context
def export(ctx, services, out, stops):
    """Write each log, as stored (encrypted), with its checkpoints, as JSON Lines."""
    from kjfp.audit.logs import export as export_log

    at = _stops(stops)
    logs = _logs(ctx, services)
    if set(at) - set(logs):
        raise click.BadParameter(
            f"no log {', '.join(sorted(set(at) - set(logs)))} exported", param_hint="--at"
        )
    Path(out).mkdir(parents=True, exist_ok=True)
    for name, log in logs.items():
        count = export_log(log, Path(out) / f"{name}.jsonl", at.get(name))
        click.echo(f"{name}: {count} events → {Path(out) / f'{name}.jsonl'}")


@audit.command()
@click.argument("services", nargs=-1)
@click.option(
    "--mongo-uri", envvar="MONGO_URI", help="The live views' MongoDB (default: MONGO_URI)."
)
@click.option("--views-db", envvar="VIEWS_DB", default="kjfp_views", show_default=True)
@click.pass_context
def replay(ctx, services, mongo_uri, views_db):
    """Rebuild every projection from the logs into a scratch store and diff with the live views."""
    import pymongo

    from kjfp.audit.replay import replay_and_compare

    if not mongo_uri:
        raise AuditError(
            "the live views are named by --mongo-uri or MONGO_URI (the embedded "
            "mode keeps its views inside the running process: replay them there)"
        )
    live = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=False)[views_db]
    differs = False
    for _name, log in _logs(ctx, services).items():
        mapper = log.scratch(ctx.obj["settings"].cipher_key).mapper
        with _progress(log, "replaying") as progress:
            comparison = replay_and_compare(log, mapper, live, progress)
        differs = differs or bool(comparison.differences)
        for line in comparison.lines():
            click.echo(line)
    live.client.close()
    sys.exit(1 if differs else 0)


@audit.command()
@click.option(
    "--unit", required=True, help="national, province:山东, county:山东/临沂/沂南, society:…"
)
@click.option(
    "--metric", required=True, help="experts, associations, households_paired, people_lifted, …"
)
@click.option("--as-of", required=True, help="YYYY-MM-DD")
@click.option("--at", type=int, help="The registry log position (default: its end).")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="Stream every record as CSV (no events), as format=csv does.",
)
@click.pass_context
def explain(ctx, unit, metric, as_of, at, as_csv):
    """The records and events behind a 两数 figure, from the registry's log alone."""
    from kjfp.audit.figures import dumps, explain_csv
    from kjfp.audit.figures import explain as explain_figure

    logs = _logs(ctx, ["registry"])
    key = ctx.obj["settings"].cipher_key
    with _input_errors(), _figure_checks():
        if as_csv:
            for line in explain_csv(logs["registry"], key, unit, metric, as_of, at):
                click.echo(line, nl=False)
        else:
            click.echo(
                dumps(explain_figure(logs["registry"], key, unit, metric, as_of, at)), nl=False
            )


@audit.command()
@click.option("--unit", required=True)
@click.option("--campaign", help="The statistics table of this campaign (as of its cut-off).")
@click.option("--as-of", help="Without a campaign: the 两数 and funds as of this date.")
@click.option(
    "--at",
    "stops",
    multiple=True,
    help="service=position, e.g. registry=120 (default: each log's end).",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="A verifier key (name+hash+base64): check each named checkpoint's signature with it.",
)
@click.option(
    "--keys-from",
    type=click.Path(exists=True, dir_okay=False),
    help="A saved GET /audit/checkpoints answer: its verifier_keys (repeat for each service).",
    multiple=True,
)
@click.pass_context
def report(ctx, unit, campaign, as_of, stops, keys, keys_from):
    """The statistics table (or the 两数) of a unit at named log positions, byte for byte reproducible,
    with the signed checkpoint that holds each log there (checked against the log; its signature
    too with --key)."""
    from kjfp.audit.figures import dumps
    from kjfp.audit.figures import report as report_figures

    at = _stops(stops)
    keys = list(keys) + [
        key
        for path in keys_from
        for key in _read_json(path, "--keys-from").get("verifier_keys", [])
    ]
    logs = _logs(ctx, ["registry"] + (["supervision"] if campaign else []), optional=["funding"])
    with _input_errors(), _figure_checks():
        document = report_figures(logs, ctx.obj["settings"].cipher_key, unit, campaign, as_of, at)
    click.echo(dumps(document), nl=False)
    if keys:
        _check_signatures(document["logs"], keys)


def _stops(stops):
    """``--at service=position`` options as ``{service: position}``."""
    at = {}
    for stop in stops:
        name, _, position = stop.partition("=")
        if not position.isdigit():
            raise click.BadParameter(f"{stop!r} is not service=position", param_hint="--at")
        at[name] = int(position)
    return at


@contextmanager
def _figure_checks():
    from kjfp.audit.figures import CheckpointMismatch

    try:
        yield
    except CheckpointMismatch as failed:
        click.echo(f"FAILED: {failed}", err=True)
        sys.exit(1)


def _check_signatures(anchors, keys):
    """Each named checkpoint's signature, with the keys given (stderr: the figure is stdout)."""
    from kernel.note import open_checkpoint
    from kjfp.audit.proofs import ProofError, describe

    failed = False
    for name, anchor in anchors.items():
        named = anchor.get("checkpoint")
        if named is None and not anchor["position"]:
            click.echo(f"{name}: the log is empty, no checkpoint to check", err=True)
            continue
        if named is None:
            click.echo(
                f"{name}: no signed checkpoint holds position {anchor['position']} yet", err=True
            )
            failed = True
            continue
        try:
            checkpoint = open_checkpoint(named["note"], keys)
            if (checkpoint.tree_size, b64encode(checkpoint.root_hash).decode()) != (
                named["tree_size"],
                named["root_hash"],
            ):
                raise ProofError("the note signs another tree than the one named beside it")
        except ProofError as bad:
            click.echo(f"{name}: FAILED: {bad}", err=True)
            failed = True
        else:
            click.echo(
                f"{name}: OK: position {anchor['position']} is held by {describe(checkpoint)}",
                err=True,
            )
    if failed:
        sys.exit(1)


@audit.group()
def prove():
    """Merkle proofs (RFC 9162) from the stores or exports, as GET /api/v1/audit/proofs/… gives them."""


def _tree(ctx, service):
    from kjfp.audit.proofs import tree_of

    log = _logs(ctx, [service])[service]
    with _input_errors():
        return tree_of(log)


@prove.command("inclusion")
@click.argument("service")
@click.option(
    "--position", required=True, type=click.IntRange(min=1), help="The event's log position."
)
@click.option(
    "--tree-size", type=click.IntRange(min=1), help="Leaves of the tree (default: all published)."
)
@click.pass_context
def prove_inclusion(ctx, service, position, tree_size):
    """The inclusion proof of the event at a position, with the signed checkpoint of that size."""
    tree = _tree(ctx, service)
    with _input_errors():
        click.echo(json.dumps(tree.inclusion(position, tree_size), ensure_ascii=False, indent=1))


@prove.command("consistency")
@click.argument("service")
@click.option("--first", required=True, type=click.IntRange(min=1), help="The earlier tree size.")
@click.option(
    "--second", type=click.IntRange(min=1), help="The later tree size (default: all published)."
)
@click.pass_context
def prove_consistency(ctx, service, first, second):
    """The consistency proof between two tree sizes, with the signed checkpoints of both."""
    tree = _tree(ctx, service)
    with _input_errors():
        click.echo(json.dumps(tree.consistency(first, second), ensure_ascii=False, indent=1))


def _read_json(path, option):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as bad:
        raise click.BadParameter(f"{path} is not JSON ({bad})", param_hint=option) from None


def _note(path):
    return Path(path).read_text(encoding="utf-8") if path else None


def _key_list(keys, keys_file):
    keys = list(keys)
    if keys_file:
        keys += _read_json(keys_file, "--keys-from").get("verifier_keys", [])
    if not keys:
        raise click.UsageError(
            "give the service's verifier key: --key NAME+HASH+KEY (or --keys-from)"
        )
    return keys


NOTE = click.Path(exists=True, dir_okay=False)


@audit.command("check-proof")
@click.argument("proof_file", type=NOTE)
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="A verifier key (name+hash+base64), as the audit API publishes it.",
)
@click.option(
    "--keys-from", type=NOTE, help="A saved GET /audit/checkpoints answer: its verifier_keys."
)
@click.option(
    "--checkpoint", type=NOTE, help="Inclusion: the signed checkpoint (default: the proof's own)."
)
@click.option("--first-checkpoint", type=NOTE, help="Consistency: the earlier signed checkpoint.")
@click.option("--second-checkpoint", type=NOTE, help="Consistency: the later signed checkpoint.")
@click.option(
    "--event", type=NOTE, help="Inclusion: the event (an export line or audit API item) to bind."
)
def check_proof(
    proof_file, keys, keys_from, checkpoint, first_checkpoint, second_checkpoint, event
):
    """Verify a proof and its checkpoints' signatures offline, with only the public verifier key."""
    from kjfp.audit.proofs import ProofError, check_consistency, check_inclusion, describe

    doc = _read_json(proof_file, "PROOF_FILE")
    keys = _key_list(keys, keys_from)
    with _input_errors():
        try:
            if "leaf_hash" in doc:
                done = check_inclusion(
                    doc, keys, _note(checkpoint), _read_json(event, "--event") if event else None
                )
                click.echo(
                    f"OK: the event at position {doc['position']} (leaf {doc['leaf_index']}) is in "
                    f"{describe(done)}"
                )
            elif "first" in doc:
                first, second = check_consistency(
                    doc, keys, _note(first_checkpoint), _note(second_checkpoint)
                )
                click.echo(f"OK: {describe(second)} extends {describe(first)}")
            else:
                raise click.BadParameter(
                    "neither an inclusion nor a consistency proof", param_hint="PROOF_FILE"
                )
        except ProofError as failed:
            click.echo(f"FAILED: {failed}")
            sys.exit(1)


@audit.command()
@click.argument("services", nargs=-1)
@click.option(
    "--state",
    required=True,
    type=click.Path(dir_okay=False),
    help="The witness's state file (JSON).",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="Verifier keys to trust (default: those kept, or on first sight those served).",
)
@click.option(
    "--url", help="Ask a running system's audit API (http://host:8000) instead of the stores."
)
@click.option(
    "--token", envvar="KJFP_TOKEN", help="An auditor's bearer token for --url (default KJFP_TOKEN)."
)
@click.pass_context
def witness(ctx, services, state, keys, url, token):
    """Take each service's latest signed checkpoint if it extends the one kept; refuse (exit 1,
    naming both) one that does not."""
    from kjfp.audit.proofs import ProofError, Witness, tree_of

    kept = Witness(state)
    sources = (
        _http_sources(url, token, services)
        if url
        else {name: _local_source(tree_of, log) for name, log in _logs(ctx, services).items()}
    )
    refused = False
    with _input_errors():
        for name, (note, served_keys, consistency) in sources.items():
            try:
                click.echo(kept.observe(name, note, served_keys, keys, consistency))
            except ProofError as failed:
                click.echo(
                    str(failed) if str(failed).startswith(name) else f"{name}: REFUSED: {failed}"
                )
                refused = True
    kept.save()
    sys.exit(1 if refused else 0)


def _local_source(tree_of, log):
    with _input_errors():
        tree = tree_of(log)
    signed = tree.signed(1)
    if not signed:
        raise AuditError(f"{log.service}: no signed checkpoint in the store")
    return (
        signed[-1]["note"],
        [signed[-1]["verifier_key"]] if "verifier_key" in signed[-1] else [],
        (lambda first, second: tree.consistency(first, second)),
    )


def _http_sources(url, token, services):
    import requests

    if not services:
        raise click.UsageError("name the services to witness with --url")
    if not token:
        raise click.UsageError("an auditor's token: --token or KJFP_TOKEN")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def get(path, **params):
        try:
            answer = session.get(
                f"{url.rstrip('/')}/api/v1/audit/{path}", params=params, timeout=30
            )
        except requests.RequestException as failed:
            raise AuditError(f"{url}: {failed}") from failed
        if answer.status_code != 200:
            raise AuditError(f"{answer.url}: {answer.status_code} {answer.text[:200]}")
        return answer.json()

    sources = {}
    for name in services:
        served = get("checkpoints", service=name)
        if not served["signed"]:
            raise AuditError(f"{name}: no signed checkpoint published yet")
        sources[name] = (
            served["signed"][-1],
            served["verifier_keys"],
            lambda first, second, name=name: get(
                "proofs/consistency", service=name, first=first, second=second
            ),
        )
    return sources
