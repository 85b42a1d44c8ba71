#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need, then runs every suite in
# tests/suite.d/ in name order. Each suite is a bash script that exits non-zero on failure.
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

passed=0 failed=0 failed_names=()
start=$(date +%s)
for suite in tests/suite.d/*.sh; do
  name=$(basename "$suite" .sh)
  if [ -n "${MU_SUITES:-}" ] && ! grep -qw "$name" <<<"$MU_SUITES"; then continue; fi
  echo "=== suite $name ($(($(date +%s) - start))s)"
  if bash "$suite"; then
    passed=$((passed + 1)); echo "=== suite $name: ok"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "=== suite $name: FAILED"
  fi
done
echo "=== total time $(($(date +%s) - start))s"
[ $failed -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
