//! Peak memory of decoding one pickle, as a multiple of its size (issue 14: at most ~32x).
//! `cargo run --release -p mu-serverd --example decode_peak -- FILE...` prints, per file, the
//! growth of the process's peak RSS (getrusage) while decoding it. Run one file per process
//! for exact figures: the peak never goes down.

use mu_serverd::pickle::{decode, Limits};

fn peak_kb() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss
}

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let before = peak_kb();
        let v = decode(&bytes, &Limits::default());
        let after = peak_kb();
        let grown = (after - before) as f64 * 1024.0;
        println!(
            "{path}: {} bytes, ok={}, peak grew {:.1} MB = {:.1}x",
            bytes.len(),
            v.is_ok(),
            grown / 1e6,
            grown / bytes.len() as f64
        );
        drop(v);
    }
}
