//! The first client's upload (ServerSnapshot INIT/SET/END).

use super::harness::*;
use super::snapshot_msgs::*;
use crate::pickle::Value;
use crate::session::io::{Action, Change, SessionState};
use crate::session::wire::sdict;

#[test]
fn upload_accepted_stored_done_and_catalog_sent_to_the_lobby() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.login(&id(2), "early", false);
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b"]),
        ),
    );
    assert_eq!(snapshot_states(&acts, 1), vec!["ACCEPTED"]);
    assert!(matches!(
        persisted(&acts)[..],
        [Change::State(SessionState::SrvSync)]
    ));
    assert_eq!(h.s.state(), SessionState::SrvSync);
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &node_value("a", 1)),
        ),
    );
    assert!(snapshot_states(&acts, 1).is_empty());
    assert!(matches!(&persisted(&acts)[..], [Change::NodeStored { uuid, .. }] if uuid == "a"));
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("b", &node_value("b", 2)),
        ),
    );
    assert_eq!(snapshot_states(&acts, 1), vec!["DONE"]);
    assert_eq!(h.s.state(), SessionState::Active);
    // the persisted state change comes before the DONE is sent
    let p = acts
        .iter()
        .position(|a| matches!(a, Action::Persist(Change::State(SessionState::Active))));
    let d = acts.iter().position(|a| matches!(a, Action::Send { .. }));
    assert!(p < d);
    // the lobby client gets the catalog (then the pushed SETs of both nodes, difference 13),
    // the uploader does not
    let cat = sends_to(&acts, &id(2));
    assert_eq!(cat.len(), 3);
    assert!(cat.iter().all(|m| m.kind() == Some(CommandKind::Snapshot)));
    assert_eq!(cat[0].kind(), Some(CommandKind::Snapshot));
    let catalog = cat[0].data();
    assert_eq!(get(&catalog, "STATE").as_str(), Some("INIT"));
    assert!(matches!(get(&catalog, "CATALOG"), Value::List(l) if l.len() == 2));
    // END makes the uploader ACTIVE, logged as "user online", and everyone hears it
    let acts = h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_end()),
    );
    assert!(logged(&acts, "host: user online"));
    let states = sends_to(&acts, &id(2));
    assert_eq!(states[0].kind(), Some(CommandKind::UpdateClientsState));
    assert_eq!(int(get(get(&states[0].data(), "host"), "status")), 2);
}

#[test]
fn second_init_is_rejected_while_syncing_and_when_active() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.login(&id(2), "other", false);
    h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["a"])),
    );
    let acts = h.cmd(
        &id(2),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["z"])),
    );
    assert_eq!(snapshot_states(&acts, 2), vec!["REJECTED"]);
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
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["z"])),
    );
    assert_eq!(snapshot_states(&acts, 2), vec!["REJECTED"]);
    assert!(logged(&acts, "REJECTED"));
    assert_eq!(h.s.repository().len(), 1);
}

#[test]
fn set_from_someone_else_or_unannounced_is_refused() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.login(&id(2), "other", false);
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_init(&["a", "b"]),
        ),
    );
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("a", &node_value("a", 9)),
        ),
    );
    assert!(logged(&acts, "not the uploader"));
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &upload_set("zz", &node_value("zz", 9)),
        ),
    );
    assert!(logged(&acts, "was not announced"));
    assert!(h.s.repository().is_empty());
}

#[test]
fn uploader_leaving_mid_upload_resets_to_waiting() {
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.hb(&id(1), b"INIT");
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
    // the heartbeat stops; after the timeout the client is lost
    let acts = h.advance(5000);
    assert!(logged(&acts, "session reset to WAITING"));
    assert!(persisted(&acts).iter().any(|c| matches!(c, Change::Reset)));
    assert_eq!(h.s.state(), SessionState::Waiting);
    assert!(h.s.repository().is_empty());
    assert_eq!(h.login(&id(3), "next", true), "LOBBY");
    let acts = h.cmd(
        &id(3),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["c"])),
    );
    assert_eq!(snapshot_states(&acts, 3), vec!["ACCEPTED"]);
}

#[test]
fn upload_of_node_with_code_is_refused() {
    // difference 2: a node whose data would run code on clients is not stored
    let mut h = H::new();
    h.login(&id(1), "host", true);
    h.cmd(
        &id(1),
        cmd(CommandKind::ServerSnapshot, "server", &upload_init(&["a"])),
    );
    let mut chunks = node_frames("a", "COMMON", &[], &node_value("a", 1));
    chunks[4] = std::sync::Arc::from(&b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94."[..]);
    let set = sdict(vec![
        ("STATE", s("SET")),
        (
            "DATA",
            Value::list(chunks.iter().map(|f| Value::Bytes(f.clone())).collect()),
        ),
    ]);
    let acts = h.cmd(&id(1), cmd(CommandKind::ServerSnapshot, "server", &set));
    assert!(logged(&acts, "refused"));
    assert!(h.s.repository().is_empty());
    assert_eq!(h.s.state(), SessionState::SrvSync);
}
