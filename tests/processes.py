"""Start the system's own entry points as OS processes, as the containers do."""

import subprocess
import time

import requests

from tests.infrastructure import PYTHON, ROOT


def start(args, env, log_path):
    log = open(log_path, "ab")
    return subprocess.Popen(
        [PYTHON, "-m", "kjfp.cli", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_ready(base_url, process, log_path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode}:\n{open(log_path).read()[-3000:]}"
            )
        try:
            if requests.get(base_url + "/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base_url} not ready after {timeout}s:\n{open(log_path).read()[-3000:]}")


def stop(process, timeout=20):
    process.terminate()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
