#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, then runs every suite in
# tests/suite.d/ in name order. Each suite is a bash script that exits non-zero on failure, or 77
# when it cannot run on this machine (not root, or it would touch something it did not create).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=never
export MU_ROOT="$ROOT"
export MU_VENV="$ROOT/.venv"
export MU_VENV_DD57="$ROOT/.venv-dd57"
export MU_VENV_099="$ROOT/.venv-099"
export MU_VENV_0103="$ROOT/.venv-0103"
export MU_TEST_PYTHON="$MU_VENV/bin/python"

bash tests/setup.sh || { echo "setup failed"; exit 1; }

passed=0 failed=0 skipped=0 failed_names=() skipped_names=()
start=$(date +%s)
for suite in tests/suite.d/*.sh; do
  name=$(basename "$suite" .sh)
  if [ -n "${MU_SUITES:-}" ] && ! grep -qw "$name" <<<"$MU_SUITES"; then continue; fi
  echo "=== suite $name ($(($(date +%s) - start))s)"
  bash "$suite"
  rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); echo "=== suite $name: ok"
  elif [ $rc -eq 77 ]; then # the suite cannot run here and said why
    skipped=$((skipped + 1)); skipped_names+=("$name"); echo "=== suite $name: SKIPPED"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "=== suite $name: FAILED"
  fi
done
echo "=== total time $(($(date +%s) - start))s"
[ $failed -eq 0 ] || echo "failed suites: ${failed_names[*]}"
[ $skipped -eq 0 ] || echo "SKIPPED suites (see their output for why): ${skipped_names[*]}"
echo "suites: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
