#!/usr/bin/env bash
# Protocol conformance: the real replication 0.9.10 client (and raw pyzmq peers) against the real
# mu-serverd binary AND the reference `python -m replication.server`, same tests; deliberate
# differences are asserted per server. Then a smoke subset with the pyzmq 25 / deepdiff 5.7.0
# client set. Every wait inside is bounded; ports 21000-21999 on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
cargo build -q -p mu-serverd
export MU_SERVERD_BIN="${MU_SERVERD_BIN:-$ROOT/target/debug/mu-serverd}"
VENV="${MU_VENV:-$ROOT/.venv}"
VENV57="${MU_VENV_DD57:-$ROOT/.venv-dd57}"
for py in "$VENV/bin/python" "$VENV57/bin/python"; do
  [ -x "$py" ] || { echo "missing $py: run tests/setup.sh"; exit 1; }
done
cd tests/conformance
echo "--- conformance: replication 0.9.10 + pyzmq 26 + deepdiff 8.1.1, mu-serverd and reference"
timeout 600 "$VENV/bin/python" -m pytest -q -p no:cacheprovider --durations=5
echo "--- conformance with replication 0.9.10 + pyzmq 25 + deepdiff 5.7.0 clients (5.7.0 deltas), mu-serverd"
MU_CONFORMANCE_SERVERS=mu timeout 300 "$VENV57/bin/python" -m pytest -q -p no:cacheprovider \
  test_session.py test_slow.py
