"""Benchmark: bulk import of households vs the raw event-store batch insert, in the same run.

    .venv/bin/python benchmarks/import_households.py [--rows 100000] [--store sqlite|postgres]

Three rates, same rows, same batch size (1000), same run:
- recorder insert: already-encoded, already-encrypted records into the recorder (SQL only);
- event-store save: the event store's own write path for already-made events — encode,
  encrypt at rest (AES-GCM), insert. This is the raw rate the goal is judged against: every
  event written to this store pays for its encryption, whoever writes it;
- import: what a user's import does per batch — check each ID number (GB 11643), key-hash it,
  make its registration event, then the same save. Goal: import ≥ 70% of the event-store save rate.
- with ``--http``: the same rows as one CSV upload (``POST /api/v1/households/import``) to the
  embedded system started on a fresh data directory, end to end (the response); then how long a
  national 两数 asked right after the answer takes (the import's rows reach the views after the
  answer: kernel/service_parts.py), and when ``/ready`` says 200. Goal: at least 50% of the
  import rate above.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from kernel import auth, config, eventstore  # noqa: E402
from kjfp import runner  # noqa: E402
from kjfp.sample_data import id_number  # noqa: E402
from services.registry.application import RegistryApplication  # noqa: E402

BATCH = 1000


def rows(n, prefix):
    location = {"province": "山东", "city": "临沂", "county": "沂南"}
    return [
        {
            "row": i,
            "code": f"{prefix}{i:07d}",
            "head_name": "户主",
            "head_id_number": id_number(
                "371321", f"19{95 + i % 5}0{1 + i % 9}1{i % 9}", f"{i % 1000:03d}"
            ),
            "people": 1 + i % 6,
            "location": location,
            "effective_date": "2020-01-01",
        }
        for i in range(n)
    ]


def application(store, workdir):
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = config.Settings(data_dir=workdir / schema, event_store=store, postgres_db="test")
    return RegistryApplication(
        env=eventstore.application_env(settings, schema if store == "postgres" else "registry"),
        pii_hash_key="bench-key",
    )


def over_http(data, workdir):
    """Seconds for the CSV upload of ``data`` to the embedded system to answer, and until its
    views have caught up."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        [
            "code",
            "head_name",
            "head_id_number",
            "people",
            "province",
            "city",
            "county",
            "effective_date",
        ]
    )
    for r in data:
        place = r["location"]
        writer.writerow(
            [
                r["code"],
                r["head_name"],
                r["head_id_number"],
                r["people"],
                place["province"],
                place["city"],
                place["county"],
                r["effective_date"],
            ]
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = config.Settings(data_dir=workdir / "http", http_port=port)
    system = runner.start(settings)
    runner.settle()  # as `kjfp serve` does
    try:
        base = f"http://127.0.0.1:{port}"
        token = auth.mint(settings.token_secret, "national_office", "national", "bench")
        while True:
            try:
                requests.get(base + "/health", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        began = time.perf_counter()
        reply = requests.post(
            base + "/api/v1/households/import",
            data=text.getvalue().encode(),
            timeout=3600,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv; charset=utf-8"},
        )
        answered = time.perf_counter() - began
        assert reply.status_code == 200 and reply.json()["created"] == len(data), reply.text[:300]
        read = requests.get(
            base + "/api/v1/two-counts",
            params={"unit": "national"},
            timeout=120,
            headers={"Authorization": f"Bearer {token}"},
        )
        first_read = (read.status_code, time.perf_counter() - began - answered)
        while requests.get(base + "/ready", timeout=60).status_code != 200:
            time.sleep(0.2)
        return answered, first_read, time.perf_counter() - began
    finally:
        system.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--http", action="store_true", help="Also upload the rows to the embedded system."
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kjfp-bench-"))
    data = rows(args.rows, "B")

    # Recorder insert: encode the households' events first (untimed), then time the inserts.
    raw_app = application(args.store, workdir)
    stored = []
    for start in range(0, len(data), BATCH):
        events = [raw_app._household_from(r) for r in data[start : start + BATCH]]
        raw_app.mapper.ring.ensure(
            *raw_app.mapper.persons(events)
        )  # their data keys (kernel.personal)
        stored.append([raw_app.mapper.to_stored_event(e) for e in events])
    began = time.perf_counter()
    for batch in stored:
        raw_app.recorder.insert_events(batch)
    insert_rate = len(data) / (time.perf_counter() - began)
    raw_app.close()

    # Event-store save: make the events first (untimed), then time save() per batch.
    save_app = application(args.store, workdir)
    built = [
        [save_app._household_from(r) for r in data[start : start + BATCH]]
        for start in range(0, len(data), BATCH)
    ]
    began = time.perf_counter()
    for batch in built:
        save_app.save(*batch)
    save_rate = len(data) / (time.perf_counter() - began)
    save_app.close()

    import_app = application(args.store, workdir)
    began = time.perf_counter()
    created = 0
    for start in range(0, len(data), BATCH):
        created += len(import_app.import_households(data[start : start + BATCH])["created"])
    import_rate = len(data) / (time.perf_counter() - began)
    import_app.close()
    assert created == len(data), f"only {created} of {len(data)} created"

    print(f"store={args.store} rows={len(data)} batch={BATCH}")
    print(f"recorder insert (pre-encoded):        {insert_rate:9.0f} households/s")
    print(f"event-store save (encode+encrypt+insert): {save_rate:9.0f} households/s   <- raw")
    print(f"import (check+hash+build+save):       {import_rate:9.0f} households/s")
    print(f"import / event-store save: {import_rate / save_rate:.0%} (goal: at least 70%)")
    if args.http:
        answered, (status, first_read), ready = over_http(rows(args.rows, "H"), workdir)
        http_rate = len(data) / answered
        print(
            f"HTTP CSV upload, end to end:          {http_rate:9.0f} households/s ({answered:.1f} s; "
            f"a national 两数 asked at once answered {status} {first_read:.1f} s later; "
            f"/ready 200 after {ready:.1f} s)"
        )
        print(f"HTTP upload / import: {http_rate / import_rate:.0%} (goal: at least 50%)")


if __name__ == "__main__":
    main()
