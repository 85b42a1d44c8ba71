//! Measurement (ignored): the disk cost of an hour of history for a 10,000-node session with
//! 20 edits per second, the time of `export --at` for a point one hour back, and how long a
//! restore holds the event loop. Each edit is a full update of a 1.1 KB node (an upper bound:
//! a delta Commit of a transform is a few hundred bytes). The hour is compressed: the 72,000
//! edits are journaled as fast as the store takes them, a snapshot every 2,400 edits (120 s
//! at 20 edits/s), so pruning and thinning see one real minute, not an hour.
//!
//! `cargo test --release -p mu-serverd --test history_cost -- --ignored --nocapture`

mod scene_support;
use scene_support::{node_value, session_with};

use mu_serverd::config::Config;
use mu_serverd::pickle::{self, Limits, Value};
use mu_serverd::session::io::{Change, SessionState};
use mu_serverd::session::{Repository, Scene, Session, SessionConfig};
use mu_serverd::store::history::{rebuild, timeline};
use mu_serverd::store::{export, Store};
use std::sync::Arc;
use std::time::Instant;

/// CPU time of the calling thread, in milliseconds (the loop's own work, without the time it
/// spent descheduled on a busy machine).
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

/// `mu-ctl save`: start a snapshot and wait until it is on disk (bounded), as the loop does.
/// `repo` as the session's scene, as a restart installs it (nothing to journal).
fn install(session: &mut Session, repo: &Repository) {
    let scene = Scene::Rebuilt {
        repo: repo.clone(),
        record: None,
    };
    session.replace_scene(0, "test", scene);
    while session.poll_action().is_some() {}
}

fn save(store: &mut Store, session: &mut Session) {
    store.save_start(session).unwrap();
    for _ in 0..60_000 {
        // The loop's tick collects the finished snapshot.
        store.tick_session(Instant::now(), session);
        if let Some(r) = store.take_save_result() {
            r.unwrap();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("snapshot not written within a minute");
}

fn dir_bytes(dir: &std::path::Path, prefix: &str) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum()
}

#[test]
#[ignore = "measurement; run with --ignored --nocapture (release build)"]
fn an_hour_of_history_on_10k_nodes() {
    let dir = std::env::temp_dir().join(format!("mu-history-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = Config::default();
    cfg.storage.state_dir = dir.clone();
    cfg.storage.state_dir_explicit = true;
    let seed = session_with(10_000);
    let mut session = Session::new(SessionConfig::default());
    let mut store = Store::open_for(&cfg, &mut session, false).unwrap();
    // The 10,000 nodes uploaded (journaled like an upload), then a snapshot.
    let uploads: Vec<Change> = seed
        .repository()
        .iter()
        .map(|n| Change::NodeStored {
            uuid: n.uuid.to_owned(),
            owner: n.owner.to_owned(),
            deps: n.deps,
            data: n.data,
        })
        .chain(std::iter::once(Change::State(SessionState::Active)))
        .collect();
    // The session's copy is kept beside it and installed before each snapshot (only the core
    // changes a session; these are Arc clones).
    let mut repo = Repository::new(Limits::default());
    for c in &uploads {
        repo.apply_change(c).unwrap();
        store.record(c);
    }
    store.flush();
    install(&mut session, &repo);
    save(&mut store, &mut session);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let none: Arc<[u8]> = Arc::from(pickle::encode(&Value::None));
    let variants: Vec<Arc<[u8]>> = (0..100)
        .map(|i| Arc::from(pickle::encode(&node_value(20_000 + i))))
        .collect();
    let start_ms = mu_serverd::wallclock::now_unix_ms();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let t0 = Instant::now();
    for e in 0..72_000usize {
        let c = Change::NodeStored {
            uuid: format!("{:08}-0000-4000-8000-000000000000", e * 7919 % 10_000),
            owner: "COMMON".into(),
            deps: none.clone(),
            data: variants[e % 100].clone(),
        };
        repo.apply_change(&c).unwrap();
        store.record(&c);
        store.flush();
        if e % 2400 == 2399 {
            install(&mut session, &repo);
            save(&mut store, &mut session);
        }
    }
    let journaled = t0.elapsed();
    let snap = dir_bytes(&dir, "snapshot-");
    let journals = dir_bytes(&dir, "journal-");
    let snaps = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".snap"))
        .count() as u64;
    println!(
        "72,000 edits journaled (and 30 snapshots) in {:.1} s; on disk after the hour: {} \
         snapshot(s), {:.1} MiB, journals {:.1} MiB (one snapshot {:.1} MiB)",
        journaled.as_secs_f64(),
        snaps,
        snap as f64 / 1048576.0,
        journals as f64 / 1048576.0,
        snap as f64 / snaps as f64 / 1048576.0
    );
    // export --at a point one hour back: the oldest journaled edit.
    let t = Instant::now();
    let scan = timeline::scan(&dir).unwrap();
    let scanned = t.elapsed();
    let point = scan.resolve(start_ms).unwrap().clone();
    let mut repo = rebuild::repository_at(&scan, &point, Limits::default()).unwrap();
    let image = rebuild::image_of(&mut repo);
    let out = dir.join("export-at.db");
    export::write(&out, &image, Value::dict(vec![])).unwrap();
    println!(
        "export --at one hour back (point {:?}): {} ms in all (scan {} ms), {} nodes",
        point,
        t.elapsed().as_millis(),
        scanned.as_millis(),
        image.nodes.len()
    );
    // The worst case: the last point before the oldest backup snapshot, rebuilt from the
    // oldest snapshot by replaying almost the whole hour of journals.
    let l = mu_serverd::store::layout::list(&dir).unwrap();
    let first_backup = l.snapshots[1];
    let worst = scan
        .points
        .iter()
        .rfind(|p| p.generation < first_backup)
        .unwrap()
        .clone();
    let t = Instant::now();
    let scan2 = timeline::scan(&dir).unwrap();
    let mut repo = rebuild::repository_at(&scan2, &worst, Limits::default()).unwrap();
    let image = rebuild::image_of(&mut repo);
    export::write(&out, &image, Value::dict(vec![])).unwrap();
    println!(
        "export --at the point needing the longest replay ({} changes after the oldest \
         snapshot): {} ms",
        worst.seq - point.seq,
        t.elapsed().as_millis()
    );
    // restore: what the loop does once the thread has rebuilt the repository.
    let mut repo = rebuild::repository_at(&scan, &point, Limits::default()).unwrap();
    let head = rebuild::encode(&rebuild::image_of(&mut repo));
    let t = Instant::now();
    let cpu0 = thread_cpu_ms();
    let scene = Store::restore_scene(repo, head);
    let old = session.replace_scene(0, "restore", scene);
    while let Some(a) = session.poll_action() {
        let _ = a.journal_into(&mut store);
    }
    store.flush();
    std::thread::spawn(move || drop(old));
    let cpu = thread_cpu_ms() - cpu0;
    println!(
        "restore held the loop {} ms, of which {cpu:.1} ms on the CPU (journal the {} nodes, \
         install); load average {}",
        t.elapsed().as_millis(),
        session.repository().len(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .next()
            .unwrap_or("?")
    );
    if std::env::var_os("MU_KEEP_HISTORY").is_some() {
        println!("state directory kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
