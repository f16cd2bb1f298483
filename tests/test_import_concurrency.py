"""Issue 13 item 14: a bulk import yields to other requests.

On the embedded system (gateway and services in this process on one eventlet hub, kombu
memory://, SQLite event stores, the in-process view store), which is where an import used to
starve everything else: validating and writing thousands of rows, publishing and projecting
them, never gave the hub back. No timing here (benchmarks/import_concurrency.py measures):
single writes issued while an import is under way complete while it is still under way."""

import eventlet
import pytest

from kjfp.sample_data import id_number
from services.registry.tests.forms import household_form
from tests.http_client import start_system

YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}
ROWS = 6000


@pytest.fixture
def api(tmp_path):
    service_runner, client = start_system(tmp_path)
    yield client
    service_runner.stop()


def row(n):
    return {
        "code": f"I{n:08d}",
        "head_name": "户主",
        "people": 1 + n % 5,
        "location": YINAN,
        "head_id_number": id_number("371321", "19980101", f"{n % 1000:03d}"),
        "effective_date": "2020-01-01",
    }


def test_single_writes_during_a_bulk_import_complete_before_it_does(api):
    """Issue 13 item 14: the import's validation, its batches and the publication and projection
    of its events pause between short chunks, so single writes go through beside it."""
    finished = []
    rows = [row(n) for n in range(ROWS)]
    importing = eventlet.spawn(lambda: finished.append(api.post("/households/import", rows)))
    eventlet.sleep(0)  # the import's request is sent first
    singles = []
    for n in range(8):
        written = api.post("/households", household_form(f"37132100{n:04d}"))
        singles.append((written.status_code, bool(finished)))

    imported = importing.wait()

    assert singles == [(201, False)] * 8  # each written while the import was still under way
    assert imported is None and finished[0].json()["created"] == ROWS
