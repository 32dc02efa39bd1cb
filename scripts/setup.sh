#!/usr/bin/env bash
# Set up everything the gateway needs on a fresh machine. Idempotent.
#   scripts/setup.sh          virtualenv + the package (for `make run`)
#   scripts/setup.sh --test   also test and bench extras, Debian's chromium, and a running PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
if [[ ! -x "$VENV/bin/python" ]]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        # Minimal Debian ships Python without venv/ensurepip.
        rm -rf "$VENV"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
        "$PYTHON" -m venv "$VENV"
    fi
fi
stamp="$VENV/.installed-$WITH_TEST-$(sha256sum pyproject.toml | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
    "$VENV/bin/pip" install --quiet --upgrade pip
    if [[ $WITH_TEST == 1 ]]; then
        "$VENV/bin/pip" install --quiet -e ".[test,bench]"
    else
        "$VENV/bin/pip" install --quiet -e .
    fi
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi

if [[ $WITH_TEST == 1 ]]; then
    # Browser tests drive Debian's Chromium through Playwright; never a downloaded browser.
    if [[ ! -x /usr/bin/chromium ]]; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
    # Store and outbox tests run on PostgreSQL too (127.0.0.1:5432, user postgres).
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        if command -v pg_ctlcluster >/dev/null 2>&1 && [[ -d /etc/postgresql ]]; then
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        fi
        for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    fi
    # Rate-limit tests share counters between two gateways through Redis (127.0.0.1:6379), as replicas would.
    if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        if command -v redis-server >/dev/null 2>&1; then
            redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
        fi
    fi
fi
