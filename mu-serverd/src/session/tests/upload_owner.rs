//! Upload ownership: only the client whose INIT was accepted may send that upload's SETs and
//! END; everyone else is refused with a log line naming them, and nothing changes. Joins are
//! refused until there is a complete scene.

use super::harness::*;
use super::snapshot_msgs::*;
use crate::session::io::{Change, SessionState};
use crate::session::wire::sdict;

#[test]
fn end_from_another_client_during_an_upload_is_refused_and_changes_nothing() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.login(&id(2), "mallory", true);
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b"]),
        ),
    );
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &node_value("a", 1)),
        ),
    );
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    let line = logs(&acts).join("\n");
    assert!(
        line.contains("ServerSnapshot END from mallory") && line.contains("host"),
        "{line}"
    );
    assert!(line.contains("refused: not the uploader"), "{line}");
    assert!(persisted(&acts).is_empty(), "{acts:?}");
    assert_eq!(h.s.state(), SessionState::SrvSync);
    assert_eq!(h.s.repository().len(), 1);
    // the would-be hijacker cannot start its own upload either
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["z"])),
    );
    assert_eq!(snapshot_states(&acts, 2), vec!["REJECTED"]);
    // nor add a node to the running one
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("b", &node_value("b", 1)),
        ),
    );
    assert!(logged(&acts, "SET from mallory"));
    assert!(persisted(&acts).is_empty());
    // the real upload completes
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("b", &node_value("b", 1)),
        ),
    );
    assert_eq!(snapshot_states(&acts, 1), vec!["DONE"]);
    assert_eq!(h.s.repository().len(), 2);
}

#[test]
fn only_the_uploader_becomes_active_with_end() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.login(&id(2), "lobby", false);
    h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["a"])),
    );
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &node_value("a", 1)),
        ),
    );
    assert_eq!(h.s.state(), SessionState::Active);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    assert!(logged(&acts, "END from lobby"), "{:?}", logs(&acts));
    assert!(!logged(&acts, "user online"));
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    assert!(logged(&acts, "host: user online"));
    // a second END (replayed) is refused too: the upload is over
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    assert!(logged(&acts, "refused: no upload in progress"));
}

#[test]
fn end_while_waiting_is_refused() {
    let mut h = H::new();
    h.login(&id(2), "mallory", false);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    assert!(logged(&acts, "END from mallory"));
    assert!(persisted(&acts).is_empty());
    assert_eq!(h.s.state(), SessionState::Waiting);
}

#[test]
fn uploader_leaving_lets_another_admin_upload_and_forgets_the_end() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.hb(&id(1), b"INIT");
    h.login(&id(2), "next", true);
    h.hb(&id(2), b"INIT");
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b"]),
        ),
    );
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &node_value("a", 1)),
        ),
    );
    let acts = h.advance_answering(5000, &[id(2)]);
    assert!(persisted(&acts).iter().any(|c| matches!(c, Change::Reset)));
    assert_eq!(h.s.state(), SessionState::Waiting);
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["c"])),
    );
    assert_eq!(snapshot_states(&acts, 2), vec!["ACCEPTED"]);
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("c", &node_value("c", 1)),
        ),
    );
    assert_eq!(snapshot_states(&acts, 2), vec!["DONE"]);
}

#[test]
fn joins_are_refused_until_the_scene_is_complete() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.login(&id(2), "early", false);
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b"]),
        ),
    );
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &node_value("a", 1)),
        ),
    );
    for state in ["REQUEST_INIT", "DONE"] {
        let acts = h.cmd(
            &id(2),
            cmd(
                CommandKind::Snapshot,
                "early",
                &sdict(vec![("STATE", s(state))]),
            ),
        );
        assert!(logged(&acts, "Snapshot from early"), "{:?}", logs(&acts));
        assert!(sends_to(&acts, &id(2)).is_empty());
    }
    let get = sdict(vec![("STATE", s("GET")), ("ID", s("a"))]);
    let acts = h.cmd(&id(2), cmd(CommandKind::Snapshot, "early", &get));
    assert!(sends_to(&acts, &id(2)).is_empty(), "partial scene leaked");
}
