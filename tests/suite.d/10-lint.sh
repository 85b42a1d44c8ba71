#!/usr/bin/env bash
# Formatting and clippy, warnings as errors; every relative link in README.md and docs/ resolves.
set -euo pipefail
"${MU_TEST_PYTHON:-python3}" tests/lint/doc_links.py
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
