"""The README's first command's system: ``kjfp run`` as one OS process on the embedded default
(memory:// transport, SQLite files in the data directory, the embedded view store, kept across
restarts). It answers over HTTP, prints an admin token and a link to the page, and a restart keeps
the data and the views with their positions and does not load the living sample twice (issue 17)."""

import os
import time

import requests

from kernel.config import Settings
from kjfp import status
from tests import processes
from tests.infrastructure import free_port


def test_the_one_process_system_answers_and_keeps_its_data_across_a_restart(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AMQP_URI", "EVENT_STORE", "MONGO_URI", "POSTGRES_DB")
    }
    env.update(KJFP_DATA_DIR=str(tmp_path / "data"), HTTP_PORT=str(port), PYTHONUNBUFFERED="1")
    log = tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"

    first = processes.start(["run", "--sample-data", "--sample-size", "small"], env, log)
    processes.wait_ready(base, first, log)
    token = _printed_token(log, first)
    auth = {"Authorization": f"Bearer {token}"}
    before = requests.get(
        base + "/api/v1/two-counts", params={"unit": "province:山东"}, headers=auth
    ).json()
    figures = before["experts"], before["households_paired"], before["people_in_paired_households"]
    assert figures == (11, 99, 342)  # the small living sample's 山东
    assert f"{base}/#token={token}&campaign=" in log.read_text()
    assert processes.stop(first) == 0
    # Issue 14: the views persist with their tracking positions, so a restart replays only the tail.
    tracked = {
        row["projection"]: row for row in status.projections(Settings(data_dir=tmp_path / "data"))
    }
    assert tracked["registry.two_counts"]["position"] == tracked["registry.two_counts"]["head"] > 0
    assert (tmp_path / "data" / "views.sqlite3").exists()

    second = processes.start(
        ["run", "--sample-data", "--sample-size", "small"], env, log
    )  # loaded already
    processes.wait_ready(base, second, log)
    _printed_token(log, second, starts=2)  # the second start is past its sample step
    after = requests.get(
        base + "/api/v1/two-counts", params={"unit": "province:山东"}, headers=auth
    ).json()
    processes.stop(second)

    assert after == before
    assert list((tmp_path / "data").glob("registry.sqlite*"))


def _printed_token(log, process, starts=1):
    """The CLI prints the admin token as the line after its label (once per start)."""
    for _ in range(600):
        lines = log.read_text().splitlines()
        labels = [n for n, line in enumerate(lines) if line.startswith("admin token")]
        if len(labels) >= starts and len(lines) > labels[-1] + 1:
            return lines[labels[-1] + 1].strip()
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(log.read_text()[-2000:])
