//! A store at work: rotation, background and early snapshots, clean shutdown, the client
//! version and imports installed as snapshots, each checked by what a restart recovers.

use super::*;
use crate::store::StoreError;

#[test]
fn rotation_keeps_max_backups_plus_current() {
    let d = tempdir("t-rotate");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    for round in 0..6u32 {
        run(&mut s, &mut toy, round * 10..round * 10 + 10);
        let t = toy.clone();
        s.save_blocking(|| t.image()).unwrap();
    }
    drop(s);
    let l = layout::list(&d).unwrap();
    assert_eq!(l.snapshots.len(), 3, "{l:?}"); // max_backups = 2, plus the current one
    assert!(l.journals.iter().all(|g| *g >= l.snapshots[0]));
    assert_eq!(recovered(&d), toy);
}

#[test]
fn background_snapshot_while_changes_keep_coming() {
    let d = tempdir("t-bg");
    let mut c = cfg(&d, Fsync::Batch);
    c.snapshot_interval_s = 1;
    let (mut s, mut toy) = start_with(&c);
    run(&mut s, &mut toy, 0..20);
    let t = toy.clone();
    // Force "due" by ticking with a time beyond the interval.
    s.tick(Instant::now() + Duration::from_secs(2), || t.image());
    assert!(s.status().snapshot_running || s.status().generation > 1);
    run(&mut s, &mut toy, 20..40);
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.status().snapshot_running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        s.tick(Instant::now(), || unreachable!("not due again"));
    }
    assert!(!s.status().snapshot_running);
    drop(s);
    assert_eq!(recovered(&d), toy);
}

#[test]
fn clean_shutdown_leaves_a_snapshot_with_nothing_to_replay() {
    let d = tempdir("t-shutdown");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..25);
    s.shutdown(toy.image());
    let r = recover(&d).unwrap().unwrap();
    assert!(r.changes.is_empty());
    assert_eq!(Toy::from_image(&r.base), toy);
}

#[test]
fn a_large_journal_makes_a_snapshot_due_before_the_interval() {
    let d = tempdir("t-size");
    let (mut s, mut toy) = start(&d, Fsync::Batch); // snapshot_interval_s = 3600
    s.set_journal_compact_min(4 << 20);
    let big: Arc<[u8]> = Arc::from(vec![7u8; 64 << 10]);
    let far = s.next_deadline();
    assert!(far > Instant::now() + Duration::from_secs(3000));
    for i in 0..70 {
        // 70 x 64 KiB: past the 4 MiB threshold
        let c = Change::NodeStored {
            uuid: format!("big-{}", i % 3),
            owner: "COMMON".into(),
            deps: Arc::from(&b"\x80\x04N."[..]),
            data: big.clone(),
        };
        toy.apply(&c);
        s.append(&c);
    }
    assert!(
        s.next_deadline() <= Instant::now(),
        "4 MiB of journal must make a snapshot due"
    );
    let t = toy.clone();
    s.tick(Instant::now(), || t.image());
    assert!(s.status().snapshot_running);
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.status().snapshot_running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        s.tick(Instant::now(), || unreachable!("not due again"));
    }
    assert_eq!(s.status().journal_bytes.map(|b| b < 1 << 16), Some(true));
    drop(s);
    assert_eq!(recovered(&d), toy);
}

#[test]
fn the_client_version_survives_a_crash_and_a_snapshot() {
    let d = tempdir("t-version");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    for c in [
        Change::ClientVersion(Some("0.9.9".into())),
        Change::State(SessionState::Active),
    ] {
        toy.apply(&c);
        s.append(&c);
    }
    run(&mut s, &mut toy, 0..10);
    drop(s); // journal only
    let back = recovered(&d);
    assert_eq!(back.version.as_deref(), Some("0.9.9"));
    assert_eq!(back, toy);
    // Through a snapshot: the restart writes one from the recovered image.
    let (s, toy2) = start(&d, Fsync::Batch);
    s.shutdown(toy2.image());
    let r = recover(&d).unwrap().unwrap();
    assert!(r.changes.is_empty());
    assert_eq!(r.base.client_version.as_deref(), Some("0.9.9"));
}

/// `mu-ctl import`: the imported session is written aside as the next snapshot off the loop,
/// then installed with a rename; a crash after that restarts into it (and the changes made
/// after it), a crash before into the old session.
#[test]
fn an_import_installed_as_a_snapshot_survives_a_crash() {
    let d = tempdir("t-import");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..30);
    let mut imported = Toy::new();
    imported.apply(&Change::State(SessionState::Active));
    imported.apply(&change(1000));
    let slot = s.import_slot().expect("slot");
    let mut img = imported.image();
    img.last_seq = slot.last_seq;
    crate::store::snapshot::write_aside(&slot.path, slot.generation, &img).expect("write");
    // Crash before the install: the leftover is removed and the old session comes back.
    assert_eq!(recovered(&d), toy);
    assert!(!slot.path.exists(), "the leftover is removed at start");
    crate::store::snapshot::write_aside(&slot.path, slot.generation, &img).expect("write");
    s.install_import(&slot).expect("install");
    run(&mut s, &mut imported, 40..60);
    drop(s); // kill -9
    assert_eq!(recovered(&d), imported);
}

#[test]
fn an_import_is_refused_when_the_journal_moved_meanwhile() {
    let d = tempdir("t-import-moved");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..10);
    let slot = s.import_slot().expect("slot");
    let mut img = Toy::new().image();
    img.last_seq = slot.last_seq;
    crate::store::snapshot::write_aside(&slot.path, slot.generation, &img).expect("write");
    run(&mut s, &mut toy, 10..11);
    let e = s.install_import(&slot).expect_err("refused");
    assert!(e.to_string().contains("run mu-ctl import again"), "{e}");
    assert!(!slot.path.exists(), "the aside file is removed");
    run(&mut s, &mut toy, 11..20);
    drop(s);
    assert_eq!(recovered(&d), toy);
}

#[test]
fn a_save_that_cannot_create_its_journal_is_an_io_error_naming_it() {
    let d = tempdir("t-save-blocked");
    let (mut s, mut toy) = start(&d, Fsync::Batch);
    run(&mut s, &mut toy, 0..3);
    let next = layout::journal_path(&d, s.status().generation + 1);
    std::fs::create_dir(&next).unwrap();
    let t = toy.clone();
    let e = s.save_blocking(|| t.image()).unwrap_err();
    assert!(matches!(e.kind(), StoreError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains(&next.display().to_string()), "{e}");
    // Nothing was lost: the journal still holds every change.
    std::fs::remove_dir(&next).unwrap();
    s.save_blocking(|| t.image()).unwrap();
    drop(s);
    assert_eq!(recovered(&d), toy);
}
