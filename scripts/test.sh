#!/usr/bin/env bash
# Install everything the tests need into .venv and run them (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# The sandbox browser test drives Debian's Chromium (no browser download at test time).
if [ -f scripts/browser-deps.sh ]; then bash scripts/browser-deps.sh; fi
# The storage and end-to-end tests also run on a real PostgreSQL (Debian's server binaries).
if [ -f scripts/postgres-deps.sh ]; then bash scripts/postgres-deps.sh; fi
exec .venv/bin/python -m pytest "$@"
