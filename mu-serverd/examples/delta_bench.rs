//! Delta apply throughput against deepdiff on the same deltas, in the same run (issue #3).
//!
//!     cargo run --release -p mu-serverd --example delta_bench
//!
//! Starts `tests/py/delta_bench.py` once with the test venv (`MU_TEST_PYTHON` or `.venv`), which
//! writes the scenarios' old node and delta pickles and prints deepdiff's timings; then times the
//! Rust engine on the same bytes and prints one line per scenario. Not a test: nothing here is
//! asserted except that both sides agree on the result type.

use mu_serverd::delta::Delta;
use mu_serverd::pickle::{decode, Limits, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

fn per_call<F: FnMut()>(mut f: F) -> f64 {
    // run for ~0.5 s, report seconds per call
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 0.5 {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    start.elapsed().as_secs_f64() / n as f64
}

fn json_number(line: &str, scenario: &str, field: &str) -> f64 {
    let at = line
        .find(&format!("\"{scenario}\""))
        .expect("scenario in report");
    let rest = &line[at..];
    let f = rest
        .find(&format!("\"{field}\": "))
        .expect("field in report")
        + field.len()
        + 4;
    let end = rest[f..].find([',', '}']).expect("number end");
    rest[f..f + end].trim().parse().expect("number")
}

fn main() {
    let ws = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = std::env::var_os("MU_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or(ws.join(".venv/bin/python"));
    let dir = std::env::temp_dir().join(format!("mu-delta-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = Command::new(&python)
        .arg(ws.join("tests/py/delta_bench.py"))
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("run tests/py/delta_bench.py (run tests/setup.sh first)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let limits = Limits::default();
    println!(
        "{:<24} {:>8} {:>7} | {:>12} {:>12} | {:>12} {:>12} {:>12} | {:>8} {:>8}",
        "scenario",
        "old B",
        "delta B",
        "dd apply",
        "dd load+app",
        "rs apply",
        "rs owned",
        "rs load+app",
        "x apply",
        "x load"
    );
    for name in [
        "a_object_moved",
        "b_floats_4_changed",
        "c_floats_insert_delete",
    ] {
        let old_raw = std::fs::read(dir.join(format!("{name}.old"))).expect("old");
        let raw = std::fs::read(dir.join(format!("{name}.delta"))).expect("delta");
        let old = decode(&old_raw, &limits).expect("old decodes");
        let delta = Delta::from_bytes(&raw, &limits).expect("delta loads");
        let (result, logs) = delta.apply(&old).expect("delta applies");
        assert!(logs.is_empty(), "{logs:?}");
        assert!(matches!(result, Value::Dict(_)));
        let rs_apply = per_call(|| {
            std::hint::black_box(delta.apply(&old).ok());
        });
        // owned: each call gets a node nobody else references (built outside the timed part
        // would need a fresh deep copy per call; decoding one is what the server has anyway)
        let mut owned_total = 0.0;
        let mut owned_n = 0u32;
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < 0.5 {
            let fresh = decode(&old_raw, &limits).expect("old decodes");
            let t = Instant::now();
            std::hint::black_box(delta.apply_owned(fresh).ok());
            owned_total += t.elapsed().as_secs_f64();
            owned_n += 1;
        }
        let rs_owned = owned_total / owned_n as f64;
        let rs_load = per_call(|| {
            let d = Delta::from_bytes(&raw, &limits).expect("delta loads");
            std::hint::black_box(d.apply(&old).ok());
        });
        let dd_apply = json_number(&report, name, "apply_s");
        let dd_load = json_number(&report, name, "load_apply_s");
        println!(
            "{:<24} {:>8} {:>7} | {:>10.1}us {:>10.1}us | {:>10.2}us {:>10.2}us {:>10.2}us | {:>7.0}x {:>7.0}x",
            name,
            old_raw.len(),
            raw.len(),
            dd_apply * 1e6,
            dd_load * 1e6,
            rs_apply * 1e6,
            rs_owned * 1e6,
            rs_load * 1e6,
            dd_apply / rs_apply,
            dd_load / rs_load,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
