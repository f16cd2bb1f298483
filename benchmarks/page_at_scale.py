"""Benchmark: the offices' page (issue 17) in headless Chromium on a register at scale.

    .venv/bin/python benchmarks/page_at_scale.py DATA_DIR [--rounds 5] [--views-db NAME]

DATA_DIR is a register ``benchmarks/two_counts.py --keep DIR`` built (``DIR/<size>``). Starts the
embedded system on it (all services in this process, its views as they are kept there), waits
until its views are caught up, then, as a national office would in the browser, times from the
action to what the user sees:
- open: the signed link opened to the national figures and their monthly lines drawn;
- province: 山东 chosen, its figures and monthly lines drawn;
- county: 沂南 chosen, its figures drawn;
- drill-down: a click on 山东's households paired to its first page of records (50);
- next page: the next 50 records.
Prints the median and the worst of ``--rounds`` rounds (goal: every one under a second).
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel import auth, config  # noqa: E402
from kjfp import runner  # noqa: E402
from tests.infrastructure import free_port  # noqa: E402
from tests.webdriver import Browser  # noqa: E402

PROVINCE, CITY, COUNTY = "山东", "临沂", "沂南"


def timed(action, condition, browser, what):
    began = time.perf_counter()
    action()
    browser.wait(condition, what, seconds=120)
    return (time.perf_counter() - began) * 1000


def figures_shown(unit_label):
    return lambda b: (
        b.find("#counts-unit").text == unit_label
        and b.find('#figures [data-metric="households_paired"]').text.strip() != ""
        and len(b.find_all("#trend figure")) == 7
    )


def one_round(browser, base, token):
    times = {}
    times["open"] = timed(
        lambda: (browser.get("about:blank"), browser.get(f"{base}/#token={token}")),
        lambda b: (
            b.find("body").get_attribute("data-ready") == "loaded"
            and len(b.find_all("#trend figure")) == 7
        ),
        browser,
        "the national figures",
    )

    def pick_province():
        browser.select("#unit-top", f"province:{PROVINCE}")
        browser.find("#load-counts").click()

    times["province"] = timed(pick_province, figures_shown(PROVINCE), browser, "山东's figures")

    def pick_county():
        browser.select("#unit-city", CITY)
        browser.select("#unit-county", COUNTY)
        browser.find("#load-counts").click()

    times["county"] = timed(
        pick_county, figures_shown(f"{PROVINCE} {CITY} {COUNTY}"), browser, "沂南's figures"
    )
    browser.select("#unit-city", "")  # back to the whole province
    browser.find("#load-counts").click()
    browser.wait(figures_shown(PROVINCE), "山东's figures again", seconds=120)
    times["drill-down"] = timed(
        lambda: browser.find('#figures [data-metric="households_paired"]').click(),
        lambda b: len(b.find_all("#records-body tr")) == 50,
        browser,
        "the first page",
    )
    times["next page"] = timed(
        lambda: browser.find("#records-more").click(),
        lambda b: len(b.find_all("#records-body tr")) == 100,
        browser,
        "the next page",
    )
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--views-db",
        default=config.Settings().views_db,
        help="The views to serve from (two_counts.py names its views bench_<id>).",
    )
    args = parser.parse_args()
    settings = config.Settings(
        data_dir=args.data_dir, views_db=args.views_db, http_port=free_port()
    )
    base = f"http://127.0.0.1:{settings.http_port}"
    service_runner = runner.start(settings)
    scratch = Path(tempfile.mkdtemp(prefix="kjfp-page-bench-"))
    browser = Browser(
        shutil.which("chromium"), shutil.which("chromedriver"), scratch / "profile", scratch
    )
    try:
        while True:
            try:
                if requests.get(base + "/ready", timeout=600).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        token = auth.mint(settings.token_secret, "national_office", "national", "bench")
        rounds = [one_round(browser, base, token) for _ in range(args.rounds)]
    finally:
        browser.quit()
        service_runner.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"the page on {args.data_dir} ({args.rounds} rounds; ms from the action to what it shows)"
    )
    for step in rounds[0]:
        samples = [r[step] for r in rounds]
        print(
            f"  {step:<12} median {statistics.median(samples):7.0f} ms   worst {max(samples):7.0f} ms"
        )


if __name__ == "__main__":
    main()
