"""``kjfp audit``: the auditor's tools, over the raw event stores or exports, services not needed.

The stores are the ones the environment names (EVENT_STORE, POSTGRES_*, KJFP_DATA_DIR), or the
SQLite files in ``--data-dir``, or the export files in ``--exports``. Verify and export need no
key; replay, explain and report decode events and need CIPHER_KEY.
Exit status: 0 all well, 1 a broken chain or a difference found, 2 a usage or input error.
"""
import dataclasses
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from tqdm import tqdm

from kernel import config
from kernel.errors import DomainError


class AuditError(click.ClickException):
    exit_code = 2


@click.group()
@click.option("--data-dir", type=click.Path(file_okay=False), help="Read the embedded SQLite stores in this directory.")
@click.option("--exports", type=click.Path(exists=True, file_okay=False), help="Read <service>.jsonl exports here.")
@click.pass_context
def audit(ctx, data_dir, exports):
    """Auditor tools: verify, export, replay, explain, report."""
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
        from kernel.catalogue import service_logs

        for name in sorted(set(service_logs()) - set(logs)):
            click.echo(f"{name}: no event log here (skipped)", err=True)
    for log in logs.values():
        ctx.call_on_close(log.close)
    return logs


@contextmanager
def _progress(log, what):
    with tqdm(total=log.last_position(), unit="event", desc=f"{what} {log.service}", file=sys.stderr,
              disable=None, leave=False) as bar:
        yield bar.update


@audit.command()
@click.argument("services", nargs=-1)
@click.option("--checkpoints", "kept", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Checkpoints kept elsewhere: a saved GET /audit/checkpoints answer or an export.")
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
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for <service>.jsonl.")
@click.pass_context
def export(ctx, services, out):
    """Write each log, as stored (encrypted), with its checkpoints, as JSON Lines."""
    from kjfp.audit.logs import export as export_log

    Path(out).mkdir(parents=True, exist_ok=True)
    for name, log in _logs(ctx, services).items():
        count = export_log(log, Path(out) / f"{name}.jsonl")
        click.echo(f"{name}: {count} events → {Path(out) / f'{name}.jsonl'}")


@audit.command()
@click.argument("services", nargs=-1)
@click.option("--mongo-uri", envvar="MONGO_URI", help="The live views' MongoDB (default: MONGO_URI).")
@click.option("--views-db", envvar="VIEWS_DB", default="kjfp_views", show_default=True)
@click.pass_context
def replay(ctx, services, mongo_uri, views_db):
    """Rebuild every projection from the logs into a scratch store and diff with the live views."""
    import pymongo

    from kjfp.audit.replay import replay_and_compare

    if not mongo_uri:
        raise AuditError("the live views are named by --mongo-uri or MONGO_URI (the embedded "
                         "mode keeps its views inside the running process: replay them there)")
    live = pymongo.MongoClient(mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=False)[views_db]
    differs = False
    for name, log in _logs(ctx, services).items():
        mapper = log.service_log.scratch(ctx.obj["settings"].cipher_key).mapper
        with _progress(log, "replaying") as progress:
            comparison = replay_and_compare(log, mapper, live, progress)
        differs = differs or bool(comparison.differences)
        for line in comparison.lines():
            click.echo(line)
    live.client.close()
    sys.exit(1 if differs else 0)


@audit.command()
@click.option("--unit", required=True, help="national, province:山东, county:山东/临沂/沂南, society:…")
@click.option("--metric", required=True, help="experts, associations, households_paired, people_lifted, …")
@click.option("--as-of", required=True, help="YYYY-MM-DD")
@click.option("--at", type=int, help="The registry log position (default: its end).")
@click.pass_context
def explain(ctx, unit, metric, as_of, at):
    """The records and events behind a 两数 figure, from the registry's log alone."""
    from kjfp.audit.figures import dumps
    from kjfp.audit.figures import explain as explain_figure

    logs = _logs(ctx, ["registry"])
    with _input_errors():
        click.echo(dumps(explain_figure(logs["registry"], ctx.obj["settings"].cipher_key, unit, metric, as_of, at)),
                   nl=False)


@audit.command()
@click.option("--unit", required=True)
@click.option("--campaign", help="The statistics table of this campaign (as of its cut-off).")
@click.option("--as-of", help="Without a campaign: the 两数 and funds as of this date.")
@click.option("--at", "stops", multiple=True, help="service=position, e.g. registry=120 (default: each log's end).")
@click.pass_context
def report(ctx, unit, campaign, as_of, stops):
    """The statistics table (or the 两数) of a unit at named log positions, byte for byte reproducible."""
    from kjfp.audit.figures import dumps
    from kjfp.audit.figures import report as report_figures

    at = {}
    for stop in stops:
        name, _, position = stop.partition("=")
        if not position.isdigit():
            raise click.BadParameter(f"{stop!r} is not service=position", param_hint="--at")
        at[name] = int(position)
    logs = _logs(ctx, ["registry"] + (["supervision"] if campaign else []), optional=["funding"])
    with _input_errors():
        click.echo(dumps(report_figures(logs, ctx.obj["settings"].cipher_key, unit, campaign, as_of, at)), nl=False)
