#!/usr/bin/env bash
# Debian's PostgreSQL server binaries (and contrib: pg_trgm), for the tests that run on a real
# PostgreSQL (tests/pg_server.py starts one in a temporary folder; no service is enabled).
# Idempotent and instant when installed; installs with apt-get as root (or via sudo).
set -euo pipefail
have_server() {
    for bin in /usr/lib/postgresql/*/bin/postgres; do
        [ -x "$bin" ] || continue
        share="/usr/share/postgresql/$(basename "$(dirname "$(dirname "$bin")")")"
        [ -f "$share/extension/pg_trgm.control" ] && return 0
    done
    return 1
}
if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/postgres" ]; then
    exit 0
fi
if have_server; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "postgres-deps: PostgreSQL server binaries missing and not root;" \
             "run: apt-get install -y postgresql postgresql-contrib" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql postgresql-contrib >/dev/null
ls -d /usr/lib/postgresql/*/bin
