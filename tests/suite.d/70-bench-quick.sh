#!/usr/bin/env bash
# mu-bench --quick (issue 8): every phase with tiny counts against the ceiling relay, the reference
# server and mu-serverd, over loopback. No timing is asserted (a debug build is enough); it fails
# when any message was lost, a login/join/upload failed, or a server was never measured. The
# targets are printed for information, without MET / MISSED: tiny counts cannot judge them.
set -euo pipefail
cargo build -q -p mu-bench -p mu-serverd
out=$(mktemp /tmp/mu-bench-quick.XXXXXX)
trap 'rm -f "$out"' EXIT
timeout 300 target/debug/mu-bench --quick --mu-serverd target/debug/mu-serverd | tee "$out"
if grep -qE ' (MET|MISSED)$' "$out"; then
  echo "70-bench-quick: FAIL: --quick printed a MET/MISSED verdict it cannot judge" >&2
  exit 1
fi
