//! The session decides what is plain data and which Delta is allowed through the same functions
//! the tests and fuzz targets call (`objects::check_node_data`, `objects::command_data`,
//! `objects::node_frames`, `delta::apply_bytes` -> `Delta::from_bytes`; map in
//! `objects/check.rs`). Each refusal below is asserted by the words only that function's error
//! writes ("payload refused ..." from `ObjectError::Refused`, "delta policy: ..." from
//! `DeltaErrorKind::Refused`), and must be the very error `Message::check` gives for the same
//! frames: a session that decides another way (or a policy that lets the call through) fails
//! here. `tests/lint/entry_points.py` keeps other ways out of `session/` and `shell/`.

use super::harness::*;
use super::snapshot_msgs::upload_init;
use crate::objects::{self, CommandKind, Frame};
use crate::pickle::{Limits, Value};
use crate::session::io::Action;
use crate::session::wire::sdict;
use std::sync::Arc;

/// `pickle.dumps(R(), protocol=4)` where `R.__reduce__` returns `(os.system, ('id',))`
/// (CPython 3.11 on Linux, where `os.system` is `posix.system`).
const CALL: &str =
    "8004951d000000000000008c05706f736978948c0673797374656d9493948c02696494859452942e";
/// `{'values_changed': {"root['x']": {'new_value': R()}}}`: a well-formed Delta carrying it.
const DELTA_WITH_CALL: &str = "8004954f000000000000007d948c0e76616c7565735f6368616e676564947d948c09726f6f745b2778275d947d948c096e65775f76616c7565948c05706f736978948c0673797374656d9493948c02696494859452947373732e";
/// `{'color': R()}`: metadata carrying it.
const METADATA_WITH_CALL: &str = "80049528000000000000007d948c05636f6c6f72948c05706f736978948c0673797374656d9493948c0269649485945294732e";

fn bytes(hex: &str) -> Frame {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("test hex"))
        .collect::<Vec<u8>>()
        .into()
}

/// host (1) with node "a", bob (2) joined.
fn two() -> H {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.join(&id(2), "bob");
    h
}

/// Nothing stored, journaled or sent; the one log line names the refusal `Message::check`
/// gives for the same frames, and contains `words`.
fn refused_as_checked(acts: &[Action], frames: &[Frame], words: &str) {
    assert!(sends(acts).is_empty(), "relayed: {acts:?}");
    assert!(persisted(acts).is_empty(), "journaled: {acts:?}");
    let checked = objects::parse(frames)
        .expect("frames parse")
        .check(&Limits::default())
        .expect_err("Message::check refuses it")
        .to_string();
    assert!(checked.contains(words), "Message::check: {checked}");
    let lines = logs(acts);
    assert!(
        lines.iter().any(|l| l.contains(&checked)),
        "no log line with {checked:?}: {lines:?}"
    );
}

#[test]
fn node_data_is_refused_by_check_node_data() {
    let mut h = two();
    let mut frames = node_frames("a", "COMMON", &[], &node_value("a", 2));
    frames[4] = bytes(CALL);
    let acts = h.data(&id(2), frames.clone());
    refused_as_checked(
        &acts,
        &frames,
        "payload refused call of global posix.system",
    );
}

#[test]
fn a_commits_delta_is_refused_by_delta_from_bytes() {
    let mut h = two();
    let mut frames = commit_frames("a", &[], &set_delta("x", Value::Int(2)));
    frames[3] = bytes(DELTA_WITH_CALL);
    let acts = h.data(&id(2), frames.clone());
    refused_as_checked(
        &acts,
        &frames,
        "delta policy: refused call of global posix.system",
    );
}

#[test]
fn command_data_is_refused_by_command_data() {
    let mut h = two();
    let frames = vec![
        kframe(CommandKind::UpdateUserMetadata),
        Arc::from(&b"bob"[..]),
        bytes(METADATA_WITH_CALL),
    ];
    let acts = h.cmd(&id(2), frames.clone());
    refused_as_checked(
        &acts,
        &frames,
        "payload refused call of global posix.system",
    );
}

#[test]
fn an_uploaded_node_is_refused_by_node_frames() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["a"])),
    );
    let mut chunks = node_frames("a", "COMMON", &[], &node_value("a", 1));
    chunks[4] = bytes(CALL);
    let set = sdict(vec![
        ("STATE", s("SET")),
        (
            "DATA",
            Value::list(chunks.iter().map(|f| Value::Bytes(f.clone())).collect()),
        ),
    ]);
    let frames = cmd(CommandKind::ServerSnapshot, "server", &set);
    let acts = h.cmd(&id(1), frames.clone());
    assert!(h.s.repository().is_empty());
    let checked = objects::parse(&frames)
        .expect("frames parse")
        .check(&Limits::default())
        .expect_err("Message::check refuses it")
        .to_string();
    assert_eq!(checked, "payload refused call of global posix.system");
    let lines = logs(&acts);
    assert!(
        lines.iter().any(|l| l.contains(&checked)),
        "no log line with {checked:?}: {lines:?}"
    );
}
