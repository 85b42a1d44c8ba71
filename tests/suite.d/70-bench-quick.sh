#!/usr/bin/env bash
# mu-bench --quick (issue 8): every phase with tiny counts against the ceiling relay, the reference
# server and mu-serverd, over loopback. No timing is asserted (a debug build is enough); it fails
# when any message was lost, a login/join/upload failed, or a server was never measured.
set -euo pipefail
cargo build -q -p mu-bench -p mu-serverd
timeout 300 target/debug/mu-bench --quick --mu-serverd target/debug/mu-serverd
