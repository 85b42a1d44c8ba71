//! Codec benchmark: decode + encode of a realistic ~64 KiB node against CPython's C `_pickle`
//! on the same bytes in the same run, and the throughput of `check_plain_bytes`.
//!
//!     cargo bench -p mu-serverd --bench codec
//!
//! Needs the venv (`tests/setup.sh`) or `MU_TEST_PYTHON`. Prints a Markdown table.

use mu_serverd::pickle::{self, Limits};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Short rounds, many of them: the best round is the least disturbed by other load.
const ITERATIONS: u32 = 500;
const ROUNDS: usize = 21;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MU_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(p.exists(), "{} is missing: run tests/setup.sh", p.display());
    p
}

/// Best-of-`ROUNDS` mean time of `f` in microseconds.
fn time_us(mut f: impl FnMut()) -> f64 {
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..ITERATIONS {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / f64::from(ITERATIONS)
        })
        .fold(f64::INFINITY, f64::min)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from the oracle"))
        .collect()
}

fn main() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/py/pickle_bench.py");
    let out = Command::new(python())
        .arg(script)
        .args(["1", &ITERATIONS.to_string(), &ROUNDS.to_string()])
        .output()
        .expect("run pickle_bench.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("ascii");
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("timing line").split(' ').collect();
    let (py_version, py_loads, py_dumps): (&str, f64, f64) = (
        head[1],
        head[3].parse().expect("loads_us"),
        head[5].parse().expect("dumps_us"),
    );
    let blob = unhex(lines.next().expect("pickle line").trim());
    let limits = Limits::default();
    let value = pickle::decode(&blob, &limits).expect("decode the node");
    pickle::check_plain(&value).expect("the node is plain");

    let decode = time_us(|| {
        black_box(pickle::decode(black_box(&blob), &limits).ok());
    });
    let encode = time_us(|| {
        black_box(pickle::encode(black_box(&value)));
    });
    let scan = time_us(|| {
        black_box(pickle::check_plain_bytes(black_box(&blob), &limits).ok());
    });
    let mb = blob.len() as f64 / 1e6;
    let (rust_total, py_total) = (decode + encode, py_loads + py_dumps);
    println!(
        "node pickle: {} bytes (protocol 4, CPython {py_version}); best of {ROUNDS} x {ITERATIONS}",
        blob.len()
    );
    println!();
    println!("| operation | mu-serverd | CPython C `_pickle` | speed-up |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| decode (`loads`) | {decode:.1} µs ({:.0} MB/s) | {py_loads:.1} µs | {:.2}x |",
        mb / decode * 1e6,
        py_loads / decode
    );
    println!(
        "| encode (`dumps`) | {encode:.1} µs | {py_dumps:.1} µs | {:.2}x |",
        py_dumps / encode
    );
    println!(
        "| decode + encode | {rust_total:.1} µs | {py_total:.1} µs | {:.2}x |",
        py_total / rust_total
    );
    println!(
        "| `check_plain_bytes` | {scan:.1} µs ({:.0} MB/s) | - | - |",
        mb / scan * 1e6
    );
}
