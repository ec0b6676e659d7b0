#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv outside the source tree, and run it there:
# `python -m bot --help` and a short sandbox start (killed once it prints its URL).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
SANDBOX_PID=
cleanup() {
    if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
quietly() {   # setuptools' and pip's warnings only matter when the step fails
    "$@" > "$WORK/step.log" 2>&1 || { cat "$WORK/step.log" >&2; return 1; }
}
quietly "$PY" -m pip wheel --no-deps --wheel-dir "$WORK/dist" .
rm -rf build ./*.egg-info
"$PY" -m venv "$WORK/venv"
quietly "$WORK/venv/bin/python" -m pip install "$WORK"/dist/mahalleyar-*.whl
cd "$WORK"          # nothing of the source tree on sys.path from here on
"$WORK/venv/bin/python" -m bot --help > "$WORK/help.txt"
grep -q "BOT_TOKEN" "$WORK/help.txt"
"$WORK/venv/bin/python" -c "import bot, sys; sys.exit(not (bot.DATA_DIR / \"provinces.csv\").is_file() or \"site-packages\" not in str(bot.LOCALES_DIR))"
# Both migration sets are in the wheel, with the same numbers (SQLite and PostgreSQL).
"$WORK/venv/bin/python" -c "import sys; from storage.db import migration_files as m; s, p = m('sqlite'), m('postgresql'); sys.exit(not s or [n for n, _, _ in s] != [n for n, _, _ in p])"
: > "$WORK/sandbox.log"
env -u BOT_TOKEN SANDBOX_PORT=0 SANDBOX_DATABASE_PATH="$WORK/sandbox.sqlite3" \
    "$WORK/venv/bin/python" -m bot > "$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 120); do
    if grep -q "http://127.0.0.1:" "$WORK/sandbox.log"; then break; fi
    if ! kill -0 "$SANDBOX_PID" 2>/dev/null; then break; fi
    sleep 0.5
done
if ! grep -q "http://127.0.0.1:" "$WORK/sandbox.log"; then
    echo "wheel check: the installed sandbox did not start:" >&2
    cat "$WORK/sandbox.log" >&2
    exit 1
fi
URL=$(grep -o "http://127.0.0.1:[0-9]*/" "$WORK/sandbox.log" | head -1)
"$WORK/venv/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()" "$URL"
kill -TERM "$SANDBOX_PID"
wait "$SANDBOX_PID" || true
SANDBOX_PID=
if grep -q "Traceback" "$WORK/sandbox.log"; then cat "$WORK/sandbox.log" >&2; exit 1; fi
echo "wheel check: built, installed outside the source tree, --help and the sandbox work"
