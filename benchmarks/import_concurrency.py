"""Benchmark: single writes beside a bulk import, on the embedded system (issue 13 item 14).

    .venv/bin/python benchmarks/import_concurrency.py [--rows 100000] [--interval 0.05]

Starts ``kjfp run`` (one process: gateway and services on one eventlet hub, SQLite event stores,
the embedded view store) in a fresh data directory, then from this process, with two threads:
- one client imports ``--rows`` households in one HTTP request (``POST /households/import``);
- another registers single households (``POST /households``) every ``--interval`` seconds while
  the import runs.
Prints p50 / p99 / max of the single writes (goal: p99 under 1 s) and the import's rows/s.
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.embedded_system import launch  # noqa: E402
from kernel import auth  # noqa: E402
from kjfp.sample_data import id_number  # noqa: E402
from tests.infrastructure import free_port, wait_for_port  # noqa: E402

SECRET = "import-concurrency-benchmark-secret"
YINAN = {"province": "山东", "city": "临沂", "county": "沂南"}


def household(code, n):
    return {
        "code": code,
        "head_name": "户主",
        "people": 1 + n % 6,
        "location": YINAN,
        "head_id_number": id_number(
            "371321", f"19{95 + n % 5}0{1 + n % 9}1{n % 9}", f"{n % 1000:03d}"
        ),
        "effective_date": "2020-01-01",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=0.05)
    args = parser.parse_args()
    port, data = free_port(), tempfile.mkdtemp(prefix="kjfp-concurrency-")
    system = launch(data, port, SECRET)
    try:
        wait_for_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {
            "Authorization": f"Bearer {auth.mint(SECRET, 'national_office', 'national', 'bench')}"
        }
        rows = [household(f"I{n:09d}", n) for n in range(args.rows)]
        requests.post(
            f"{base}/households", json=household("W000000000", 0), headers=headers, timeout=60
        )
        result, latencies, started, done = {}, [], [], threading.Event()

        def bulk():
            began = time.perf_counter()
            response = requests.post(
                f"{base}/households/import", json=rows, headers=headers, timeout=3600
            )
            result.update(
                seconds=time.perf_counter() - began,
                status=response.status_code,
                body=response.json(),
            )
            done.set()

        importer = threading.Thread(target=bulk)
        import_began = time.perf_counter()
        importer.start()
        n = 0
        while not done.is_set():
            n += 1
            began = time.perf_counter()
            response = requests.post(
                f"{base}/households", json=household(f"W{n:09d}", n), headers=headers, timeout=600
            )
            latencies.append(time.perf_counter() - began)
            started.append(began - import_began)
            assert response.status_code == 201, response.text
            time.sleep(args.interval)
        importer.join()
        assert result["status"] == 200 and result["body"]["created"] == args.rows, result
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        rate = args.rows / result["seconds"]
        print(f"import: {args.rows} rows in {result['seconds']:.1f} s = {rate:.0f} rows/s")
        print(
            f"single writes during it: {len(latencies)}; p50 {statistics.median(ordered) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms (goal: p99 < 1000 ms)"
        )
        slowest = sorted(zip(latencies, started), reverse=True)[:5]
        print(
            "slowest (ms, issued s after the import began):",
            ", ".join(f"{lat * 1000:.0f} @ {at:.1f}" for lat, at in slowest),
            flush=True,
        )
    finally:
        system.kill()  # not a graceful stop: it would first finish projecting the whole import
        system.wait(30)


if __name__ == "__main__":
    main()
