//! End-to-end tests of the store on a real directory: what the event loop writes (through
//! [`Store`]) is exactly what start-up recovers, through crashes (the store dropped without
//! `shutdown`), torn tails, corrupt snapshots, rotation and background snapshots.
//!
//! This file: recovery after crashes and damage; [`running`]: a store at work (rotation,
//! background and early snapshots, shutdown, imports).
//!
//! A toy repository applies the changes (a Commit appends its delta bytes to the data), enough
//! to tell whether every change was recovered once, in order.

use super::layout;
use super::recover::{recover, RecoverError};
use super::snapshot::{Image, NodeImage};
use super::testutil::tempdir;
use super::Store;
use crate::config::{Fsync, Storage};
use crate::session::io::{Change, SessionState};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
struct Toy {
    state: SessionState,
    nodes: BTreeMap<String, (String, Vec<u8>, Vec<u8>)>,
    version: Option<String>,
}

impl Toy {
    fn new() -> Self {
        Toy {
            state: SessionState::Waiting,
            nodes: BTreeMap::new(),
            version: None,
        }
    }
    fn from_image(img: &Image) -> Self {
        let mut t = Toy::new();
        t.state = img.state;
        t.version.clone_from(&img.client_version);
        for n in &img.nodes {
            t.nodes.insert(
                n.uuid.clone(),
                (n.owner.clone(), n.deps.to_vec(), n.data.to_vec()),
            );
        }
        t
    }
    fn apply(&mut self, c: &Change) {
        match c {
            Change::State(s) => self.state = *s,
            Change::NodeStored {
                uuid,
                owner,
                deps,
                data,
            } => {
                self.nodes
                    .insert(uuid.clone(), (owner.clone(), deps.to_vec(), data.to_vec()));
            }
            Change::CommitApplied { uuid, deps, delta } => {
                if let Some(n) = self.nodes.get_mut(uuid) {
                    n.1 = deps.to_vec();
                    n.2.extend_from_slice(delta);
                }
            }
            Change::NodeDeleted { uuid } => {
                self.nodes.remove(uuid);
            }
            Change::OwnersChanged { uuids, owner } => {
                for u in uuids {
                    if let Some(n) = self.nodes.get_mut(u) {
                        n.0 = owner.clone();
                    }
                }
            }
            Change::Reset => *self = Toy::new(),
            Change::ClientVersion(v) => self.version.clone_from(v),
        }
    }
    fn image(&self) -> Image {
        Image {
            state: self.state,
            nodes: self
                .nodes
                .iter()
                .map(|(u, (o, d, x))| NodeImage {
                    uuid: u.clone(),
                    owner: o.clone(),
                    deps: Arc::from(&d[..]),
                    data: Arc::from(&x[..]),
                })
                .collect(),
            last_seq: 0,
            client_version: self.version.clone(),
        }
    }
}

fn cfg(dir: &Path, fsync: Fsync) -> Storage {
    Storage {
        enabled: true,
        state_dir: dir.to_path_buf(),
        state_dir_explicit: true,
        fsync,
        fsync_interval_ms: 20,
        snapshot_interval_s: 3600,
        max_backups: 2,
        import: None,
        max_import_bytes: 1 << 30,
        history_ms: 0,
        history_max_bytes: u64::MAX,
    }
}

/// The i-th change of a deterministic workload over a few nodes.
fn change(i: u32) -> Change {
    let uuid = format!("node-{}", i % 7);
    match i % 5 {
        0 | 1 => Change::NodeStored {
            uuid,
            owner: "COMMON".into(),
            deps: Arc::from(&b"\x80\x04N."[..]),
            data: Arc::from(format!("data {i}").into_bytes()),
        },
        2 | 3 => Change::CommitApplied {
            uuid,
            deps: Arc::from(format!("deps {i}").into_bytes()),
            delta: Arc::from(format!("+{i}").into_bytes()),
        },
        _ => Change::OwnersChanged {
            uuids: vec![uuid],
            owner: format!("user{i}"),
        },
    }
}

/// Starts a store the way the daemon does: recover, rebuild, open.
fn start(dir: &Path, fsync: Fsync) -> (Store, Toy) {
    start_with(&cfg(dir, fsync))
}

fn start_with(c: &Storage) -> (Store, Toy) {
    let rec = recover(&c.state_dir).expect("recover");
    let (toy, newest, last_seq) = match rec {
        None => (Toy::new(), 0, 0),
        Some(r) => {
            let mut t = Toy::from_image(&r.base);
            for c in &r.changes {
                t.apply(c);
            }
            (t, r.newest_generation, r.last_seq)
        }
    };
    let mut img = toy.image();
    img.last_seq = last_seq;
    let store = Store::open(c, newest, &img).expect("open");
    (store, toy)
}

fn recovered(dir: &Path) -> Toy {
    let r = recover(dir).expect("recover").expect("state present");
    let mut t = Toy::from_image(&r.base);
    for c in &r.changes {
        t.apply(c);
    }
    t
}

fn run(store: &mut Store, toy: &mut Toy, range: std::ops::Range<u32>) {
    for i in range {
        let c = change(i);
        toy.apply(&c);
        store.append(&c);
    }
}

#[test]
fn fresh_directory_has_no_state() {
    let d = tempdir("t-fresh");
    assert!(recover(&d).unwrap().is_none());
}

#[test]
fn a_crash_loses_nothing_that_was_appended() {
    for fsync in [Fsync::Batch, Fsync::Always] {
        let d = tempdir("t-crash");
        let (mut s, mut toy) = start(&d, fsync);
        toy.apply(&Change::State(SessionState::Active));
        s.append(&Change::State(SessionState::Active));
        run(&mut s, &mut toy, 0..200);
        drop(s); // no shutdown: like kill -9 (the page cache keeps what write(2) wrote)
        assert_eq!(recovered(&d), toy);
        // And again on top of the recovered state.
        let (mut s, mut toy2) = start(&d, fsync);
        assert_eq!(toy2, toy);
        run(&mut s, &mut toy2, 200..300);
        drop(s);
        assert_eq!(recovered(&d), toy2);
    }
}

#[test]
fn torn_tail_is_truncated_and_everything_before_it_kept() {
    let d = tempdir("t-torn");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..50);
    let before_last = toy.clone();
    run(&mut s, &mut toy, 50..51);
    let gen = s.status().generation;
    drop(s);
    let path = layout::journal_path(&d, gen);
    let len = fs::metadata(&path).unwrap().len();
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 3).unwrap(); // the last record lost its last 3 bytes
    assert_eq!(recovered(&d), before_last);
    let after = fs::metadata(&path).unwrap().len();
    assert!(
        after < len - 3,
        "torn bytes were cut off ({after} vs {len})"
    );
}

#[test]
fn corrupt_newest_snapshot_falls_back_to_a_backup_plus_journals() {
    let d = tempdir("t-corrupt");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..40);
    let t = toy.clone();
    s.save_blocking(|| t.image()).unwrap();
    run(&mut s, &mut toy, 40..80);
    let newest = s.status().generation;
    drop(s);
    let snap = layout::snapshot_path(&d, newest);
    let mut bytes = fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&snap, &bytes).unwrap();
    assert_eq!(recovered(&d), toy);
    assert!(!snap.exists());
    assert!(snap.with_extension("corrupt").exists());
}

#[test]
fn nothing_readable_refuses_instead_of_starting_empty() {
    let d = tempdir("t-nothing");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..10);
    drop(s);
    for g in layout::list(&d).unwrap().snapshots {
        fs::write(layout::snapshot_path(&d, g), b"garbage").unwrap();
    }
    match recover(&d) {
        Err(RecoverError::NothingReadable { details, .. }) => assert!(!details.is_empty()),
        other => panic!("expected NothingReadable, got {other:?}"),
    }
    // --reset-state moves the files aside; then the directory is fresh.
    let aside = super::recover::discard(&d).unwrap().expect("files moved");
    assert!(aside.is_dir());
    assert!(recover(&d).unwrap().is_none());
}

#[test]
fn damage_in_an_older_journal_stops_replay_at_the_gap() {
    let d = tempdir("t-gap");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..30);
    let first_gen = s.status().generation;
    let t = toy.clone();
    s.save_blocking(|| t.image()).unwrap();
    run(&mut s, &mut toy, 30..60);
    drop(s);
    // Newest snapshot unusable, and the journal before it torn: the fallback can only rebuild
    // the state up to the damage, and must not apply the later journal on top of the hole.
    let newest = layout::list(&d).unwrap().snapshots.last().copied().unwrap();
    fs::write(layout::snapshot_path(&d, newest), b"x").unwrap();
    let j = layout::journal_path(&d, first_gen);
    let len = fs::metadata(&j).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&j)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    let got = recovered(&d);
    let mut expect = Toy::new();
    for i in 0..29 {
        expect.apply(&change(i));
    }
    assert_eq!(got, expect);
}

mod running;
