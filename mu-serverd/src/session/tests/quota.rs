//! Totals (issue 14): metadata bytes per user and in all, nodes and bytes per session. A
//! message that would pass a total is refused whole (one line naming the user and the limit,
//! nothing stored, nothing relayed, nothing journaled) and its sender stays connected.

use super::harness::*;
use super::snapshot_msgs::*;
use crate::pickle::Value;
use crate::session::io::{Action, Change, SessionState};
use crate::session::wire::sdict;
use crate::session::SessionConfig;

fn quota_cfg(f: impl FnOnce(&mut SessionConfig)) -> H {
    let mut c = cfg();
    f(&mut c);
    H::with(c)
}

fn meta(key: &str, bytes: usize) -> Value {
    sdict(vec![(key, s(&"m".repeat(bytes)))])
}

fn nothing_happened(acts: &[Action]) {
    assert!(sends(acts).is_empty(), "relayed: {acts:?}");
    assert!(persisted(acts).is_empty(), "journaled: {acts:?}");
}

#[test]
fn one_users_metadata_total_is_bounded_and_replacing_frees() {
    let mut h = quota_cfg(|c| c.max_user_metadata_bytes = 4000);
    h.host(&id(1), "alice", &[("n1", node_value("n1", 1))]);
    h.join(&id(2), "bob");
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("a", 2500)),
    );
    assert_eq!(sends_to(&acts, &id(1)).len(), 1);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("b", 2500)),
    );
    nothing_happened(&acts);
    let line = logs(&acts).join("\n");
    assert!(line.contains("UpdateUserMetadata from bob"), "{line}");
    assert!(
        line.contains("max_metadata_bytes_per_user = 4000"),
        "{line}"
    );
    let bob = h.s.clients.get(&id(2)).expect("bob stays connected");
    assert_eq!(bob.metadata.len(), 1);
    // the same key again replaces (and frees) what it held
    for _ in 0..3 {
        let acts = h.cmd(
            &id(2),
            cmd(CommandKind::UpdateUserMetadata, "bob", &meta("a", 3500)),
        );
        assert_eq!(sends_to(&acts, &id(1)).len(), 1, "{:?}", logs(&acts));
    }
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("a", 100)),
    );
    assert_eq!(sends_to(&acts, &id(1)).len(), 1);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("b", 2500)),
    );
    assert_eq!(sends_to(&acts, &id(1)).len(), 1, "{:?}", logs(&acts));
}

#[test]
fn everyones_metadata_total_is_bounded() {
    let mut h = quota_cfg(|c| c.max_metadata_bytes_total = 6000);
    h.host(&id(1), "alice", &[("n1", node_value("n1", 1))]);
    h.join(&id(2), "bob");
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::UpdateUserMetadata, "alice", &meta("a", 3000)),
    );
    assert_eq!(sends_to(&acts, &id(2)).len(), 1);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("a", 3000)),
    );
    nothing_happened(&acts);
    assert!(
        logged(&acts, "max_metadata_bytes_total = 6000"),
        "{:?}",
        logs(&acts)
    );
    assert!(logged(&acts, "UpdateUserMetadata from bob"));
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("a", 2000)),
    );
    assert_eq!(sends_to(&acts, &id(1)).len(), 1, "{:?}", logs(&acts));
    // when alice leaves, her share is free again
    h.s.kick("alice", "kicked", "a test");
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::UpdateUserMetadata, "bob", &meta("b", 3000)),
    );
    assert!(!logged(&acts, "refused"), "{:?}", logs(&acts));
}

#[test]
fn new_nodes_beyond_max_nodes_are_refused_updates_still_flow() {
    let mut h = quota_cfg(|c| c.max_nodes = 2);
    h.host(
        &id(1),
        "alice",
        &[("n1", node_value("n1", 1)), ("n2", node_value("n2", 2))],
    );
    h.join(&id(2), "bob");
    let acts = h.data(&id(2), node_frames("n3", "bob", &[], &node_value("n3", 3)));
    nothing_happened(&acts);
    assert!(logged(&acts, "data from bob"), "{:?}", logs(&acts));
    assert!(logged(&acts, "limit max_nodes = 2"), "{:?}", logs(&acts));
    assert_eq!(h.s.repository().len(), 2);
    let acts = h.data(
        &id(2),
        node_frames("n2", "COMMON", &[], &node_value("n2", 9)),
    );
    assert_eq!(sends_to(&acts, &id(1)).len(), 1, "{:?}", logs(&acts));
}

#[test]
fn nodes_and_commits_beyond_max_session_bytes_are_refused() {
    let mut h = quota_cfg(|c| c.max_session_bytes = 3000);
    h.host(&id(1), "alice", &[("n1", node_value("n1", 1))]);
    h.join(&id(2), "bob");
    let held = h.s.repository().stored_bytes();
    let big = sdict(vec![("name", s("n1")), ("blob", s(&"b".repeat(4000)))]);
    let acts = h.data(&id(2), node_frames("n1", "COMMON", &[], &big));
    nothing_happened(&acts);
    assert!(
        logged(&acts, "limit max_session_bytes = 3000"),
        "{:?}",
        logs(&acts)
    );
    assert_eq!(h.s.repository().stored_bytes(), held);
    let delta = set_delta("name", s(&"c".repeat(4000)));
    let acts = h.data(&id(2), commit_frames("n1", &[], &delta));
    nothing_happened(&acts);
    assert!(logged(&acts, "commit on node n1"), "{:?}", logs(&acts));
    // small edits go on
    let acts = h.data(
        &id(2),
        commit_frames("n1", &[], &set_delta("x", Value::Int(5))),
    );
    assert_eq!(sends_to(&acts, &id(1)).len(), 1, "{:?}", logs(&acts));
    assert!(h.s.clients.get(&id(2)).is_some());
}

#[test]
fn an_upload_beyond_the_totals_is_rejected_and_another_may_start() {
    let mut h = quota_cfg(|c| {
        c.max_nodes = 3;
        c.max_session_bytes = 3000;
    });
    h.login(&id(1), "host", true);
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b", "c", "d"]),
        ),
    );
    assert_eq!(snapshot_states(&acts, 1), vec!["REJECTED"]);
    assert!(logged(&acts, "limit max_nodes = 3"), "{:?}", logs(&acts));
    assert_eq!(h.s.state(), SessionState::Waiting);
    // announced within the node limit, but the nodes pass the byte total
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b", "c"]),
        ),
    );
    let blob = |n: &str| sdict(vec![("name", s(n)), ("blob", s(&"b".repeat(1400)))]);
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &blob("a")),
        ),
    );
    assert!(snapshot_states(&acts, 1).is_empty());
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("b", &blob("b")),
        ),
    );
    assert!(snapshot_states(&acts, 1).is_empty());
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("c", &blob("c")),
        ),
    );
    assert_eq!(snapshot_states(&acts, 1), vec!["REJECTED"]);
    assert!(logged(&acts, "abandoned"), "{:?}", logs(&acts));
    assert!(logged(&acts, "limit max_session_bytes = 3000"));
    assert!(persisted(&acts).iter().any(|c| matches!(c, Change::Reset)));
    assert_eq!(h.s.state(), SessionState::Waiting);
    assert!(h.s.repository().is_empty());
    // its END closes the abandoned upload quietly; then another upload may start
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    assert!(
        logged(&acts, "abandoned upload is over"),
        "{:?}",
        logs(&acts)
    );
    h.login(&id(2), "next", true);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["z"])),
    );
    assert_eq!(snapshot_states(&acts, 2), vec!["ACCEPTED"]);
}
