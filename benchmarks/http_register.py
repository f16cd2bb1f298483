"""Benchmark: a register built over HTTP only, as a user's client builds it, then the 两数 timed
and the system restarted (the shape of issue 14's held-out scale check).

    .venv/bin/python benchmarks/http_register.py [--households 100000] [--clients 8]

Starts ``kjfp run`` (the embedded default: one process) on a fresh data directory, then from this
process:
- imports ``--households`` households as CSV uploads of at most 100,000 rows
  (``POST /households/import``), in two provinces' six counties;
- registers one expert per ten households (``POST /experts``) and files one pairing per expert
  of two households each (``POST /pairings``), from ``--clients`` threads at once;
- times ``GET /two-counts`` and an explain page (national, a province, a county): p50 / p99;
- stops the process (SIGTERM) and starts it again on the same directory: the seconds from the
  launch to its first full 两数.
Each phase prints its rate; the 两数 is checked against what was filed.
"""

import argparse
import csv
import datetime
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.embedded_system import launch  # noqa: E402
from kernel import auth  # noqa: E402
from kjfp.sample_data import id_number  # noqa: E402
from services.registry.tests.forms import expert_form  # noqa: E402
from tests.http_client import pairing_body  # noqa: E402
from tests.infrastructure import free_port  # noqa: E402

SECRET = "http-register-benchmark-token-secret"
PLACES = [
    ("山东", "临沂", "沂南", "371321"),
    ("山东", "临沂", "兰陵", "371324"),
    ("山东", "菏泽", "曹县", "371721"),
    ("河南", "信阳", "光山", "411522"),
    ("河南", "信阳", "新县", "411523"),
    ("河南", "周口", "淮阳", "411626"),
]
UPLOAD_ROWS = 100_000
UNITS = ["national", "province:山东", "county:山东/临沂/沂南"]


def household_rows(n):
    for i in range(n):
        province, city, county, region = PLACES[i % len(PLACES)]
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 1000 % 20000)
        yield [
            f"H{i:09d}",
            "户主",
            id_number(region, birth.strftime("%Y%m%d"), f"{i % 1000:03d}"),
            1 + i % 6,
            province,
            city,
            county,
            "2019-06-01",
        ]


def csv_upload(rows):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        ["code", "head_name", "head_id_number", "people", "province", "city", "county"]
        + ["effective_date"]
    )
    writer.writerows(rows)
    return text.getvalue().encode()


def expert(i):
    province, city, county, region = PLACES[i % len(PLACES)]
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000)
    return expert_form(
        id_number=id_number(region, birth.strftime("%Y%m%d"), f"{i % 1000:03d}"),
        unit=f"province:{province}",
        location={"province": province, "city": city, "county": county},
        effective_date="2019-07-01",
    )


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.session = requests.Session()
        self.headers = {
            "Authorization": f"Bearer {auth.mint(SECRET, 'national_office', 'national', 'bench')}"
        }

    def post(self, path, content_type=None, **kwargs):
        headers = {**self.headers, **({"Content-Type": content_type} if content_type else {})}
        return requests.post(self.base + path, headers=headers, timeout=600, **kwargs)

    def get(self, path, **kwargs):
        return self.session.get(self.base + path, headers=self.headers, timeout=600, **kwargs)


def first_full_answer(api, timeout=600):
    """Seconds until ``/two-counts`` for the nation answers 200, and that answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = api.get("/two-counts", params={"unit": "national"})
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise SystemExit("no full 两数 within the timeout")


def concurrently(clients, items, call, label):
    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool, tqdm(total=len(items), desc=label) as bar:
        for response in pool.map(call, items):
            assert response.status_code == 201, response.text
            bar.update()
    seconds = time.perf_counter() - began
    print(f"{label}: {len(items)} in {seconds:.1f} s = {len(items) / seconds:.0f}/s", flush=True)


def percentiles(api, path, params, requests_per_unit):
    samples = []
    for i in range(requests_per_unit + 10):
        began = time.perf_counter()
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        if i >= 10:
            samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    data, port = tempfile.mkdtemp(prefix="kjfp-http-register-"), free_port()
    api = Api(port)
    system = launch(data, port, SECRET)
    try:
        first_full_answer(api)
        rows = list(household_rows(args.households))
        began = time.perf_counter()
        for at in range(0, len(rows), UPLOAD_ROWS):
            response = api.post(
                "/households/import",
                data=csv_upload(rows[at : at + UPLOAD_ROWS]),
                content_type="text/csv; charset=utf-8",
            )
            assert response.status_code == 200, response.text[:2000]
            assert response.json()["created"] == len(rows[at : at + UPLOAD_ROWS]), response.text
        seconds = time.perf_counter() - began
        print(
            f"households imported (CSV): {len(rows)} in {seconds:.1f} s = {len(rows) / seconds:.0f}/s"
        )

        n_experts = args.households // 10
        expert_ids = [None] * n_experts

        def register(i):
            response = api.post("/experts", json=expert(i))
            if response.status_code == 201:
                expert_ids[i] = response.json()["id"]
            return response

        concurrently(args.clients, range(n_experts), register, "experts registered")

        def pair(i):
            # two households of the expert's own county (household h lies in PLACES[h % 6])
            codes = [f"H{i % 6 + 6 * (2 * (i // 6) + k):09d}" for k in range(2)]
            return api.post("/pairings", json=pairing_body(expert_ids[i], codes))

        concurrently(args.clients, range(n_experts), pair, "pairings filed (2 households each)")

        counts = first_full_answer(api)
        print(
            f"national 两数: {counts['experts']} experts, "
            f"{counts['households_paired']} households paired"
        )
        assert counts["experts"] == n_experts, counts
        assert counts["households_paired"] == 2 * n_experts, counts
        for unit in UNITS:
            for path, params in (
                ("/two-counts", {"unit": unit}),
                (
                    "/two-counts/explain",
                    {"unit": unit, "metric": "households_paired", "limit": 100},
                ),
            ):
                p50, p99 = percentiles(api, path, params, args.requests)
                print(f"  {path:20} {unit:24} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")

        system.terminate()
        system.wait(120)
        launched = time.perf_counter()
        system = launch(data, port, SECRET)
        first_full_answer(api)
        print(
            f"restart to first full 两数: {time.perf_counter() - launched:.1f} s (goal within 10 s)"
        )
    finally:
        system.kill()
        system.wait(30)


if __name__ == "__main__":
    main()
