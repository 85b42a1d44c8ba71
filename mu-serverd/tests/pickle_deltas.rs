//! Real deepdiff Deltas (`tests/py/pickle_deltas.py`), from both client generations: deepdiff
//! 8.1.1 (`.venv`: `Opcode` via NEWOBJ, `'<<NoneType>>'` persistent ids, builtins types) and
//! 5.7.0 (`.venv-dd57`: every group an `OrderedDictPlus` via REDUCE). Each decodes, passes
//! `check_delta` (and, having globals, fails `check_plain`), and its Rust re-encoding loads in
//! that deepdiff's restricted loader with the same diff and the same applied result.

mod pickle_support;

use mu_serverd::pickle::{self, Limits};
use pickle_support::{py_dir, python, read_msg, write_msg};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn run(py: PathBuf, expect_version: &str) {
    let mut child = Command::new(&py)
        .arg(py_dir().join("pickle_deltas.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (run tests/setup.sh)", py.display()));
    let mut out = child.stdout.take().expect("stdout");
    let n: usize = String::from_utf8(read_msg(&mut out))
        .expect("count")
        .parse()
        .expect("count");
    let limits = Limits::default();
    let mut replies = Vec::new();
    let mut with_globals = 0;
    for i in 0..n {
        let raw = read_msg(&mut out);
        let v = pickle::decode(&raw, &limits).unwrap_or_else(|e| panic!("delta {i}: {e}"));
        pickle::check_delta(&v).unwrap_or_else(|e| panic!("delta {i} ({expect_version}): {e}"));
        assert!(
            pickle::check_plain_bytes(&raw, &limits).is_ok() == pickle::check_plain(&v).is_ok()
        );
        with_globals += usize::from(pickle::check_plain(&v).is_err());
        replies.push(pickle::encode(&v));
    }
    {
        let mut stdin = child.stdin.take().expect("stdin");
        replies.iter().for_each(|r| write_msg(&mut stdin, r));
    }
    let mut verdict = String::new();
    out.read_to_string(&mut verdict).expect("verdict");
    assert!(child.wait().expect("exit").success(), "{verdict}");
    assert_eq!(verdict.trim(), format!("ok {n} {expect_version}"));
    assert!(with_globals > 0, "some deltas use deepdiff's names");
}

#[test]
fn deepdiff_8_1_1_deltas() {
    run(python(), "8.1.1");
}

#[test]
fn deepdiff_5_7_0_deltas() {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-dd57/bin/python");
    assert!(
        py.exists(),
        "{} is missing: run tests/setup.sh",
        py.display()
    );
    run(py, "5.7.0");
}
