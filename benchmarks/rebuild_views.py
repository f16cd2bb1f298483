"""Benchmark: the cold rebuild of the embedded views against the read-and-decode rate of the same
log, in the same run, and the embedded system's restart time on that long log.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/rebuild_views.py [--events 200000] [--keep DIR]

The registry log is built (or reused with --keep) as benchmarks/audit_replay.py builds it. Then:
- read and decode: the stored events read in batches and decoded (what any rebuild pays at least);
  as the auditor's scratch mapper decodes them without the persons' keys, the sealed personal
  fields read as erased: a rebuild opens them (the views hold their masks), which this line
  leaves out. The next line measures that too:
- the same with Python's cyclic garbage collector off, as the build's decoding process runs (a
  faster, stricter reference);
- read and decode, personal fields opened: the same with the service's own mapper and keys (as a
  projection decodes: each batch's keys fetched in one query, each person's unwrapped once);
- rebuild: ``ServiceParts.rebuild`` (what ``kjfp rebuild-views`` runs) into the embedded store
  in the data directory; goal: at least 50% of the read-and-decode rate;
- restart: the whole embedded system started on the data directory after 1,000 more events were
  recorded (its views persist: only the tail is replayed; the log was published once, untimed,
  after it was built, as the running service publishes it while recording), timed until ``GET /two-counts``
  answers 200 for the nation; goal: within 10 s;
- first start: the same with no views yet (the first start on an existing log): how long HTTP
  answers 503 with the build progress, and when the first 200 comes.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()

import argparse  # noqa: E402
import gc  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_replay import PLACE, build  # noqa: E402
from two_counts import publish  # noqa: E402

from kernel import auth, config, personal, views  # noqa: E402
from kernel.service_parts import ServiceParts  # noqa: E402
from kjfp import runner  # noqa: E402
from kjfp.audit.logs import StoreLog  # noqa: E402
from kjfp.sample_data import id_number  # noqa: E402
from services.registry import SERVICE  # noqa: E402


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record_tail(settings, count):
    app = SERVICE.open(settings)
    first = app.recorder.max_notification_id()
    app.import_households(
        [
            {
                "code": f"38{first:08d}{n:03d}",
                "head_name": "户主",
                "people": 2,
                "location": PLACE,
                "head_id_number": id_number("371321", "19950101", "001"),
                "effective_date": "2020-01-01",
            }
            for n in range(count)
        ]
    )
    app.close()


def read_and_decode(settings, opened=False, collector=True):
    log = StoreLog(settings, SERVICE)
    app = SERVICE.open(settings) if opened else SERVICE.scratch(settings.cipher_key)
    if not collector:
        gc.disable()
    began = time.perf_counter()
    decoded = 0
    for batch in log.batches():
        if opened:
            personal.prefetch(app.mapper, batch)
        decoded += len([app.mapper.to_domain_event(n) for n in batch])
    rate = decoded / (time.perf_counter() - began)
    gc.enable()
    log.close()
    app.close()
    return decoded, rate


def rebuild(settings):
    parts = ServiceParts(settings, SERVICE)
    began = time.perf_counter()
    position = parts.rebuild()["registry.two_counts"]
    seconds = time.perf_counter() - began
    parts.close()
    return position, seconds


def start_and_time(settings, query_seconds=120):
    """Seconds from starting the embedded system to ``/ready`` 200 (views caught up) and to its
    first 200 for the national 两数 (None if not within ``query_seconds`` once ready), and the
    503 answers (with the build progress) seen before ready."""
    settings = config.Settings(**{**settings.__dict__, "http_port": _port()})
    token = auth.mint(settings.token_secret, "national_office", "national", "bench")
    base = f"http://127.0.0.1:{settings.http_port}"
    began = time.perf_counter()
    system = runner.start(settings)
    building, last = 0, None
    try:
        while True:
            try:
                reply = requests.get(
                    base + "/api/v1/two-counts",
                    params={"unit": "province:北京"},
                    timeout=60,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except requests.ConnectionError:
                time.sleep(0.05)
                continue
            if (
                reply.status_code == 200
                and requests.get(base + "/ready", timeout=60).status_code == 200
            ):
                ready = time.perf_counter() - began
                break
            building, last = building + 1, reply.json().get("message")
            time.sleep(0.2)
        try:
            reply = requests.get(
                base + "/api/v1/two-counts",
                params={"unit": "national"},
                timeout=query_seconds,
                headers={"Authorization": f"Bearer {token}"},
            )
            counted = time.perf_counter() - began if reply.status_code == 200 else None
        except requests.Timeout:
            counted = None
        return ready, counted, building, last
    finally:
        system.stop()


def _seconds(value):
    return "no answer within the wait" if value is None else f"{value:.1f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="Build the log here once and reuse it.")
    args = parser.parse_args()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="kjfp-views-bench-"))
    settings = config.Settings(data_dir=data_dir)
    build(settings, args.events)
    publish(settings)  # as the service publishes it while recording: a restart finds it published

    # Best of two each, alternated: other jobs on the machine move single figures by up to 2x.
    rates: dict[str, list[float]] = {"raw": [], "no gc": [], "opened": [], "rebuild": []}
    for _ in range(2):
        total, rate = read_and_decode(settings)
        rates["raw"].append(rate)
        rates["no gc"].append(read_and_decode(settings, collector=False)[1])
        rates["opened"].append(read_and_decode(settings, opened=True)[1])
        position, seconds = rebuild(settings)
        assert position == total
        rates["rebuild"].append(total / seconds)
    best = {name: max(values) for name, values in rates.items()}
    print(f"events={total}")
    print(f"read and decode:  {best['raw']:9.0f} events/s   <- raw (personal fields not opened)")
    print(f"read and decode, cyclic GC off: {best['no gc']:9.0f} events/s")
    print(f"read and decode, personal fields opened: {best['opened']:9.0f} events/s")
    print(f"rebuild (两数):    {best['rebuild']:9.0f} events/s   ({total / best['rebuild']:.1f} s)")
    print(f"rebuild / read and decode: {best['rebuild'] / best['raw']:.0%} (goal: at least 50%)")
    for name in ("no gc", "opened"):
        print(f"rebuild / read and decode, {name}: {best['rebuild'] / best[name]:.0%}")

    record_tail(settings, 1000)  # recorded while the system was down
    ready, seconds, building, _ = start_and_time(settings)
    print(
        f"restart with a tail of 1,000 events: views caught up (/ready 200) after {ready:.1f} s, "
        f"first national 两数 after {_seconds(seconds)} (goal: 10 s)"
    )

    views.embedded_client(data_dir / views.FILE_NAME).close()  # this process's; reopened on use
    shutil.move(str(data_dir / views.FILE_NAME), str(data_dir / "views.kept"))
    for suffix in ("-wal", "-shm"):
        (data_dir / (views.FILE_NAME + suffix)).unlink(missing_ok=True)
    try:
        ready, seconds, building, message = start_and_time(settings)
        print(
            f"first start on the log with no views: /ready 200 after {ready:.1f} s, first national 两数 "
            f"after {_seconds(seconds)}, {building} answers of 503 before (last: {message})"
        )
    finally:
        views.embedded_client(data_dir / views.FILE_NAME).close()
        (data_dir / views.FILE_NAME).unlink(missing_ok=True)
        shutil.move(str(data_dir / "views.kept"), str(data_dir / views.FILE_NAME))


if __name__ == "__main__":
    main()
