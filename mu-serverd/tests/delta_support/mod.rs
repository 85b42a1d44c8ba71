//! The deepdiff oracle of the Delta differential test: finding the venvs' Pythons, running
//! `tests/py/delta_oracle.py` and reading its framed output (`DDO1`, then per case an index, a
//! raised flag and four length-prefixed blobs) into `Case`s. Kept apart from the test so
//! `delta_differential.rs` reads as what is compared, not how the cases arrive.

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn python_811() -> PathBuf {
    match std::env::var_os("MU_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace().join(".venv/bin/python"),
    }
}

pub fn python_570() -> PathBuf {
    match std::env::var_os("MU_VENV_DD57") {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_dir() {
                p.join("bin/python")
            } else {
                p
            }
        }
        None => workspace().join(".venv-dd57/bin/python"),
    }
}

pub struct Case {
    pub index: u32,
    pub raised: bool,
    pub label: String,
    pub old: Vec<u8>,
    pub delta: Vec<u8>,
    pub expected: Vec<u8>,
}

fn read_u32(b: &[u8], pos: &mut usize) -> u32 {
    let v = u32::from_le_bytes(b[*pos..*pos + 4].try_into().expect("4 bytes"));
    *pos += 4;
    v
}

fn read_blob(b: &[u8], pos: &mut usize) -> Vec<u8> {
    let n = read_u32(b, pos) as usize;
    let v = b[*pos..*pos + n].to_vec();
    *pos += n;
    v
}

pub fn oracle(python: &PathBuf, seed: u64, cases: usize, extra: &[&str]) -> Vec<Case> {
    assert!(
        python.exists(),
        "{} is missing: run tests/setup.sh",
        python.display()
    );
    let script = workspace().join("tests/py/delta_oracle.py");
    let out = Command::new(python)
        .arg(&script)
        .args(["--seed", &seed.to_string(), "--cases", &cases.to_string()])
        .args(extra)
        .output()
        .expect("start the deepdiff oracle");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = out.stdout;
    assert_eq!(&b[..4], b"DDO1", "oracle output header");
    let mut pos = 4;
    let mut v = Vec::new();
    while pos < b.len() {
        let index = read_u32(&b, &mut pos);
        let raised = b[pos] == 1;
        pos += 1;
        let label = String::from_utf8_lossy(&read_blob(&b, &mut pos)).into_owned();
        let old = read_blob(&b, &mut pos);
        let delta = read_blob(&b, &mut pos);
        let expected = read_blob(&b, &mut pos);
        v.push(Case {
            index,
            raised,
            label,
            old,
            delta,
            expected,
        });
    }
    v
}
