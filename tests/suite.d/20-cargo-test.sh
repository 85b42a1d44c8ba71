#!/usr/bin/env bash
# Every Rust test: unit tests, core state-machine tests, and the differential tests that call the
# venv's real CPython pickle and deepdiff (MU_TEST_PYTHON).
set -euo pipefail
cargo test --workspace --no-fail-fast 2>&1
