//! Whole-session changes (`mu-ctl import`, `reset`, `restore --at`): every client, in the lobby
//! or active, gets a Disconnect saying why, and the journal receives the new scene.
//!
//! The actions go through the one routing the shell uses ([`Action::journal_into`]) into an
//! in-memory [`Journal`]; replaying that journal on top of the session as it was must give the
//! session as it is (state, nodes, owners).

use super::harness::*;
use crate::session::io::{
    Action, Change, EncodedChanges, Journal, SceneRecord, SessionState, SnapshotSlot,
};
use crate::session::{ClientStatus, ControlReply, ControlRequest, Repository, Scene};
use std::sync::Arc;

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

/// An in-memory journal: what the core asked to journal, in order, and what was flushed.
#[derive(Default)]
struct MemJournal {
    entries: Vec<Entry>,
    flushed: usize,
}

#[derive(Debug)]
enum Entry {
    Change(Change),
    Scene(SceneRecord),
}

impl Journal for MemJournal {
    fn record(&mut self, change: &Change) {
        self.entries.push(Entry::Change(change.clone()));
    }
    fn record_scene(&mut self, scene: &SceneRecord) {
        self.entries.push(Entry::Scene(scene.clone()));
    }
    fn record_sender(&mut self, _who: Option<&str>) {}
    fn flush(&mut self) {
        self.flushed = self.entries.len();
    }
}

impl MemJournal {
    /// Routes the core's actions as the shell does: the journal's to the journal (then one
    /// flush), the rest returned.
    fn drain(&mut self, h: &mut H) -> Vec<Action> {
        let mut rest = Vec::new();
        while let Some(a) = h.s.poll_action() {
            if let Err(other) = a.journal_into(self) {
                rest.push(other);
            }
        }
        self.flush();
        rest
    }

    /// `base` with every flushed entry applied; a scene record stands for the scene the
    /// persistence layer prepared it from (`scenes`), as the store's snapshot or encoded
    /// records do.
    fn replay(&self, base: &Repository, scenes: &[(SceneRecord, Repository)]) -> Repository {
        let mut repo = base.clone();
        for e in &self.entries[..self.flushed] {
            match e {
                Entry::Change(c) => repo.apply_change(c).expect("a journaled change applies"),
                Entry::Scene(r) => {
                    let (_, scene) = scenes
                        .iter()
                        .find(|(rec, _)| rec == r)
                        .expect("a record the test prepared");
                    repo = scene.clone();
                }
            }
        }
        repo
    }
}

/// What a client can see of a repository: its state, and each node with its owner.
fn seen(repo: &Repository) -> (SessionState, Vec<(String, String)>) {
    let mut owners: Vec<(String, String)> = repo
        .owners()
        .map(|(u, o)| (u.to_owned(), o.to_owned()))
        .collect();
    owners.sort();
    (repo.state(), owners)
}

/// A record as the store makes it for an import (a snapshot written off the loop).
fn import_record() -> SceneRecord {
    SceneRecord::Snapshot(SnapshotSlot {
        path: "/nonexistent/import-7.snap".into(),
        generation: 7,
        last_seq: 41,
    })
}

/// A record as the store makes it for a restore (journal payloads encoded off the loop).
fn restore_record() -> SceneRecord {
    SceneRecord::Changes(Arc::new(EncodedChanges {
        bytes: b"restore".to_vec(),
        ends: vec![7],
        nodes: 2,
    }))
}

/// A lobby client and an active client; the session replaced by `scene` (with `record`), or
/// reset when `record` is None. Each client gets one Disconnect with the reason, and the
/// journal, replayed on the session as it was, gives the session as it is.
fn replaced_by(what: &str, record: Option<SceneRecord>) {
    let mut h = active_and_lobby();
    let base = h.s.repository().clone();
    let mut journal = MemJournal::default();
    // The scene the persistence layer prepared: one node still locked by its old owner.
    let mut scene = other_scene();
    let lock = Change::OwnersChanged {
        uuids: vec!["bbbb".into()],
        owner: "someone".into(),
    };
    scene.apply_change(&lock).expect("owner");
    let scenes: Vec<(SceneRecord, Repository)> =
        record.iter().map(|r| (r.clone(), scene.clone())).collect();
    let reason = match &record {
        Some(r) => {
            let reason = format!("the administrator did an {what}");
            let scene = Scene::Rebuilt {
                repo: scene.clone(),
                record: Some(r.clone()),
            };
            let old = h.s.replace_scene(h.now, &reason, scene);
            assert_eq!(
                old.map(|r| r.len()),
                Some(1),
                "the old scene is handed back"
            );
            reason
        }
        None => {
            let reply = h.s.handle_control(h.now, ControlRequest::Reset);
            assert_eq!(reply, ControlReply::Done);
            "session reset by the administrator".to_owned()
        }
    };
    let acts = journal.drain(&mut h);
    each_told(&acts, &[1, 2], &reason);
    assert_eq!(h.s.client_count(), 0);
    assert_eq!(journal.flushed, journal.entries.len(), "all flushed");
    // The journal holds the new scene: replayed, it is the session.
    let replayed = journal.replay(&base, &scenes);
    assert_eq!(
        seen(&replayed),
        seen(h.s.repository()),
        "{:?}",
        journal.entries
    );
    match &record {
        Some(r) => {
            // Installed, locks back to COMMON, the record journaled once and first.
            let (state, owners) = seen(h.s.repository());
            assert_eq!(state, SessionState::Active);
            assert_eq!(
                owners,
                vec![
                    ("bbbb".into(), "COMMON".into()),
                    ("cccc".into(), "COMMON".into())
                ]
            );
            assert!(
                matches!(journal.entries.first(), Some(Entry::Scene(got)) if got == r),
                "{:?}",
                journal.entries
            );
            let scenes_journaled = journal
                .entries
                .iter()
                .filter(|e| matches!(e, Entry::Scene(_)))
                .count();
            assert_eq!(scenes_journaled, 1);
            // A client that comes back joins the new scene.
            assert_eq!(h.join(&id(3), "back").len(), 2);
        }
        None => {
            assert_eq!(seen(h.s.repository()), (SessionState::Waiting, vec![]));
            assert!(
                matches!(journal.entries.as_slice(), [Entry::Change(Change::Reset)]),
                "{:?}",
                journal.entries
            );
        }
    }
}

#[test]
fn an_import_disconnects_lobby_and_active_clients_and_journals_the_scene() {
    replaced_by("import", Some(import_record()));
}

#[test]
fn a_restore_disconnects_lobby_and_active_clients_and_journals_the_scene() {
    replaced_by("restore", Some(restore_record()));
}

#[test]
fn a_reset_disconnects_lobby_and_active_clients_and_journals_the_reset() {
    replaced_by("reset", None);
}
