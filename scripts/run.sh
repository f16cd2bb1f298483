#!/usr/bin/env bash
# README's first command: install, then run the whole system in one process on the embedded
# default (no servers), with the sample register loaded, at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -c requirements.lock -e . >.venv/install.log 2>&1 \
  || { cat .venv/install.log; exit 1; }
exec .venv/bin/kjfp run --sample-data "$@"
