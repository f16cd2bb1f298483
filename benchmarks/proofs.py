"""Benchmark: Merkle proofs for a log of 1M events (issue 16), served from the tree as the services
keep it in their event-store database.

    .venv/bin/python benchmarks/proofs.py [--leaves 1000000] [--store sqlite|postgres] [--proofs 200]

The tree is built directly through ``LogTree`` (kernel/tree.py), appending synthetic leaf hashes
in publication batches of 5,000 at positions with a gap every 1,000 (as PostgreSQL leaves them):
building 1M events through the registry's commands takes an hour here (benchmarks/audit_replay.py)
and proves nothing more, since the tree sees only (position, leaf hash). Then, timed:
- inclusion proofs of random positions, in the whole tree and in a random smaller one, each with
  its root (what GET /audit/proofs/inclusion computes, less the checkpoint's note);
- consistency proofs between random sizes and the whole tree, with both roots;
- verifying each (kernel/merkle.py).
Prints the milliseconds per proof (median and worst) and the stored hashes each read.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
eventlet.monkey_patch()

import argparse  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from tqdm import tqdm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kernel import config, merkle  # noqa: E402
from kernel.chain import ChainLedger  # noqa: E402
from kernel.tree import LogTree, checkpoint_signer  # noqa: E402
from services.registry import SERVICE  # noqa: E402

BATCH = 5000


def build(tree, leaves):
    position = 0
    with tqdm(total=leaves, unit="leaf", desc="building the tree") as bar:
        while (size := tree.last()[0]) < leaves:
            batch = []
            for index in range(size, min(size + BATCH, leaves)):
                position += 2 if index % 1000 == 999 else 1
                batch.append((position, hashlib.sha256(index.to_bytes(8, "big")).digest()))
            tree.sign(*tree._append(batch))
            bar.update(len(batch))


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def report(name, times, reads):
    print(
        f"{name}: median {statistics.median(times):.2f} ms, worst {max(times):.2f} ms, "
        f"{max(reads)} stored hashes read at most ({len(times)} proofs)"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-db", default="kjfp_bench_proofs", help="created, and dropped at the end"
    )
    parser.add_argument("--proofs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = config.Settings(
            event_store=args.store, data_dir=Path(scratch), postgres_db=args.postgres_db
        )
        app = SERVICE.open(settings)
        tree = LogTree(
            ChainLedger(app.recorder, "registry"), checkpoint_signer(settings, "registry")
        )
        started = time.perf_counter()
        build(tree, args.leaves)
        size, last_position = tree.last()
        print(
            f"built {size} leaves (last position {last_position}) on {args.store} "
            f"in {time.perf_counter() - started:.0f} s"
        )
        rng = random.Random(16)
        verify_ms, times, reads = [], [], []
        for _ in range(args.proofs):
            position = rng.randint(1, last_position)
            found = tree.leaf(position)
            if found is None:  # a gap
                continue
            tree_size = rng.choice((size, rng.randint(found[0] + 1, size)))
            proof, ms = timed(
                lambda position=position, tree_size=tree_size: tree.inclusion(position, tree_size)
            )
            times.append(ms)
            reads.append(
                len(
                    merkle.needed(
                        merkle.inclusion_plan(found[0], tree_size), [merkle.root_plan(tree_size)]
                    )
                )
                + 1
            )
            _, ms = timed(
                lambda proof=proof, tree_size=tree_size, found=found: merkle.verify_inclusion(
                    proof["leaf_index"],
                    tree_size,
                    found[1],
                    [base64.b64decode(p) for p in proof["proof"]],
                    base64.b64decode(proof["root_hash"]),
                )
            )
            verify_ms.append(ms)
        report("inclusion proof", times, reads)
        times, reads = [], []
        for _ in range(args.proofs):
            first = rng.randint(1, size)
            proof, ms = timed(lambda first=first: tree.consistency(first, size))
            times.append(ms)
            reads.append(
                len(
                    merkle.needed(
                        merkle.consistency_plan(first, size),
                        [merkle.root_plan(first), merkle.root_plan(size)],
                    )
                )
            )
        report("consistency proof", times, reads)
        print(f"verify an inclusion proof: median {statistics.median(verify_ms):.3f} ms")
        app.close()
    if args.store == "postgres":
        drop(settings)


def drop(settings):
    import psycopg

    from kernel.eventstore import postgres_conninfo

    with psycopg.connect(postgres_conninfo(settings, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{settings.postgres_db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
