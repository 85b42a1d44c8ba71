//! Whole-session changes through the real store: what `Session::replace_scene` emits for an
//! import, a restore and a reset is what a restart finds on disk (the store dropped without a
//! final snapshot, so the journal and the installed import alone carry it).

use super::{export, Store};
use crate::config::Config;
use crate::pickle::{self, Value};
use crate::session::io::{Change, Journal, SessionState};
use crate::session::{ControlRequest, Repository, Session, SessionConfig};
use crate::store::history::rebuild;
use crate::store::testutil::tempdir;
use std::path::Path;
use std::sync::Arc;

fn cfg(dir: &Path) -> Config {
    let mut c = Config::default();
    c.storage.state_dir = dir.to_path_buf();
    c.storage.state_dir_explicit = true;
    c
}

/// An ACTIVE scene of `n` nodes named `prefix`-i.
fn scene(prefix: &str, n: usize) -> Repository {
    let mut repo = Repository::new(Default::default());
    let none: Arc<[u8]> = Arc::from(pickle::encode(&Value::None));
    for i in 0..n {
        let data = Value::dict(vec![(Value::str("x"), Value::Int(i as i64))]);
        repo.apply_change(&Change::NodeStored {
            uuid: format!("{prefix}-{i}"),
            owner: "COMMON".into(),
            deps: none.clone(),
            data: Arc::from(pickle::encode(&data)),
        })
        .expect("node");
    }
    repo.apply_change(&Change::State(SessionState::Active))
        .expect("state");
    repo
}

/// What the event loop does with the core's actions (`Shell::drain_actions`).
fn drain(session: &mut Session, p: &mut Store) {
    while let Some(a) = session.poll_action() {
        let _ = a.journal_into(p);
    }
    Journal::flush(p);
}

/// The node uuids and state a restart recovers from `dir` (no final snapshot was written).
fn restarted(dir: &Path) -> (SessionState, Vec<String>) {
    let mut s = Session::new(SessionConfig::default());
    let _p = Store::open_for(&cfg(dir), &mut s, false).expect("reopen");
    let mut uuids: Vec<String> = s.repository().iter().map(|n| n.uuid.to_owned()).collect();
    uuids.sort();
    (s.state(), uuids)
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    v.sort();
    v
}

#[test]
fn an_import_a_restore_and_a_reset_are_what_a_restart_finds() {
    let dir = tempdir("hook-replace");
    let c = cfg(&dir);

    // mu-ctl import, as control.rs does it: the job off the loop, then the core installs it.
    let file = dir.join("seed.db");
    let mut seed = scene("imp", 3);
    export::write(&file, &rebuild::image_of(&mut seed), Value::dict(vec![])).expect("export");
    let mut s = Session::new(SessionConfig::default());
    let mut p = Store::open_for(&c, &mut s, false).expect("open");
    let f = std::fs::File::open(&file).expect("seed");
    let job = p.import_job(&mut s, f, "seed.db".into()).expect("job");
    let prepared = job().expect("read");
    let (scene_in, _) = p.import_finish(&s, prepared).expect("finish");
    s.replace_scene(0, "imported", scene_in);
    drain(&mut s, &mut p);
    drop(p);
    assert_eq!(restarted(&dir), (SessionState::Active, names("imp", 3)));

    // mu-ctl restore --at: the rebuilt scene and its encoded head.
    let mut s = Session::new(SessionConfig::default());
    let mut p = Store::open_for(&c, &mut s, false).expect("open");
    let mut back = scene("old", 2);
    let head = rebuild::encode(&rebuild::image_of(&mut back));
    let scene_in = Store::restore_scene(back, head);
    s.replace_scene(0, "restored", scene_in);
    drain(&mut s, &mut p);
    drop(p);
    assert_eq!(restarted(&dir), (SessionState::Active, names("old", 2)));

    // mu-ctl reset (its backup is the daemon's business).
    let mut s = Session::new(SessionConfig::default());
    let mut p = Store::open_for(&c, &mut s, false).expect("open");
    s.handle_control(0, ControlRequest::Reset);
    drain(&mut s, &mut p);
    drop(p);
    assert_eq!(restarted(&dir), (SessionState::Waiting, vec![]));
    let _ = std::fs::remove_dir_all(&dir);
}
