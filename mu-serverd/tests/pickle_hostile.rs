//! Hostile input for the pickle codec and the object layer: random and mutated bytes never
//! panic and get the same verdict from `check_plain_bytes` as from `decode` + `check_plain`;
//! pathological pickles get their typed error; pickles that would run code (built by CPython
//! from classes whose `__reduce__` names `os.system` / `builtins.open`) decode to inert values
//! and are refused by the plain policy.

mod pickle_support;

use mu_serverd::objects;
use mu_serverd::pickle::{self, DecodeErrorKind, Limits, Value};
use pickle_support::python;
use proptest::prelude::*;
use std::process::Command;
use std::sync::Arc;

/// The verdict of both validators must agree, and nothing may panic.
fn check_consistent(bytes: &[u8]) {
    let limits = Limits::default();
    let slow = pickle::decode(bytes, &limits)
        .map_err(|_| ())
        .and_then(|v| pickle::check_plain(&v).map_err(|_| ()));
    let fast = pickle::check_plain_bytes(bytes, &limits);
    assert_eq!(
        slow.is_ok(),
        fast.is_ok(),
        "verdicts differ on {bytes:02x?}: fast {fast:?}"
    );
    if let Ok(v) = pickle::decode(bytes, &limits) {
        // Whatever decodes re-encodes to the same bytes after another decode: same values,
        // same sharing (compared linearly; a deep comparison of an aliased graph is not).
        let first = pickle::encode(&v);
        let again = pickle::decode(&first, &limits).expect("re-decode own encoding");
        assert_eq!(pickle::encode(&again), first);
    }
    let frames: Vec<objects::Frame> = bytes.chunks(7).map(Arc::from).collect();
    if let Ok(m) = objects::parse(&frames) {
        let _ = m.check(&limits);
    }
    // The same bytes as the payload of each kind of message.
    let payload: objects::Frame = Arc::from(bytes);
    for frames in [
        objects::build_node("u", "o", payload.clone(), payload.clone()),
        objects::build_commit("u", payload.clone(), payload.clone()),
        objects::build_command_raw(objects::CommandKind::Snapshot, "o", payload.clone()),
    ] {
        let m = objects::parse(&frames).expect("well-formed frames");
        let _ = m.check(&limits);
    }
}

/// Seeds for mutation: what CPython writes for typical data (hand-copied opcode streams).
fn seeds() -> Vec<Vec<u8>> {
    let shared = Value::list(vec![Value::Float(1.5), Value::str("x")]);
    let v = Value::dict(vec![
        (Value::str("a"), shared.clone()),
        (Value::str("b"), shared),
        (
            Value::Int(-7),
            Value::tuple(vec![Value::bytes(b"zz"), Value::None, Value::Bool(true)]),
        ),
        (
            Value::str("s"),
            Value::Set(Arc::new(vec![Value::Int(1), Value::str("q")])),
        ),
        (Value::str("g"), Value::global("os", "system")),
    ]);
    vec![
        pickle::encode(&v),
        b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x02al\x94]\x94G?\xf8\x00\x00\x00\x00\x00\x00a\x8c\x03al2\x94h\x02u.".to_vec(),
        b"(dp0\nVa\np1\n(lp2\nI1\naF2.5\naNaI01\naL1180591620717411303424L\nasVal\np3\ng2\ns.".to_vec(),
        b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x07echo hi\x85R.".to_vec(),
        b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.".to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_consistent(&bytes);
        let mut with_header = vec![0x80, 0x04];
        with_header.extend_from_slice(&bytes);
        check_consistent(&with_header);
    }

    #[test]
    fn mutated_pickles_never_panic(
        seed in 0usize..5,
        edits in proptest::collection::vec((0u8..4, any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut b = seeds()[seed].clone();
        for (op, at, byte) in edits {
            if b.is_empty() { break; }
            let i = at.index(b.len());
            match op {
                0 => b[i] = byte,
                1 => b.insert(i, byte),
                2 => { b.remove(i); }
                _ => b.truncate(i),
            }
        }
        check_consistent(&b);
    }
}

fn kind(bytes: &[u8]) -> DecodeErrorKind {
    pickle::decode(bytes, &Limits::default())
        .expect_err("must be refused")
        .kind
}

#[test]
fn ten_million_deep_nesting() {
    let n = 10_000_000;
    let mut tuples = vec![0x80, 0x04, b')'];
    tuples.resize(tuples.len() + n, 0x85); // TUPLE1
    tuples.push(b'.');
    assert_eq!(kind(&tuples), DecodeErrorKind::TooDeep { max: 256 });

    let mut lists = vec![0x80, 0x04];
    lists.resize(lists.len() + n, b']'); // EMPTY_LIST
    lists.resize(lists.len() + n - 1, b'a'); // APPEND
    lists.push(b'.');
    // Ten million lists exceed the value budget before any of them nests.
    assert_eq!(
        kind(&lists),
        DecodeErrorKind::TooManyItems {
            max: Limits::default().max_items
        }
    );
    // Within the value budget, the same shape stops at the depth limit.
    let m = 1_000_000;
    let mut lists = vec![0x80, 0x04];
    lists.resize(lists.len() + m, b']');
    lists.resize(lists.len() + m - 1, b'a');
    lists.push(b'.');
    assert_eq!(kind(&lists), DecodeErrorKind::TooDeep { max: 256 });

    // The validator stops at the same place.
    let e = pickle::check_plain_bytes(&tuples, &Limits::default()).unwrap_err();
    assert!(
        matches!(e, pickle::CheckError::Decode(d) if d.kind == DecodeErrorKind::TooDeep { max: 256 })
    );
}

#[test]
fn length_prefix_of_two_to_the_63() {
    for op in [0x8d, 0x8e, 0x96, 0x95] {
        // BINUNICODE8, BINBYTES8, BYTEARRAY8, FRAME
        let mut b = vec![0x80, 0x04, op];
        b.extend_from_slice(&(1u64 << 63).to_le_bytes());
        b.extend_from_slice(b"N.");
        assert_eq!(
            kind(&b),
            DecodeErrorKind::LengthExceedsInput {
                len: 1 << 63,
                remaining: 2
            }
        );
    }
    let mut b = vec![0x80, 0x04, b'X']; // BINUNICODE u32::MAX
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        kind(&b),
        DecodeErrorKind::LengthExceedsInput { .. }
    ));
}

#[test]
fn unknown_memo_index_and_other_typed_errors() {
    assert_eq!(
        kind(b"\x80\x04j\x10\x27\x00\x00."),
        DecodeErrorKind::MemoMissing(10_000)
    );
    assert_eq!(kind(b"\x80\x04h\x00."), DecodeErrorKind::MemoMissing(0));
    assert_eq!(kind(b"g5\n."), DecodeErrorKind::MemoMissing(5));
    assert_eq!(kind(b"\x80\x04]\x94h\x00a."), DecodeErrorKind::Cyclic);
    let big = Limits {
        max_input: 10,
        ..Limits::default()
    };
    assert_eq!(
        pickle::decode(&[b'N'; 11], &big).unwrap_err().kind,
        DecodeErrorKind::InputTooLarge { len: 11, max: 10 }
    );
    let few = Limits {
        max_memo: 2,
        ..Limits::default()
    };
    assert_eq!(
        pickle::decode(b"\x80\x04N\x94\x94\x94.", &few)
            .unwrap_err()
            .kind,
        DecodeErrorKind::MemoTooLarge { max: 2 }
    );
}

#[test]
fn code_running_pickles_from_cpython_are_inert_and_refused() {
    let script = r#"
import os, pickle, sys
class Evil:
    def __init__(self, f, a): self.f, self.a = f, a
    def __reduce__(self): return (self.f, (self.a,))
for proto in range(6):
    for f, a in ((os.system, 'echo pwned > /tmp/mu-pwned'), (open, '/etc/passwd')):
        print(proto, f.__name__, pickle.dumps({'data': [Evil(f, a)]}, protocol=proto).hex())
"#;
    let out = Command::new(python())
        .args(["-c", script])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("ascii");
    let limits = Limits::default();
    let mut n = 0;
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        let bytes: Vec<u8> = (0..parts[2].len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&parts[2][i..i + 2], 16).expect("hex"))
            .collect();
        let v = pickle::decode(&bytes, &limits).unwrap_or_else(|e| panic!("{line}: {e}"));
        let refused = pickle::check_plain(&v)
            .expect_err("must not be plain")
            .refused;
        let name = parts[1];
        assert!(
            refused.starts_with("call of global") && refused.ends_with(name),
            "protocol {}: {refused}",
            parts[0]
        );
        let Err(pickle::CheckError::Policy(p)) = pickle::check_plain_bytes(&bytes, &limits) else {
            panic!("check_plain_bytes accepted {line}");
        };
        assert!(p.refused.ends_with(name), "{}", p.refused);
        assert!(pickle::check_delta(&v).is_err());
        n += 1;
    }
    assert_eq!(n, 12);
}
