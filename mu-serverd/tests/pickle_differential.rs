//! Differential tests of the pickle codec against live CPython (`tests/py/pickle_oracle.py`):
//! thousands of random values pickled by CPython at protocols 0-5 must decode in Rust to what
//! CPython itself loads (type-exact, including aliasing), must get the policy verdict that the
//! opcodes imply, and the Rust encoding of each must load in CPython to the same value.
//! One fixed seed (reproducible in CI) and one fresh seed per run, both printed.

mod pickle_support;

use mu_serverd::pickle::{self, canonical, Limits};
use pickle_support::{describe, py_dir, python, read_msg, write_msg};
use std::io::Read;
use std::process::{Command, Stdio};

const CASES: usize = 1500;

fn run_seed(seed: u64) {
    println!("pickle differential: seed {seed}, {CASES} cases (rerun one: MU_PICKLE_SEED={seed})");
    let mut child = Command::new(python())
        .arg(py_dir().join("pickle_oracle.py"))
        .args(["roundtrip", &seed.to_string(), &CASES.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the pickle oracle (run tests/setup.sh)");
    let mut out = child.stdout.take().expect("oracle stdout");
    let mut cases = Vec::with_capacity(CASES);
    for _ in 0..CASES {
        let meta = String::from_utf8(read_msg(&mut out)).expect("meta is ASCII");
        let data = read_msg(&mut out);
        let desc = String::from_utf8(read_msg(&mut out)).expect("description is ASCII");
        cases.push((meta, data, desc));
    }
    let limits = Limits::default();
    let mut failures = Vec::new();
    let mut replies = Vec::with_capacity(CASES);
    let (mut plain_cases, mut protos) = (0, [0usize; 6]);
    for (i, (meta, data, desc)) in cases.iter().enumerate() {
        let (proto, plain) = meta.split_once(' ').expect("meta has two fields");
        let plain = plain == "1";
        protos[proto.parse::<usize>().expect("protocol number")] += 1;
        plain_cases += usize::from(plain);
        let decoded = match pickle::decode(data, &limits) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("case {i} (protocol {proto}): decode failed: {e}"));
                replies.push(Vec::new());
                continue;
            }
        };
        // The policy sees the pickle as written: protocol 0-3 calls are not plain.
        let policy = pickle::check_plain(&decoded).is_ok();
        let scan = pickle::check_plain_bytes(data, &limits).is_ok();
        if policy != plain || scan != plain {
            failures.push(format!(
                "case {i} (protocol {proto}): plain by opcodes {plain}, check_plain {policy}, check_plain_bytes {scan}"
            ));
        }
        let value = canonical::builtin_reductions(&decoded);
        let got = describe(&value, true);
        if &got != desc {
            failures.push(format!(
                "case {i} (protocol {proto}): decoded {:.300}\n   expected {:.300}",
                got, desc
            ));
        }
        replies.push(pickle::encode(&value));
    }
    {
        let mut stdin = child.stdin.take().expect("oracle stdin");
        for r in &replies {
            write_msg(&mut stdin, r);
        }
    }
    let mut verdict = String::new();
    out.read_to_string(&mut verdict).expect("oracle verdict");
    let status = child.wait().expect("oracle exit");
    println!(
        "  protocols 0..5: {protos:?}; {plain_cases} plain by opcodes; oracle: {}",
        verdict.trim()
    );
    assert!(status.success(), "oracle failed (seed {seed}): {verdict}");
    assert!(
        verdict.starts_with("ok "),
        "seed {seed}: CPython disagreed with the Rust encoder:\n{verdict}"
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
    // The run must have covered what it claims to.
    assert!(protos.iter().all(|&n| n > 0), "every protocol exercised");
    assert!(
        plain_cases > CASES / 4 && plain_cases < CASES,
        "both policy verdicts exercised"
    );
}

#[test]
fn cpython_pickles_decode_and_rust_pickles_load_fixed_seed() {
    let seed = std::env::var("MU_PICKLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_130);
    run_seed(seed);
}

#[test]
fn cpython_pickles_decode_and_rust_pickles_load_fresh_seed() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_007)
        .unwrap_or(1);
    run_seed(seed);
}

/// Empty lists are where the decoder saves the most memory (issue 14: unshared ones share one
/// allocation instead of an `Arc` each), so their identities are checked on their own: CPython
/// must load the Rust re-encoding with the same objects shared and the same ones distinct as
/// the original, at every protocol (memoized or not, `LIST` or `EMPTY_LIST`), and Rust's own
/// reading of the pickle must describe them as CPython does.
#[test]
fn empty_list_identities_survive_a_round_trip_through_cpython() {
    let script = r#"
import pickle, sys
sys.path.insert(0, sys.argv[1])
from pickle_describe import describe
a, b, c, inner = [], [], [], []
shared_parent = [[], []]
value = [a, a, [], [], {'k': [], 'j': a}, ([],), (a, a), [inner, inner], b, [b], [c], c,
         shared_parent, shared_parent, [[[]]], {(): []}, [[] for _ in range(5)], []]
out = sys.stdout.buffer
if sys.argv[2] == 'make':
    for proto in range(6):
        data = pickle.dumps(value, protocol=proto)
        out.write(len(data).to_bytes(4, 'big') + data)
    out.write(describe(value).encode())
else:
    data = sys.stdin.buffer.read()
    out.write(describe(pickle.loads(data)).encode())
"#;
    let run = |mode: &str, input: &[u8]| -> Vec<u8> {
        let mut child = Command::new(python())
            .args(["-c", script])
            .arg(py_dir())
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python starts");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input).expect("write to python");
        }
        let out = child.wait_with_output().expect("python runs");
        assert!(out.status.success(), "python failed");
        out.stdout
    };
    let made = run("make", b"");
    let mut rest = &made[..];
    let mut pickles = Vec::new();
    for _ in 0..6 {
        let n = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        pickles.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    let want = String::from_utf8(rest.to_vec()).expect("utf-8");
    assert!(want.contains('@'), "the value has shared lists: {want}");
    for (proto, p) in pickles.iter().enumerate() {
        let v = pickle::decode(p, &Limits::default()).expect("decodes");
        assert_eq!(
            describe(&v, false),
            want,
            "Rust's reading, protocol {proto}"
        );
        let back = run("load", &pickle::encode(&v));
        assert_eq!(
            String::from_utf8(back).expect("utf-8"),
            want,
            "CPython's reading of the Rust encoding, protocol {proto}"
        );
    }
}
