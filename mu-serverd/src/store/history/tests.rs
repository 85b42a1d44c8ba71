//! The history on a real directory written by [`Store`] under a fake clock: every moment
//! rebuilds exactly the state a reference repository had then, across snapshots (rotations),
//! a corrupt snapshot and a damaged journal; pruning never removes the live generation.

use super::rebuild::{image_of, repository_at};
use super::timeline::scan;
use crate::config::{Fsync, Storage};
use crate::pickle::Limits;
use crate::session::io::{Change, SessionState};
use crate::session::Repository;
use crate::store::testutil::tempdir;
use crate::store::{layout, Store};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Fake wall clock: an hour ahead of the real one (snapshot headers carry the real time, which
/// must not be mistaken for a later moment).
static CLOCK: AtomicU64 = AtomicU64::new(0);
fn fake() -> u64 {
    CLOCK.load(Ordering::SeqCst)
}

fn cfg(dir: &Path) -> Storage {
    Storage {
        enabled: true,
        state_dir: dir.to_path_buf(),
        state_dir_explicit: true,
        fsync: Fsync::Batch,
        fsync_interval_ms: 20,
        snapshot_interval_s: 3600,
        max_backups: 1,
        import: None,
        max_import_bytes: 1 << 30,
        history_ms: 24 * 3_600_000,
        history_max_bytes: u64::MAX,
    }
}

fn change(i: u32) -> Change {
    let uuid = format!("node-{}", i % 9);
    match i % 6 {
        0..=2 => Change::NodeStored {
            uuid,
            owner: if i % 4 == 0 { "alice" } else { "COMMON" }.into(),
            deps: Arc::from(&b"\x80\x04N."[..]),
            data: Arc::from(format!("data {i}").into_bytes()),
        },
        3 => Change::NodeDeleted { uuid },
        4 => Change::OwnersChanged {
            uuids: vec![uuid],
            owner: "bob".into(),
        },
        _ => Change::State(SessionState::Active),
    }
}

type Held = Vec<(String, String, Vec<u8>)>;

fn held(repo: &mut Repository) -> Held {
    let mut v: Held = image_of(repo)
        .nodes
        .into_iter()
        .map(|n| (n.uuid, n.owner, n.data.to_vec()))
        .collect();
    v.sort();
    v
}

fn at(dir: &Path, t: u64) -> Result<Held, String> {
    let s = scan(dir).map_err(|e| e.to_string())?;
    let p = s.resolve(t)?.clone();
    let mut repo = repository_at(&s, &p, Limits::default())?;
    Ok(held(&mut repo))
}

/// Drives a store through 60 changes, one per fake second, a snapshot every 15; returns the
/// moments and what was held after each.
fn drive(dir: &Path) -> Vec<(u64, Held)> {
    drive_with(dir, true)
}

/// `thin`: the default policy (one snapshot per hour in the history: here all but the oldest
/// and the newest two are removed); false keeps every snapshot.
fn drive_with(dir: &Path, thin: bool) -> Vec<(u64, Held)> {
    let base = crate::wallclock::now_unix_ms() + 3_600_000;
    CLOCK.store(base, Ordering::SeqCst);
    let mut reference = Repository::new(Limits::default());
    let mut store = Store::open(&cfg(dir), 0, &crate::store::Image::empty()).unwrap();
    store.set_clock(fake);
    if !thin {
        let mut p = store.policy();
        p.snapshot_every_ms = 0;
        store.set_policy(p);
    }
    let mut moments = Vec::new();
    for i in 0..60u32 {
        CLOCK.store(base + 1000 * (i as u64 + 1), Ordering::SeqCst);
        let c = change(i);
        reference.apply_change(&c).unwrap();
        store.append(&c);
        moments.push((fake(), held(&mut reference)));
        if i % 15 == 14 {
            let r = &mut reference;
            store.save_blocking(|| image_of(r)).unwrap();
        }
    }
    store.shutdown(image_of(&mut reference));
    moments
}

#[test]
fn every_moment_rebuilds_what_was_held_then() {
    let d = tempdir("hist-moments");
    let moments = drive(&d);
    // Thinned: the restore points between the kept snapshots replay the journals.
    let l = layout::list(&d).unwrap();
    assert_eq!(l.snapshots, vec![1, 5, 6]);
    assert_eq!(l.journals, vec![1, 2, 3, 4, 5]);
    for (t, want) in &moments {
        assert_eq!(&at(&d, *t).unwrap(), want, "at {t}");
        // Between two changes: still the state after the earlier one.
        assert_eq!(&at(&d, t + 999).unwrap(), want, "at {t}+999");
    }
    // Before the first change: the empty session the store started with; before the store
    // existed: nothing.
    let first = moments[0].0;
    assert_eq!(at(&d, first - 10), Ok(Vec::new()));
    assert!(at(&d, 1_000).is_err(), "before the history");
}

#[test]
fn a_corrupt_snapshot_costs_only_the_points_that_need_it() {
    let d = tempdir("hist-corrupt");
    let moments = drive_with(&d, false);
    let l = layout::list(&d).unwrap();
    // The oldest snapshot (the empty start) corrupt: nothing older can replace it, so the
    // points of its generation are lost; everything from the next snapshot on still rebuilds.
    let oldest = layout::snapshot_path(&d, l.snapshots[0]);
    let mut b = std::fs::read(&oldest).unwrap();
    let last = b.len() - 1;
    b[last] ^= 0x55;
    std::fs::write(&oldest, b).unwrap();
    let (lost, kept): (Vec<_>, Vec<_>) = moments.iter().partition(|(t, _)| at(&d, *t).is_err());
    // Changes 0..=13; the state after change 14 is snapshot 2's.
    assert_eq!(lost.len(), 14, "the first generation's changes");
    for (t, want) in kept {
        assert_eq!(&at(&d, *t).unwrap(), want);
    }
    // A corrupt middle snapshot costs nothing: the older one and the journals replace it.
    let d2 = tempdir("hist-corrupt-mid");
    let moments = drive_with(&d2, false);
    let l = layout::list(&d2).unwrap();
    let mid = layout::snapshot_path(&d2, l.snapshots[2]);
    let mut b = std::fs::read(&mid).unwrap();
    b[40] ^= 0x55;
    std::fs::write(&mid, b).unwrap();
    for (t, want) in &moments {
        assert_eq!(&at(&d2, *t).unwrap(), want);
    }
}

#[test]
fn a_damaged_journal_loses_only_its_points_after_the_damage() {
    let d = tempdir("hist-damaged");
    let moments = drive_with(&d, false);
    // Generation 2 holds changes 16..30; cut its journal in the middle with garbage.
    let j = layout::journal_path(&d, 2);
    let mut b = std::fs::read(&j).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&j, b).unwrap();
    let bad: Vec<usize> = moments
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| at(&d, *t).is_err())
        .map(|(i, _)| i)
        .collect();
    assert!(!bad.is_empty() && bad.len() < 15, "{bad:?}");
    assert!(bad.iter().all(|i| (15..30).contains(i)), "{bad:?}");
    for (i, (t, want)) in moments.iter().enumerate() {
        if !bad.contains(&i) {
            assert_eq!(&at(&d, *t).unwrap(), want, "change {i}");
        }
    }
}

/// (who, kind, count) of one busiest kind of change.
type Row = (String, String, u64);

/// "Who" is the sender the journal names from its sender records on (issue 20), "server" for
/// the server's own changes, and the node's owner before any sender record (old journals).
#[test]
fn history_names_the_sender_of_each_change() {
    let d = tempdir("hist-sender");
    let base = (crate::wallclock::now_unix_ms() + 3_600_000) / 60_000 * 60_000;
    CLOCK.store(base, Ordering::SeqCst);
    let mut reference = Repository::new(Limits::default());
    let mut store = Store::open(&cfg(&d), 0, &crate::store::Image::empty()).unwrap();
    store.set_clock(fake);
    let stored = |uuid: &str, owner: &str| Change::NodeStored {
        uuid: uuid.into(),
        owner: owner.into(),
        deps: Arc::from(&b"\x80\x04N."[..]),
        data: Arc::from(&b"data"[..]),
    };
    let mut step = |minute: u64, sender: Option<Option<&str>>, c: Change| {
        CLOCK.store(base + minute * 60_000 + 1000, Ordering::SeqCst);
        if let Some(who) = sender {
            store.record_sender(who);
        }
        reference.apply_change(&c).unwrap();
        store.append(&c);
    };
    // Minute 0: no sender record yet (as in a journal written before them): the owners.
    step(0, None, stored("n1", "COMMON"));
    step(0, None, stored("n2", "alice"));
    // Minute 1: bob deletes a COMMON node, then (same sender, no new record) a node of alice.
    step(
        1,
        Some(Some("bob")),
        Change::NodeDeleted { uuid: "n1".into() },
    );
    step(1, None, stored("n3", "alice"));
    // Minute 2: the server releases alice's locks.
    step(
        2,
        Some(None),
        Change::OwnersChanged {
            uuids: vec!["n2".into(), "n3".into()],
            owner: "COMMON".into(),
        },
    );
    store.shutdown(image_of(&mut reference));
    let info = super::summary::summarize(&scan(&d).unwrap(), None);
    let busiest: Vec<(u64, Vec<Row>)> = info
        .intervals
        .iter()
        .map(|i| {
            let mut b: Vec<_> = i
                .busiest
                .iter()
                .map(|a| (a.who.clone(), a.kind.clone(), a.count))
                .collect();
            b.sort();
            ((i.from_unix_ms - base) / 60_000, b)
        })
        .collect();
    let row = |w: &str, k: &str, n: u64| (w.to_string(), k.to_string(), n);
    assert_eq!(
        busiest,
        vec![
            (
                0,
                vec![row("alice", "uploaded", 1), row("common", "uploaded", 1)]
            ),
            (1, vec![row("bob", "deleted", 1), row("bob", "uploaded", 1)]),
            (2, vec![row("server", "unlocked", 2)]),
        ]
    );
}
