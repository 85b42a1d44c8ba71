#!/usr/bin/env bash
# Protocol conformance: the real replication 0.9.10 client (and raw pyzmq peers) against the real
# mu-serverd binary AND the reference `python -m replication.server`, same tests; deliberate
# differences are asserted per server. Then a smoke subset with the pyzmq 25 / deepdiff 5.7.0
# client set, and the addon generations (issue 17): the core scenarios with replication 0.9.9
# clients against a server admitting 0.9.9, 0.9.9 refused by a default server and by a 0.9.10
# session, a 0.10.3 client (no ZeroMQ) logged and refused without harm. Every wait inside is
# bounded; ports 21000-21999 on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# mu-bench provides the WAN rig (`mu-bench wan-proxy`) of test_join_wan.py.
cargo build -q -p mu-serverd -p mu-bench
export MU_SERVERD_BIN="${MU_SERVERD_BIN:-$ROOT/target/debug/mu-serverd}"
export MU_BENCH_BIN="${MU_BENCH_BIN:-$ROOT/target/debug/mu-bench}"
VENV="${MU_VENV:-$ROOT/.venv}"
VENV57="${MU_VENV_DD57:-$ROOT/.venv-dd57}"
VENV099="${MU_VENV_099:-$ROOT/.venv-099}"
VENV0103="${MU_VENV_0103:-$ROOT/.venv-0103}"
for py in "$VENV/bin/python" "$VENV57/bin/python" "$VENV099/bin/python" "$VENV0103/bin/python"; do
  [ -x "$py" ] || { echo "missing $py: run tests/setup.sh"; exit 1; }
done
cd tests/conformance
echo "--- conformance: replication 0.9.10 + pyzmq 26 + deepdiff 8.1.1, mu-serverd and reference"
timeout 600 "$VENV/bin/python" -m pytest -q -p no:cacheprovider --durations=5
echo "--- conformance with replication 0.9.10 + pyzmq 25 + deepdiff 5.7.0 clients (5.7.0 deltas), mu-serverd"
MU_CONFORMANCE_SERVERS=mu timeout 300 "$VENV57/bin/python" -m pytest -q -p no:cacheprovider \
  test_session.py test_slow.py
echo "--- addon generations: replication 0.9.9 clients (core scenarios + version checks), 0.9.10 and 0.10.3 peers, mu-serverd"
MU_CONFORMANCE_SERVERS=mu MU_CONFORMANCE_CLIENT_VERSIONS=0.9.9 \
  MU_VENV_0910_PYTHON="$VENV/bin/python" MU_VENV_0103_PYTHON="$VENV0103/bin/python" \
  timeout 300 "$VENV099/bin/python" -m pytest -q -p no:cacheprovider test_session.py test_versions.py \
  -k "not heartbeat_that_never_starts and not vanish"
