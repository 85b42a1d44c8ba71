#!/usr/bin/env bash
# Fuzzing (issue 14): builds the libFuzzer targets in fuzz/ (one per entry point: pickle_decode,
# delta_apply, session_frame, metadata_merge) with the nightly toolchain, then runs each briefly
# from the committed seed corpus fuzz/seeds/<target> (the hostile memo-DAG and big-integer shapes
# among them) under a fixed cost budget: no input may take more than 2 s (-timeout) or grow the
# process past 512 MB RSS (-rss_limit_mb, checked every second). Fails when libFuzzer reports a
# crash, panic, timeout or out-of-memory (exit 77, 70 or 71 here, and any artifact it wrote). New corpus units
# and artifacts go to a temporary directory, never into the repository; on failure the
# directory is kept and named, so the failing input can be replayed:
#   fuzz/target/x86_64-unknown-linux-gnu/release/<target> <artifact>
# MU_FUZZ_SECONDS (default 15) sets each target's run, MU_FUZZ_TARGETS the targets to run,
# MU_FUZZ_TOOLCHAIN the rustup toolchain (default nightly).
# Also checks fuzz/'s formatting (its own workspace, outside `cargo fmt --all`) and that
# fuzz/gen_seeds.py still writes exactly the committed seeds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT/fuzz"
SECONDS_EACH="${MU_FUZZ_SECONDS:-15}"
TARGETS="${MU_FUZZ_TARGETS:-session_frame delta_apply metadata_merge pickle_decode}"
TOOLCHAIN="${MU_FUZZ_TOOLCHAIN:-nightly}"

cargo fmt --all -- --check

PY="${MU_TEST_PYTHON:-python3}"
command -v "$PY" >/dev/null || PY=python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mu-fuzz.XXXXXX")
keep=0
trap '[ $keep -eq 1 ] || rm -rf "$tmp"' EXIT
"$PY" gen_seeds.py "$tmp/seeds"
diff -r "$tmp/seeds" seeds || { echo "fuzz: fuzz/seeds differs from what fuzz/gen_seeds.py writes"; exit 1; }

# (never let rustup download a toolchain here: CI's machine image has one or not)
if ! RUSTUP_AUTO_INSTALL=0 cargo "+$TOOLCHAIN" --version >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: no nightly Rust toolchain (\`cargo +$TOOLCHAIN\`); the fuzz targets were neither built nor run"
  exit 77 # tests/run.sh counts it as skipped
fi

# As documented in fuzz/Cargo.toml: sancov instrumentation for libFuzzer; --target keeps the
# RUSTFLAGS off build scripts and proc macros.
start=$(date +%s)
RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares" \
  RUSTUP_AUTO_INSTALL=0 cargo "+$TOOLCHAIN" build -q --release --locked --target x86_64-unknown-linux-gnu --bins \
  --target-dir "$ROOT/fuzz/target" || {
  echo "fuzz: build failed (if fuzz/Cargo.lock is stale after a dependency change in the main workspace: cd fuzz && cargo update --workspace)"
  exit 1
}
echo "fuzz: built in $(($(date +%s) - start)) s"
BIN="$ROOT/fuzz/target/x86_64-unknown-linux-gnu/release"

# One run: exit status 0 and no artifact, or the report's tail and a failure.
run() {
  local t=$1 rc=0
  mkdir -p "$tmp/corpus/$t" "$tmp/artifacts/$t"
  # The first corpus directory receives new units; the committed seeds are only read.
  timeout $((SECONDS_EACH * 4 + 60)) "$BIN/$t" -timeout=2 -rss_limit_mb=512 \
    -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -artifact_prefix="$tmp/artifacts/$t/" "$tmp/corpus/$t" "$ROOT/fuzz/seeds/$t" \
    >"$tmp/$t.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$tmp/artifacts/$t")" ]; then
    tail -n 40 "$tmp/$t.log"
    echo "fuzz: $t FAILED (exit $rc; artifacts: $(ls -A "$tmp/artifacts/$t" | tr '\n' ' '))"
    return 1
  fi
  echo "fuzz: $t ok: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$tmp/$t.log" | grep -o '[0-9]*$') runs in ${SECONDS_EACH} s, $(ls "$tmp/corpus/$t" | wc -l) new units"
}

# Two at a time (CI has 2 cores; each libFuzzer process is single-threaded).
failed=0 pids=()
for t in $TARGETS; do
  run "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done

if [ $failed -ne 0 ]; then
  keep=1
  echo "fuzz: failing inputs and logs kept in $tmp"
  exit 1
fi
echo "fuzz: all targets within budget ($(($(date +%s) - start)) s with the build)"
