//! Live differential test of the Delta engine against real deepdiff (issue #3).
//!
//! `tests/py/delta_oracle.py` runs once per batch inside the test venv: it generates random
//! Blender-dump-like (old, new) pairs, computes `Delta(DeepDiff(old, new, cache_size=5000)).dumps()`
//! like a replication client, and deepdiff's own `old + Delta(raw)` (or the exception). Here the
//! Rust engine applies the same bytes to the same old pickle; the result must be type-exactly
//! equal (`Value::strict_eq`: types, dict order, float bits) where deepdiff succeeds, and an
//! error where deepdiff raises. Batches: deepdiff 8.1.1 (`.venv`) and 5.7.0 (`.venv-dd57`), each
//! with a fixed seed and with a fresh seed that is printed (set `MU_DELTA_SEED` to replay one).
//!
//! Every case is also applied in place (`Delta::apply_in_place`, what the server does to a
//! stored node) on a value nobody else holds: it must give the same result, and where deepdiff
//! raises the value must come back unchanged (type-exactly and as encoded bytes). The `--halfway`
//! batches hold only deltas deepdiff raises on after it already changed the value.

mod delta_support;

use delta_support::{oracle, python_570, python_811, Case};
use mu_serverd::delta::{Delta, Dialect};
use mu_serverd::pickle::{decode, encode, Limits, Value};
use std::path::PathBuf;

fn short(v: &Value) -> String {
    let s = format!("{v:?}");
    if s.len() > 1500 {
        let cut = s
            .char_indices()
            .take_while(|(i, _)| *i < 1500)
            .last()
            .map_or(0, |(i, _)| i);
        format!("{}… ({} chars)", &s[..cut], s.len())
    } else {
        s
    }
}

/// What one batch replay saw.
struct Replay {
    cases: usize,
    raised: usize,
    /// Raised cases whose in-place apply had written something before the error (rolled back).
    rolled_back: usize,
    failures: Vec<String>,
}

/// The in-place apply of one case on a freshly decoded value (its only holder): where deepdiff
/// raised, an error and the old value unchanged; elsewhere deepdiff's result. Returns the number
/// of writes rolled back (0 when it succeeded).
fn check_in_place(c: &Case, old: &Value, header: &str) -> Result<usize, String> {
    let limits = Limits::default();
    let mut value = decode(&c.old, &limits).expect("old pickle decodes");
    let got = Delta::from_bytes(&c.delta, &limits)
        .map_err(|e| (e, 0))
        .and_then(|d| d.apply_in_place_counted(&mut value));
    match (c.raised, got) {
        (true, Ok(_)) => Err(format!(
            "{header}\n  in place: deepdiff raised but Rust returned {}",
            short(&value)
        )),
        (true, Err((_, undone))) => {
            if !value.strict_eq(old) {
                return Err(format!(
                    "{header}\n  in place: not restored after {undone} writes: {}",
                    short(&value)
                ));
            }
            if encode(&value) != encode(old) {
                return Err(format!(
                    "{header}\n  in place: restored value encodes differently"
                ));
            }
            if c.label.starts_with("halfway") && undone == 0 {
                return Err(format!(
                    "{header}\n  in place: deepdiff changed the value before raising, Rust wrote nothing"
                ));
            }
            Ok(undone)
        }
        (false, Ok(_)) => {
            let expected = decode(&c.expected, &limits).expect("result pickle decodes");
            if value.strict_eq(&expected) {
                Ok(0)
            } else {
                Err(format!(
                    "{header}\n  in place: expected = {}\n  got      = {}",
                    short(&expected),
                    short(&value)
                ))
            }
        }
        (false, Err((e, _))) => Err(format!("{header}\n  in place: Rust error: {e}")),
    }
}

/// Replays every case, copying (`Delta::apply`) and in place.
fn replay(cases: &[Case], dialect: Dialect) -> Replay {
    let limits = Limits::default();
    let mut failures = Vec::new();
    let mut raised = 0;
    let mut rolled_back = 0;
    for c in cases {
        let old = decode(&c.old, &limits).expect("old pickle decodes");
        let delta_value = decode(&c.delta, &limits).expect("delta pickle decodes");
        let got = Delta::from_bytes(&c.delta, &limits).and_then(|d| {
            if c.delta.len() > 5 {
                assert_eq!(d.dialect(), dialect, "case {} dialect", c.index);
            }
            d.apply(&old)
        });
        let header = format!(
            "case {} ({}):\n  old   = {}\n  delta = {}",
            c.index,
            c.label,
            short(&old),
            short(&delta_value)
        );
        match check_in_place(c, &old, &header) {
            Ok(undone) => rolled_back += usize::from(undone > 0),
            Err(f) => failures.push(f),
        }
        if c.raised {
            raised += 1;
            if let Ok((v, _)) = got {
                failures.push(format!(
                    "{header}\n  deepdiff raised {} but Rust returned {}",
                    String::from_utf8_lossy(&c.expected),
                    short(&v)
                ));
            }
            continue;
        }
        let expected = decode(&c.expected, &limits).expect("result pickle decodes");
        match got {
            Ok((v, _)) if v.strict_eq(&expected) => {}
            Ok((v, logs)) => failures.push(format!(
                "{header}\n  expected = {}\n  got      = {}\n  logs = {logs:?}",
                short(&expected),
                short(&v)
            )),
            Err(e) => failures.push(format!(
                "{header}\n  expected = {}\n  Rust error: {e}",
                short(&expected)
            )),
        }
    }
    Replay {
        cases: cases.len(),
        raised,
        rolled_back,
        failures,
    }
}

fn run(python: PathBuf, dialect: Dialect, seed: u64, cases: usize, what: &str) {
    run_with(python, dialect, seed, cases, what, &[]);
}

fn run_with(
    python: PathBuf,
    dialect: Dialect,
    seed: u64,
    cases: usize,
    what: &str,
    extra: &[&str],
) {
    let t0 = std::time::Instant::now();
    let batch = oracle(&python, seed, cases, extra);
    let t1 = std::time::Instant::now();
    assert!(
        batch.len() * 100 >= cases * 95,
        "oracle produced only {} of {cases} cases",
        batch.len()
    );
    let r = replay(&batch, dialect);
    let (n, failures) = (r.cases, r.failures);
    eprintln!(
        "{what}: seed {seed}: {n} cases, deepdiff raised in {} (in place: {} rolled back after writes), {} mismatches (oracle {:.1?}, replay {:.1?})",
        r.raised,
        r.rolled_back,
        failures.len(),
        t1 - t0,
        t1.elapsed()
    );
    if !failures.is_empty() {
        for f in failures.iter().take(8) {
            eprintln!("{f}\n");
        }
        panic!(
            "{what}: {} of {n} cases differ from deepdiff (seed {seed})",
            failures.len()
        );
    }
    if extra.contains(&"--halfway") {
        assert_eq!(r.raised, n, "{what}: every halfway case raises in deepdiff");
        assert_eq!(
            r.rolled_back, n,
            "{what}: every halfway case is rolled back"
        );
    }
}

/// Size of the fresh-seed batches (`MU_DELTA_CASES` for longer local runs).
fn fresh_cases() -> usize {
    std::env::var("MU_DELTA_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
}

fn fresh_seed() -> u64 {
    if let Some(s) = std::env::var("MU_DELTA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return s;
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (t % 1_000_000_007) as u64
}

#[test]
fn delta_matches_deepdiff_8_1_1_fixed_seed() {
    run(
        python_811(),
        Dialect::V8_1_1,
        20261130,
        2000,
        "deepdiff 8.1.1 fixed seed",
    );
}

#[test]
fn delta_matches_deepdiff_8_1_1_fresh_seed() {
    let seed = fresh_seed();
    println!("deepdiff 8.1.1 fresh seed: {seed} (replay with MU_DELTA_SEED={seed})");
    eprintln!("deepdiff 8.1.1 fresh seed: {seed} (replay with MU_DELTA_SEED={seed})");
    run(
        python_811(),
        Dialect::V8_1_1,
        seed,
        fresh_cases(),
        "deepdiff 8.1.1 fresh seed",
    );
}

#[test]
fn delta_matches_deepdiff_5_7_0_fixed_seed() {
    run(
        python_570(),
        Dialect::V5_7_0,
        20261130,
        2000,
        "deepdiff 5.7.0 fixed seed",
    );
}

#[test]
fn delta_matches_deepdiff_5_7_0_fresh_seed() {
    let seed = fresh_seed();
    eprintln!("deepdiff 5.7.0 fresh seed: {seed} (replay with MU_DELTA_SEED={seed})");
    run(
        python_570(),
        Dialect::V5_7_0,
        seed,
        fresh_cases(),
        "deepdiff 5.7.0 fresh seed",
    );
}

/// `DeepDiff(ignore_order=True, report_repetition=True)` deltas: the `*_at_indexes` groups
/// (never sent by replication, but part of what deepdiff carries).
#[test]
fn ignore_order_deltas_match_deepdiff_8_1_1() {
    run_with(
        python_811(),
        Dialect::V8_1_1,
        4242,
        300,
        "deepdiff 8.1.1 ignore_order",
        &["--ignore-order"],
    );
}

/// Hand-made deltas deepdiff loads but `DeepDiff` would never write (broken and valid paths,
/// wrong types, out-of-range indexes, odd type changes, bad opcode ranges), against deepdiff's
/// own `old + Delta(raw)`: hostile input must give the same result or the same refusal.
#[test]
fn crafted_deltas_match_deepdiff_8_1_1() {
    run_with(
        python_811(),
        Dialect::V8_1_1,
        31337,
        1000,
        "deepdiff 8.1.1 crafted",
        &["--crafted"],
    );
}

#[test]
fn crafted_deltas_match_deepdiff_5_7_0() {
    run_with(
        python_570(),
        Dialect::V5_7_0,
        31337,
        1000,
        "deepdiff 5.7.0 crafted",
        &["--crafted"],
    );
}

// No 5.7.0 batch: 5.7.0 walks the `*_at_indexes` paths in `set()` order, which for strings
// changes with every Python process (hash randomization), so its result is not reproducible.

/// Deltas deepdiff raises on after it already changed the value (a values_changed entry without
/// `new_value`, set items or opcodes on a missing key, `root` removed): applied in place, the
/// value must come back exactly as it was (the server keeps the stored node).
#[test]
fn halfway_failing_deltas_leave_the_value_unchanged_8_1_1() {
    run_with(
        python_811(),
        Dialect::V8_1_1,
        808,
        300,
        "deepdiff 8.1.1 halfway",
        &["--halfway"],
    );
}

#[test]
fn halfway_failing_deltas_leave_the_value_unchanged_5_7_0() {
    run_with(
        python_570(),
        Dialect::V5_7_0,
        808,
        300,
        "deepdiff 5.7.0 halfway",
        &["--halfway"],
    );
}
