//! Unit tests of the framing (the round trips through Python's `replication.objects` are in
//! `mu-serverd/tests/objects_*.rs`).

use super::*;
use crate::pickle::{self, Limits, Value};
use std::sync::Arc;

fn f(b: &[u8]) -> Frame {
    Arc::from(b)
}

#[test]
fn type_frames_are_cpythons() {
    assert_eq!(type_frame(9), Some(&b"\x80\x04K\t."[..]));
    assert_eq!(type_frame(0), None);
    assert_eq!(type_frame(15), None);
    assert_eq!(CommandKind::RequestServerInfo.frame0(), b"\x80\x04K\x0e.");
    // Decoding each precomputed frame gives its number back.
    for t in 1..=14u8 {
        let v = pickle::decode(type_frame(t).unwrap(), &Limits::default()).unwrap();
        assert!(v.strict_eq(&Value::Int(i64::from(t))));
    }
}

#[test]
fn parse_errors_are_typed() {
    assert_eq!(parse(&[]).unwrap_err(), ObjectError::Empty);
    assert_eq!(
        parse(&[f(b"\x80\x04K\x0f."), f(b"x"), f(b"y")]).unwrap_err(),
        ObjectError::UnknownType(15)
    );
    assert_eq!(
        parse(&[f(b"\x80\x04J\xff\xff\xff\xff.")]).unwrap_err(),
        ObjectError::UnknownType(-1)
    );
    assert!(matches!(
        parse(&[f(b"\x80\x04N.")]).unwrap_err(),
        ObjectError::BadTypeFrame(_)
    ));
    assert!(matches!(
        parse(&[f(b"garbage")]).unwrap_err(),
        ObjectError::BadTypeFrame(_)
    ));
    assert_eq!(
        parse(&[f(b"\x80\x04K\x02."), f(b"u")]).unwrap_err(),
        ObjectError::FrameCount {
            type_num: 2,
            expected: 5,
            got: 2
        }
    );
    assert_eq!(
        parse(&[f(b"\x80\x04K\x09."), f(b"\xff"), f(b"\x80\x04N.")]).unwrap_err(),
        ObjectError::NotUtf8 { field: "owner" }
    );
    // Protocol 2 type frames are accepted too.
    assert!(matches!(
        parse(&[f(b"\x80\x02K\x04."), f(b"me"), f(b"\x80\x04N.")]).unwrap(),
        Message::Command {
            kind: CommandKind::Delete,
            ..
        }
    ));
}

#[test]
fn build_then_parse() {
    let data = Value::dict(vec![(Value::str("STATE"), Value::str("INIT"))]);
    let frames = build_command(CommandKind::Snapshot, "server", &data);
    let m = parse(&frames).unwrap();
    let Message::Command {
        kind,
        owner,
        data: raw,
    } = &m
    else {
        panic!()
    };
    assert_eq!((*kind, owner.as_str()), (CommandKind::Snapshot, "server"));
    assert!(command_data(*kind, raw, &Limits::default())
        .unwrap()
        .strict_eq(&data));

    let node = build_node("u1", "alice", f(b"\x80\x04N."), f(b"\x80\x04}\x94."));
    let as_value = frames_to_value(&node);
    assert_eq!(value_to_frames(&as_value).unwrap(), node);
    assert!(value_to_frames(&Value::bytes(b"removed")).is_err());
    let commit = build_commit("u1", f(b"\x80\x04N."), f(b"\x80\x04}\x94."));
    assert!(matches!(parse(&commit).unwrap(), Message::Commit { uuid, .. } if uuid == "u1"));
}

#[test]
fn check_applies_the_policy_to_every_payload() {
    let limits = Limits::default();
    let evil = f(b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.");
    let plain = f(b"\x80\x04}\x94.");
    let node = build_node("u", "me", f(b"\x80\x04N."), plain.clone());
    assert!(parse(&node).unwrap().check(&limits).is_ok());
    let bad_node = build_node("u", "me", f(b"\x80\x04N."), evil.clone());
    let e = parse(&bad_node).unwrap().check(&limits).unwrap_err();
    assert!(
        matches!(&e, ObjectError::Refused(p) if p.refused == "call of global os.system"),
        "{e}"
    );
    // A Delta may name builtins.int but not os.system.
    let delta = pickle::encode(&Value::dict(vec![(
        Value::str("t"),
        Value::global("builtins", "int"),
    )]));
    let commit = build_commit("u", f(b"\x80\x04N."), Arc::from(delta));
    assert!(parse(&commit).unwrap().check(&limits).is_ok());
    let commit = build_commit("u", f(b"\x80\x04N."), evil.clone());
    assert!(parse(&commit).unwrap().check(&limits).is_err());
    // The node inside a Snapshot answer is checked too.
    let snap = |inner: Vec<Frame>| {
        let data = Value::dict(vec![
            (Value::str("STATE"), Value::str("SET")),
            (Value::str("DATA"), frames_to_value(&inner)),
        ]);
        build_command(CommandKind::Snapshot, "server", &data)
    };
    assert!(parse(&snap(node)).unwrap().check(&limits).is_ok());
    assert!(matches!(
        parse(&snap(bad_node)).unwrap().check(&limits),
        Err(ObjectError::Refused(_))
    ));
    let removed = build_command(
        CommandKind::Snapshot,
        "server",
        &Value::dict(vec![(Value::str("DATA"), Value::bytes(b"removed"))]),
    );
    assert!(parse(&removed).unwrap().check(&limits).is_ok());
    let cmd = build_command_raw(CommandKind::Right, "me", evil);
    assert!(parse(&cmd).unwrap().check(&limits).is_err());
}

/// Bytes from a hex string (the `.hex()` of CPython output pasted into a test).
pub(super) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}
