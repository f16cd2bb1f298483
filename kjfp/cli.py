"""kjfp command line: run the system, run one service, mint a token, load sample data, audit."""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet announces its own deprecation on import
    import eventlet

eventlet.monkey_patch()  # first, before anything imports socket or threading

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import click  # noqa: E402

from kernel import auth, config  # noqa: E402


@click.group()
def main():
    """科技助力精准扶贫 platform."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _serve(names):
    """Start the services; ``stop`` fires with 0 on SIGTERM or SIGINT, or with 1 if a service
    container dies (nameko kills one whose reply cannot be sent, e.g. while the broker restarts):
    the process then exits and the orchestrator's restart policy starts a fresh one, rather than
    a process lingering with nothing serving. Its unacknowledged messages are redelivered."""
    from kjfp import runner

    settings = config.load()
    try:
        settings.check()  # runner.start checks too; here the refusal is one clear line, not a traceback
    except ValueError as refused:
        raise click.ClickException(str(refused)) from None
    service_runner = runner.start(settings, names)
    runner.settle()
    stop = eventlet.event.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.ready() or stop.send(0))

    def watch():
        try:
            service_runner.wait()
        except Exception:  # noqa: BLE001 - nameko has logged why the container died
            if not stop.ready():
                stop.send(1)

    eventlet.spawn(watch)
    return settings, service_runner, stop


def _until_stopped(service_runner, stop):
    code = stop.wait()
    if code:  # nameko has stopped the dead container's peers already
        logging.getLogger("kjfp").error("a service container died; exiting, for a restart")
    else:
        service_runner.stop()  # in-flight calls finish; the rest stays on the bus
    sys.exit(code)


SAMPLE_SIZES = {"full": {}, "small": {"households": 300, "experts": 20}}


def _minter(settings):
    return lambda role, scope, subject: auth.mint(
        settings.token_secret, role, scope, subject, settings.token_ttl_seconds
    )


@main.command()
@click.option(
    "--sample-data",
    is_flag=True,
    help="Load the living sample after start (once: a restart skips it).",
)
@click.option(
    "--sample-size",
    type=click.Choice(list(SAMPLE_SIZES)),
    default="full",
    show_default=True,
    help="full: ~20,000 households and 500 experts; small: 300 and 20.",
)
def run(sample_data, sample_size):
    """Run the whole system in one process (embedded default: no servers needed)."""
    settings, service_runner, stop = _serve(None)
    url = f"http://{settings.http_host}:{settings.http_port}"
    token = auth.mint(
        settings.token_secret, "national_office", "national", "admin", settings.token_ttl_seconds
    )
    mode = "embedded" if settings.embedded else "distributed"
    click.echo(
        f"科技助力精准扶贫 platform running ({mode}) at {url}/api/v1 — data in {settings.data_dir}"
    )
    link = f"{url}/#token={token}"
    if sample_data:
        from kjfp import sample_data as samples

        ids = samples.load(url, _minter(settings), click.echo, **SAMPLE_SIZES[sample_size])
        link += "".join(f"&{name}={value}" for name, value in ids.items())
    click.echo(f"the offices' page (signed in as the national office): {link}")
    click.echo("admin token (national_office, national):")
    click.echo(token)
    _until_stopped(service_runner, stop)


@main.command()
@click.argument("name")
def service(name):
    """Run one service (registry | supervision | funding | awards | gateway) in this process,
    configured by the environment."""
    _, service_runner, stop = _serve([name])
    click.echo(f"service {name} running")
    _until_stopped(service_runner, stop)


@main.command()
@click.argument("name")
def ready(name):
    """Exit 0 if service NAME could serve here: broker, its event store and the view store reachable
    (the gateway: its HTTP listener). The containers' health check."""
    from kjfp import readiness
    from kjfp.runner import service_classes

    if name not in service_classes():
        raise click.BadParameter(f"one of {', '.join(service_classes())}", param_hint="NAME")
    problems = readiness.problems(config.load(), name)
    for problem in problems:
        click.echo(f"{name} not ready: {problem}", err=True)
    sys.exit(1 if problems else 0)


@main.command("rebuild-views")
@click.argument("names", nargs=-1)
def rebuild_views(names):
    """Drop the views of the services named (default: all) and replay their logs into them, with
    a progress bar. Stop those services first (embedded: the running process holds the data
    directory and this is refused; distributed: a running replica would keep projecting)."""
    from tqdm import tqdm

    from kernel import projection
    from kernel.service_parts import ServiceParts
    from kjfp.bootstrap import declarations

    settings = config.load()
    logs = declarations()
    for name in names or logs:
        if name not in logs:
            raise click.BadParameter(f"one of {', '.join(logs)}", param_hint="NAMES")
    for name in names or logs:
        parts = ServiceParts(settings, logs[name])
        head = parts.app.recorder.max_notification_id() or 0
        for runner in parts.runners:
            with tqdm(
                total=head, desc=f"{name}: {runner.name}", unit=" events", unit_scale=True
            ) as bar:
                runner.on_batch = lambda position, bar=bar: bar.update(position - bar.n)
                position = runner.rebuild()
                runner.on_batch = None
            click.echo(f"{name}: {runner.name} rebuilt to position {position}")
            stopped = runner.stopped()
            if stopped:
                click.echo(
                    f"{name}: {runner.name} stopped: {projection.describe(stopped)}", err=True
                )
        parts.close()


@main.command()
def projections():
    """Every projection's position, lag (log head - position) and state, read from the event
    stores and view stores this environment names (embedded: the data directory; it may be
    running). Exits 1 if a projection is stopped at an event it cannot apply."""
    from kjfp import status

    rows = status.projections(config.load())
    click.echo(status.table(rows))
    sys.exit(1 if any(row["state"] == "stopped" for row in rows) else 0)


@main.command()
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
@click.option(
    "--scope",
    required=True,
    help="national, province:山东, society:中国农学会, county:山东/临沂/沂南 …",
)
@click.option("--subject", default=None, help="Who the token is for (default: generated).")
def token(role, scope, subject):
    """Mint a bearer token; it is printed as the last line."""
    settings = config.load()
    try:
        click.echo(
            auth.mint(settings.token_secret, role, scope, subject, settings.token_ttl_seconds)
        )
    except ValueError as bad:
        raise click.BadParameter(str(bad)) from None


@main.command("sample-data")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--size", type=click.Choice(list(SAMPLE_SIZES)), default="full", show_default=True)
def sample_data(url, size):
    """Load the living sample into a running system through its API. It acts as several offices
    (national, provincial, county, inspectors), so it mints their tokens with TOKEN_SECRET."""
    from kjfp import sample_data as samples

    ids = samples.load(url, _minter(config.load()), click.echo, **SAMPLE_SIZES[size])
    click.echo(" ".join(f"{name}={value}" for name, value in ids.items()))


@main.command("import-households")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--token", "token_", envvar="KJFP_TOKEN", required=True, help="A writer's token.")
@click.option("--chunk", default=5000, show_default=True, help="Rows per request.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False),
    help="Write every duplicate and rejection here (JSON).",
)
def import_households(path, url, token_, chunk, report):
    """Import household base data (CSV with a header row, or a JSON array) through the API."""
    import json

    from kjfp import household_import

    totals = household_import.run(path, url, token_, chunk)
    click.echo(
        f"created {totals['created']}, duplicate {totals['duplicate']}, rejected {totals['rejected']}"
    )
    if report:
        with open(report, "w", encoding="utf-8") as out:
            json.dump(
                {k: totals[k] for k in ("duplicates", "rejections")},
                out,
                ensure_ascii=False,
                indent=1,
            )
    elif totals["rejections"]:
        for rejection in totals["rejections"][:20]:
            click.echo(f"  row {rejection['row']}: {rejection['reasons']}", err=True)


@main.group()
def programme():
    """Funding programmes (资助项目计划)."""


@programme.command("load")
@click.argument("name", type=click.Choice(["shandong", "pilot"]))
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@click.option(
    "--token",
    "token_",
    envvar="KJFP_TOKEN",
    required=True,
    help="The configuring office's token: provincial_office province:山东 for shandong, "
    "national_office for pilot.",
)
@click.option("--effective-date", default=None, help="YYYY-MM-DD (default: today).")
def load_programme(name, url, token_, effective_date):
    """Configure a ready programme through the API; a re-run with the same token's subject
    returns the programme configured first. Prints the programme's id as the last line."""
    import requests

    from services.funding.programmes import READY

    body = dict(READY[name], **({"effective_date": effective_date} if effective_date else {}))
    reply = requests.post(
        f"{url}/api/v1/programmes",
        json=body,
        timeout=60,
        headers={"Authorization": f"Bearer {token_}", "Idempotency-Key": f"programme:{name}"},
    )
    if reply.status_code != 201:
        raise click.ClickException(f"{reply.status_code}: {reply.text}")
    configured = reply.json()
    quotas = sum(configured["quotas"].values())
    click.echo(
        f"{configured['name']}: {len(configured['approval_levels'])} levels, "
        f"{configured['subsidy_fen_per_project_year'] or 'free'} fen per project-year, "
        f"{quotas} places in {len(configured['quotas'])} regions"
    )
    click.echo(configured["id"])


@main.group("award-round")
def award_round():
    """Award rounds (表扬嘉奖)."""


@award_round.command("load")
@click.argument("name", type=click.Choice(["2020"]))
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@click.option(
    "--token", "token_", envvar="KJFP_TOKEN", required=True, help="A national_office token."
)
@click.option(
    "--effective-date", default=None, help="YYYY-MM-DD (default: the round's own, 2020-06-01)."
)
def load_award_round(name, url, token_, effective_date):
    """Configure a ready award round (§003's 2020 round) through the API; a re-run answers with the
    round configured first. Prints the round's id as the last line."""
    from services.awards import rounds

    try:
        round_id, new = rounds.load(name, url, token_, effective_date)
    except RuntimeError as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"the {name} award round {'configured' if new else 'was already configured'}")
    click.echo(round_id)


from kjfp.audit.cli import audit  # noqa: E402

main.add_command(audit)

if __name__ == "__main__":
    sys.exit(main())
