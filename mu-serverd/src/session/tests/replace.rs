//! Whole-session changes (`mu-ctl import`, `reset`, `restore --at`): every client, in the lobby
//! or active, gets a Disconnect saying why, and the journal receives the new scene.

use super::harness::*;
use crate::session::io::{Action, Change, SceneRecord, SessionState};
use crate::session::{ClientStatus, ControlReply, ControlRequest, Repository, Scene};

/// "host" uploaded a scene (active); "waiter" logged in and did not join (lobby).
fn active_and_lobby() -> H {
    let mut h = H::new();
    h.host(&id(1), "host", &[("aaaa", node_value("a", 1))]);
    assert_eq!(h.login(&id(2), "waiter", false), "RUNNING");
    let ControlReply::Users(users) = h.s.handle_control(h.now, ControlRequest::Users) else {
        panic!("users");
    };
    let status = |n: &str| users.iter().find(|u| u.name == n).map(|u| u.status);
    assert_eq!(status("host"), Some(ClientStatus::Active));
    assert_eq!(status("waiter"), Some(ClientStatus::Lobby));
    h
}

/// A two-node ACTIVE scene, as an import or a restore rebuilds it.
fn other_scene() -> Repository {
    let mut h = H::new();
    h.host(
        &id(9),
        "elsewhere",
        &[("bbbb", node_value("b", 2)), ("cccc", node_value("c", 3))],
    );
    h.s.repository().clone()
}

/// Each of `ids` got exactly one Disconnect whose reason is `reason`.
fn each_told(acts: &[Action], ids: &[u8], reason: &str) {
    for &n in ids {
        let got: Vec<String> = sends_to(acts, &id(n))
            .iter()
            .filter(|m| m.kind() == Some(CommandKind::Disconnect))
            .map(|m| match get(&m.data(), "reason") {
                crate::pickle::Value::Str(r) => r.as_str().unwrap_or("?").to_owned(),
                other => panic!("reason {other:?}"),
            })
            .collect();
        assert_eq!(got, vec![reason.to_owned()], "client {n}: {acts:?}");
    }
}

/// The marker a persistence layer would put in its record.
#[derive(Debug, PartialEq)]
struct Marker(&'static str);

fn replaced_by(what: &'static str) {
    let mut h = active_and_lobby();
    let reason = format!("the administrator did an {what}");
    let scene = Scene::Rebuilt {
        repo: other_scene(),
        record: Some(SceneRecord::new(Marker(what))),
    };
    let old = h.s.replace_scene(h.now, &reason, scene);
    let acts: Vec<Action> = std::iter::from_fn(|| h.s.poll_action()).collect();
    each_told(&acts, &[1, 2], &reason);
    assert_eq!(h.s.client_count(), 0);
    assert_eq!(
        old.map(|r| r.len()),
        Some(1),
        "the old scene is handed back"
    );
    // The new scene is installed and its record reaches persistence, once.
    assert_eq!(h.s.state(), SessionState::Active);
    let uuids: Vec<&str> = h.s.repository().iter().map(|n| n.uuid).collect();
    assert_eq!(uuids.len(), 2);
    assert!(
        uuids.contains(&"bbbb") && uuids.contains(&"cccc"),
        "{uuids:?}"
    );
    let records: Vec<&Marker> = acts
        .iter()
        .filter_map(|a| match a {
            Action::PersistScene(r) => r.get::<Marker>(),
            _ => None,
        })
        .collect();
    assert_eq!(records, vec![&Marker(what)], "{acts:?}");
    // Nothing else is journaled for the old scene (its locks, its clients).
    assert!(persisted(&acts).is_empty(), "{:?}", persisted(&acts));
    // A client that comes back joins the new scene.
    let got = h.join(&id(3), "back");
    assert_eq!(got.len(), 2);
}

#[test]
fn an_import_disconnects_lobby_and_active_clients_and_journals_the_scene() {
    replaced_by("import");
}

#[test]
fn a_restore_disconnects_lobby_and_active_clients_and_journals_the_scene() {
    replaced_by("restore");
}

#[test]
fn a_reset_disconnects_lobby_and_active_clients_and_journals_the_reset() {
    let mut h = active_and_lobby();
    let reply = h.s.handle_control(h.now, ControlRequest::Reset);
    assert_eq!(reply, ControlReply::Done);
    let acts: Vec<Action> = std::iter::from_fn(|| h.s.poll_action()).collect();
    each_told(&acts, &[1, 2], "session reset by the administrator");
    assert_eq!(h.s.client_count(), 0);
    assert_eq!(h.s.state(), SessionState::Waiting);
    assert!(h.s.repository().is_empty());
    assert!(
        matches!(persisted(&acts).as_slice(), [Change::Reset]),
        "{:?}",
        persisted(&acts)
    );
}

#[test]
fn a_rebuilt_scene_releases_its_locks_after_its_record() {
    let mut h = active_and_lobby();
    let mut repo = other_scene();
    let change = Change::OwnersChanged {
        uuids: vec!["bbbb".into()],
        owner: "someone".into(),
    };
    repo.apply_change(&change).expect("owner");
    let record = Some(SceneRecord::new(Marker("restore")));
    h.s.replace_scene(h.now, "restored", Scene::Rebuilt { repo, record });
    let acts: Vec<Action> = std::iter::from_fn(|| h.s.poll_action()).collect();
    let scene = acts
        .iter()
        .position(|a| matches!(a, Action::PersistScene(_)));
    let owners = acts.iter().position(
        |a| matches!(a, Action::Persist(Change::OwnersChanged { owner, .. }) if owner == "COMMON"),
    );
    assert!(scene.is_some() && scene < owners, "{acts:?}");
}
