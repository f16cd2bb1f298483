#!/usr/bin/env bash
# Install everything the tests need and run them: README's second command, and what .ci/run calls.
# Starts RabbitMQ and PostgreSQL if they are not running; the MongoDB stand-in (nx-27017, in its
# own venv because it needs a newer pymongo than the services may use) is started by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]' >.venv/install.log 2>&1 \
  || { cat .venv/install.log; exit 1; }
if [ ! -x .venv-mongo/bin/nx-27017 ]; then
  "$PY" -m venv .venv-mongo
  .venv-mongo/bin/pip install -q --disable-pip-version-check -r deploy/requirements-mongo-standin.txt
fi

# The page tests drive Debian's headless Chromium; a CJK font makes their screenshots readable.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing Chromium for the page tests"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
     chromium chromium-driver fonts-wqy-microhei) >.venv/apt.log 2>&1 || { cat .venv/apt.log; exit 1; }
fi

if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  echo "starting RabbitMQ"; rabbitmq-server -detached
  for _ in $(seq 60); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 1; done
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "starting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 60); do (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 1; done
fi

# Lint, format and type checks first (configured in pyproject.toml): seconds, and a failure names
# the file and line.
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
