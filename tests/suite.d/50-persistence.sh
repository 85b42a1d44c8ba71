#!/usr/bin/env bash
# Persistence (issue #6): the real mu-serverd with a state directory, restarted, killed with
# SIGKILL mid-stream, and fed damaged state (torn journal, flipped snapshot byte, unreadable dir,
# a full 1 MiB tmpfs), driven by real replication 0.9.10 clients and mu-ctl; one daemon per state
# dir and mu-ctl stop/socket fallback (issue 15). Two tests need root (tmpfs mount, running the
# daemon as nobody) and are skipped without it. Ports 23000-23999 on 127.0.0.1; every wait is bounded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
cargo build -q -p mu-serverd -p mu-ctl
export MU_SERVERD_BIN="${MU_SERVERD_BIN:-$ROOT/target/debug/mu-serverd}"
export MU_CTL_BIN="${MU_CTL_BIN:-$ROOT/target/debug/mu-ctl}"
VENV="${MU_VENV:-$ROOT/.venv}"
[ -x "$VENV/bin/python" ] || { echo "missing $VENV/bin/python: run tests/setup.sh"; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "50-persistence: NOT ROOT: the tests that need root (a tmpfs mount, running the daemon as"
  echo "50-persistence: another user) are SKIPPED; every other test runs. CI runs this suite as root."
fi
cd tests/persistence
timeout 600 "$VENV/bin/python" -m pytest -q -rs -p no:cacheprovider --durations=5
