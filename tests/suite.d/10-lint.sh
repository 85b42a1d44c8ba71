#!/usr/bin/env bash
# Formatting and clippy, warnings as errors; every relative link in README.md and docs/ resolves;
# the session and shell decide plain data / allowed Delta only through the entry points the tests
# and fuzz targets call (tests/lint/entry_points.py); mu-serverd's modules import downhill only
# (no cycle in a folder, top-level arrows as allowed: tests/lint/import_graph.py).
set -euo pipefail
"${MU_TEST_PYTHON:-python3}" tests/lint/doc_links.py
"${MU_TEST_PYTHON:-python3}" tests/lint/entry_points.py
"${MU_TEST_PYTHON:-python3}" tests/lint/import_graph.py
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
