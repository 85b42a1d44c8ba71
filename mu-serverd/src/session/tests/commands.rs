//! Metadata, Delete, Right (locks), Kick, and commands before login.

use super::harness::*;
use crate::pickle::Value;
use crate::session::io::{Action, Change, Channel};
use crate::session::wire::sdict;
use log::Level;
use std::sync::Arc;

fn three() -> H {
    let mut h = H::new();
    h.host(
        &id(1),
        "host",
        &[
            ("a", node_value("a", 1)),
            ("b", node_value("b", 2)),
            ("c", node_value("c", 3)),
        ],
    );
    h.join(&id(2), "bob");
    h.join(&id(3), "carol");
    h
}

fn right(uuids: &[&str], owner: &str) -> Value {
    sdict(vec![
        ("uuid", Value::list(uuids.iter().map(|u| s(u)).collect())),
        ("owner", s(owner)),
    ])
}

fn owner(h: &H, u: &str) -> String {
    h.s.repository().get(u).expect("node").owner.clone()
}

#[test]
fn metadata_is_merged_forwarded_unchanged_and_reported_to_its_sender() {
    let mut h = three();
    let sel = Value::Set(Arc::new(vec![s("Cube"), s("Lamp")]));
    let frames = cmd(
        CommandKind::UpdateUserMetadata,
        "bob",
        &sdict(vec![("color", s("red")), ("selected_objects", sel)]),
    );
    let acts = h.cmd(&id(2), frames.clone());
    let out = sends(&acts);
    assert_eq!(out.len(), 2);
    assert!(out
        .iter()
        .all(|m| m.to != id(2) && Arc::ptr_eq(&m.frames[2], &frames[2])));
    h.cmd(
        &id(2),
        cmd(
            CommandKind::UpdateUserMetadata,
            "bob",
            &sdict(vec![("color", s("blue")), ("frame", Value::Int(3))]),
        ),
    );
    // the next user list carries bob's merged metadata, to bob too (no resend storm)
    let acts = h.advance(1100);
    let to_bob: Vec<_> = sends_to(&acts, &id(2))
        .into_iter()
        .filter(|m| m.kind() == Some(CommandKind::UpdateClientsState))
        .collect();
    let meta = get(get(&to_bob[0].data(), "bob"), "metadata").clone();
    let Value::Dict(items) = &meta else { panic!() };
    let keys: Vec<_> = items
        .iter()
        .map(|(k, _)| k.as_str().unwrap_or(""))
        .collect();
    assert_eq!(keys, vec!["color", "selected_objects", "frame"]);
    assert_eq!(get(&meta, "color").as_str(), Some("blue"));
    assert!(matches!(get(&meta, "selected_objects"), Value::Set(v) if v.len() == 2));
}

#[test]
fn metadata_that_is_not_a_dict_is_refused() {
    let mut h = three();
    let acts = h.cmd(&id(2), cmd(CommandKind::UpdateUserMetadata, "bob", &s("x")));
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "UpdateUserMetadata from bob"));
}

#[test]
fn delete_removes_node_and_dependency_and_is_echoed_to_everyone() {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.join(&id(2), "bob");
    h.data(
        &id(1),
        node_frames("p", "COMMON", &["x", "a", "a"], &node_value("p", 0)),
    );
    let acts = h.cmd(&id(2), cmd(CommandKind::Delete, "client", &s("a")));
    assert_eq!(sends(&acts).len(), 2);
    assert!(matches!(&persisted(&acts)[..], [Change::NodeDeleted { uuid }] if uuid == "a"));
    assert!(h.s.repository().get("a").is_none());
    // Python's list.remove: the first occurrence only
    let p = h.s.repository().get("p").expect("p");
    assert_eq!(p.deps(), Some(&["x".to_owned(), "a".to_owned()][..]));
    // unknown uuids are still echoed (as the reference), nothing journaled
    let acts = h.cmd(&id(2), cmd(CommandKind::Delete, "client", &s("nope")));
    assert_eq!(sends(&acts).len(), 2);
    assert!(persisted(&acts).is_empty());
}

#[test]
fn delete_of_a_node_locked_by_someone_else_is_refused() {
    let mut h = three();
    h.cmd(
        &id(1),
        cmd(CommandKind::Right, "host", &right(&["a"], "host")),
    );
    let acts = h.cmd(&id(2), cmd(CommandKind::Delete, "client", &s("a")));
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "Delete from bob"));
    assert!(h.s.repository().get("a").is_some());
}

#[test]
fn right_takes_common_and_own_nodes_only_and_echoes_just_those() {
    let mut h = three();
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::Right, "host", &right(&["a"], "host")),
    );
    assert_eq!(sends(&acts).len(), 3, "echoed to everyone, sender included");
    assert_eq!(owner(&h, "a"), "host");
    // bob asks for a (host's), b (COMMON) and an unknown node: only b is his
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::Right, "bob", &right(&["a", "b", "zz"], "bob")),
    );
    let out = sends(&acts);
    assert_eq!(out.len(), 3);
    let echo = out[0].data();
    assert!(
        matches!(get(&echo, "uuid"), Value::List(l) if l.len() == 1 && l[0].as_str() == Some("b"))
    );
    assert_eq!(out[0].owner(), "bob");
    assert_eq!(owner(&h, "a"), "host");
    assert_eq!(owner(&h, "b"), "bob");
    assert!(logged(&acts, "Right from bob"));
    // nothing allowed: nothing echoed
    let acts = h.cmd(
        &id(3),
        cmd(CommandKind::Right, "carol", &right(&["a"], "carol")),
    );
    assert!(sends(&acts).is_empty());
    // an owner may hand its node back, or to someone else
    h.cmd(
        &id(2),
        cmd(CommandKind::Right, "bob", &right(&["b"], "carol")),
    );
    assert_eq!(owner(&h, "b"), "carol");
}

#[test]
fn an_admin_may_take_any_node() {
    let mut h = three();
    h.cmd(
        &id(2),
        cmd(CommandKind::Right, "bob", &right(&["a"], "bob")),
    );
    h.cmd(
        &id(1),
        cmd(CommandKind::Right, "host", &right(&["a"], "host")),
    );
    assert_eq!(owner(&h, "a"), "host");
}

#[test]
fn kick_from_admin_disconnects_and_releases() {
    let mut h = three();
    h.cmd(
        &id(2),
        cmd(CommandKind::Right, "bob", &right(&["b"], "bob")),
    );
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::Kick, "host", &sdict(vec![("user", s("bob"))])),
    );
    let to_bob = sends_to(&acts, &id(2));
    assert_eq!(to_bob[0].kind(), Some(CommandKind::Disconnect));
    assert_eq!(
        get(&to_bob[0].data(), "reason").as_str(),
        Some("kicked by admin")
    );
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::DropPeer { to } if *to == id(2))));
    assert!(logged(&acts, "bob kicked from the session by host"));
    assert_eq!(owner(&h, "b"), "COMMON");
    // carol hears the release and the new user list at once (difference 8)
    let to_carol: Vec<_> = sends_to(&acts, &id(3)).iter().map(|m| m.kind()).collect();
    assert_eq!(
        to_carol,
        [
            Some(CommandKind::Right),
            Some(CommandKind::UpdateClientsState)
        ]
    );
    assert!(h.s.clients.by_name("bob").is_none());
}

#[test]
fn kick_from_a_non_admin_is_refused() {
    let mut h = three();
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::Kick, "bob", &sdict(vec![("user", s("host"))])),
    );
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "Kick from bob"));
    assert!(h.s.clients.by_name("host").is_some());
}

#[test]
fn kick_of_an_unknown_user_is_logged() {
    let mut h = three();
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::Kick,
            "host",
            &sdict(vec![("user", s("nobody"))]),
        ),
    );
    assert!(logged(&acts, "Can't kick nobody"));
    // Someone's typo is not a server error: `journalctl -p err` stays for real failures.
    for a in &acts {
        if let Action::Log { level, message } = a {
            assert!(*level != Level::Error, "{message} logged at ERROR");
        }
    }
}

#[test]
fn commands_before_login_are_refused() {
    let mut h = three();
    for (t, data) in [
        (CommandKind::Delete, s("a")),
        (CommandKind::Right, right(&["a"], "ghost")),
        (
            CommandKind::UpdateUserMetadata,
            sdict(vec![("x", Value::Int(1))]),
        ),
        (
            CommandKind::Snapshot,
            sdict(vec![("STATE", s("GET")), ("ID", s("a"))]),
        ),
        (
            CommandKind::Snapshot,
            sdict(vec![("STATE", s("REQUEST_INIT"))]),
        ),
        (
            CommandKind::ServerSnapshot,
            sdict(vec![("STATE", s("INIT")), ("NODES", Value::list(vec![]))]),
        ),
        (CommandKind::Kick, sdict(vec![("user", s("bob"))])),
    ] {
        let acts = h.cmd(&id(77), cmd(t, "ghost", &data));
        assert!(sends(&acts).is_empty(), "{t:?}");
        assert!(logged(&acts, "not logged in"));
    }
    assert_eq!(owner(&h, "a"), "COMMON");
    assert_eq!(h.s.clients.len(), 3);
}

#[test]
fn command_frames_that_do_not_parse_are_logged() {
    let mut h = three();
    for frames in [
        vec![Arc::from(&b"PING"[..])],
        vec![
            kframe(CommandKind::UpdateUserMetadata),
            Arc::from(&b"bob"[..]),
        ],
        vec![
            kframe(CommandKind::UpdateUserMetadata),
            Arc::from(&b"bob"[..]),
            Arc::from(&b"\x80\x04}\x94"[..]),
        ],
    ] {
        let acts = h.cmd(&id(2), frames);
        assert!(sends(&acts).is_empty());
        assert!(logged(&acts, "from bob ("));
        assert!(logged(&acts, "refused"));
    }
    let acts = h.frame(
        Channel::Command,
        &id(2),
        node_frames("q", "x", &[], &Value::None),
    );
    assert!(sends(&acts).is_empty());
}

#[test]
fn refusals_of_strangers_are_rate_limited_but_counted() {
    let mut h = three();
    let mut acts = Vec::new();
    for _ in 0..100 {
        acts.extend(h.data(&id(88), vec![Arc::from(&b"PING"[..])]));
    }
    let lines = logs(&acts)
        .iter()
        .filter(|l| l.contains("not logged in"))
        .count();
    assert_eq!(
        lines,
        crate::session::refusals::STRANGER_LINES_PER_SECOND as usize
    );
    let later = h.advance(1001);
    assert!(logged(
        &later,
        "80 more refusals of input from peers that are not logged in"
    ));
    // a logged-in client's refusals are all logged
    let mut acts = Vec::new();
    for _ in 0..100 {
        acts.extend(h.cmd(
            &id(2),
            cmd(CommandKind::UpdateUserMetadata, "bob", &s("not a dict")),
        ));
    }
    assert_eq!(
        logs(&acts)
            .iter()
            .filter(|l| l.contains("UpdateUserMetadata from bob"))
            .count(),
        100
    );
}

#[test]
fn metadata_is_bounded() {
    let mut h = three();
    let big = sdict(vec![(
        "chat",
        s(&"x".repeat(crate::session::commands::MAX_METADATA_BYTES)),
    )]);
    let acts = h.cmd(&id(2), cmd(CommandKind::UpdateUserMetadata, "bob", &big));
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "UpdateUserMetadata from bob"));
    let many = Value::dict(
        (0..=crate::session::commands::MAX_METADATA_KEYS as i64)
            .map(|k| (Value::Int(k), Value::None))
            .collect(),
    );
    let acts = h.cmd(&id(2), cmd(CommandKind::UpdateUserMetadata, "bob", &many));
    assert!(sends(&acts).is_empty());
    assert!(h.s.clients.get(&id(2)).expect("bob").metadata.is_empty());
}

#[test]
fn a_strangers_command_is_refused_before_its_payload_is_decoded() {
    let mut h = three();
    let garbage: crate::session::io::Frame = Arc::from(&b"\x80\x04\x95\xff\xff\xff\xff"[..]);
    let acts = h.cmd(
        &id(77),
        vec![
            kframe(CommandKind::Delete),
            Arc::from(&b"x"[..]),
            garbage.clone(),
        ],
    );
    assert!(logged(&acts, "Delete (type 4) from peer"));
    assert!(logged(&acts, "not logged in"));
    // the same payload from a client is decoded, and refused for what it is
    let acts = h.cmd(
        &id(2),
        vec![kframe(CommandKind::Delete), Arc::from(&b"x"[..]), garbage],
    );
    assert!(logged(&acts, "Delete from bob ("));
}
