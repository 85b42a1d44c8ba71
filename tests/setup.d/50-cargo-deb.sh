#!/usr/bin/env bash
# cargo-deb 3.x for tests/suite.d/60-packaging.sh and packaging/build-deb.sh (about 75 s, once).
set -euo pipefail
if cargo deb --version 2>/dev/null | grep -q '^cargo-deb 3\.'; then
  exit 0
fi
echo "setup: cargo install cargo-deb --locked"
cargo install cargo-deb --locked --version '^3.8' --quiet
