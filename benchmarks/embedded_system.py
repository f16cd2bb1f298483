"""The embedded system (``kjfp run``: one process) launched for a benchmark, so that its client
times it from another process, as a user's client reaches it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def launch(data, port, token_secret):
    """``kjfp run`` on the data directory ``data`` at ``port``: the embedded default whatever
    this shell's settings say; its log appended to ``data``/system.log."""
    env = {
        **os.environ,
        "KJFP_DATA_DIR": str(data),
        "HTTP_PORT": str(port),
        "TOKEN_SECRET": token_secret,
        "PYTHONPATH": str(ROOT),
    }
    for name in ("AMQP_URI", "EVENT_STORE", "MONGO_URI"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "kjfp.cli", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(data) / "system.log", "a"),
    )
