"""``kjfp import-households`` (its own OS process, as a user runs it) sending a CSV of 100,000
households to the embedded system (in-process memory:// transport, SQLite, the embedded view store); a re-run
of the same file creates nothing."""

import csv
import subprocess

from kjfp.sample_data import id_number
from tests.http_client import log_position, start_system
from tests.infrastructure import PYTHON, ROOT

ROWS = int(__import__("os").environ.get("IMPORT_ROWS", 100_000))


def write_base_data(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "code",
                "head_name",
                "head_id_number",
                "people",
                "province",
                "city",
                "county",
                "township",
                "village",
            ]
        )
        for n in range(rows):
            writer.writerow(
                [
                    f"37132{n:07d}",
                    "户主",
                    id_number("371321", f"19{95 + n % 5}0{1 + n % 9}1{n % 9}", f"{n % 1000:03d}"),
                    1 + n % 6,
                    "山东",
                    "临沂",
                    "沂南",
                    "依汶镇",
                    f"村{n % 300}",
                ]
            )


def import_file(api, path):
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "kjfp.cli",
            "import-households",
            str(path),
            "--url",
            api.base,
            "--token",
            api.token(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_one_hundred_thousand_rows_import_and_a_re_run_changes_nothing(tmp_path):
    service_runner, api = start_system(tmp_path)
    try:
        base = tmp_path / "base.csv"
        write_base_data(base, ROWS)

        assert import_file(api, base) == f"created {ROWS}, duplicate 0, rejected 0"
        position = log_position(api)
        assert import_file(api, base) == f"created 0, duplicate {ROWS}, rejected 0"
        assert log_position(api) == position == ROWS
    finally:
        service_runner.stop()
