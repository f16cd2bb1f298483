"""Benchmark: the auditor's replay of a registry log vs the raw read-and-decode rate of the same
store, in the same run.

    .venv/bin/python benchmarks/audit_replay.py [--events 1000000] [--store sqlite|postgres] [--keep DIR]

The log is built once (and kept with --keep DIR for later runs) through the registry's own
commands, in a register's proportions: households imported in batches, experts registered,
agreements pairing five households each, service logs and lifted-out households. Then, timed:
- read and decode: the stored events read from the store in batches and decrypted and decoded
  into domain events (what any replay must pay at least);
- replay: the same, fed through the 两数 projection into the auditor's scratch view store.
Goal: replay at least 50% of the read-and-decode rate.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from tqdm import tqdm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel import config  # noqa: E402
from kjfp.audit.logs import StoreLog  # noqa: E402
from kjfp.audit.replay import Replayer  # noqa: E402
from kjfp.audit.scratch import ScratchViews  # noqa: E402
from kjfp.sample_data import id_number  # noqa: E402
from services.registry import SERVICE  # noqa: E402
from services.registry.tests.forms import expert_form  # noqa: E402

PLACE = {"province": "山东", "city": "临沂", "county": "沂南"}
HOUSEHOLDS_PER_EXPERT = 40  # of which 5 paired, 2 lifted out, with 10 service logs per expert


def build(settings, events):
    """Record about ``events`` events through the registry's commands."""
    app = SERVICE.open(settings)
    bar = tqdm(total=events, unit="event", desc="building the log")
    expert_no = 0
    while (done := app.recorder.max_notification_id() or 0) < events:
        bar.update(done - bar.n)
        expert_no += 1
        codes = [f"37{expert_no:07d}{h:03d}" for h in range(HOUSEHOLDS_PER_EXPERT)]
        app.import_households(
            [
                {
                    "code": code,
                    "head_name": "户主",
                    "head_id_number": id_number("371321", "19950101", f"{h:03d}"),
                    "people": 1 + h % 6,
                    "location": PLACE,
                    "effective_date": "2020-01-01",
                }
                for h, code in enumerate(codes)
            ]
        )
        born = f"{1995 + expert_no // 1000 % 10}{1 + expert_no // 10000 % 12:02d}01"
        expert = app.register_expert(
            **expert_form(
                name=f"专家{expert_no}",
                id_number=id_number("371321", born, f"{expert_no % 1000:03d}"),
                location=PLACE,
            )
        )
        app.file_pairing(
            expert_id=str(expert.id),
            household_codes=codes[:5],
            village="西岭村",
            start="2020-02-01",
            end="2020-12-31",
            goals="技术脱贫",
            tasks="入户指导",
            mechanism="专家+农户",
            effective_date="2020-02-01",
        )
        for day in range(10):
            app.log_service(
                expert_id=str(expert.id),
                date=f"2020-03-{day + 1:02d}",
                place="西岭村",
                form="田间指导",
                content="苹果树修剪",
                participants=12,
                hours=4,
                effective_date=f"2020-03-{day + 1:02d}",
            )
        for code in codes[:2]:
            app.lift_out(code, "2020-06-01", 1, "2020-06-01")
    bar.close()
    app.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--keep", type=Path, help="Build the log here once and reuse it (SQLite).")
    parser.add_argument(
        "--postgres-db", default="kjfp_bench", help="The database for --store postgres."
    )
    args = parser.parse_args()
    settings = config.Settings(
        data_dir=args.keep or Path(tempfile.mkdtemp(prefix="kjfp-audit-bench-")),
        event_store=args.store,
        postgres_db=args.postgres_db,
    )
    build(settings, args.events)

    log = StoreLog(settings, SERVICE)
    mapper = SERVICE.scratch(settings.cipher_key).mapper
    total = log.last_position()

    began = time.perf_counter()
    decoded = sum(len([mapper.to_domain_event(n) for n in batch]) for batch in log.batches())
    decode_rate = decoded / (time.perf_counter() - began)

    replayer = Replayer(log, mapper, ScratchViews())
    began = time.perf_counter()
    with tqdm(total=total, unit="event", desc="replaying", leave=False) as bar:
        replayer.progress = bar.update
        replayed = replayer.run_to(None)
    replay_rate = total / (time.perf_counter() - began)
    log.close()
    assert replayed == total and decoded == total

    print(f"store={args.store} events={total}")
    print(f"read and decode:  {decode_rate:9.0f} events/s   <- raw")
    print(f"replay (两数):     {replay_rate:9.0f} events/s")
    print(f"replay / read and decode: {replay_rate / decode_rate:.0%} (goal: at least 50%)")


if __name__ == "__main__":
    main()
