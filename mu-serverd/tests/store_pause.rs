//! Measurement, not a pass/fail test (speed is never asserted): how long starting a snapshot
//! holds the event loop on a 10,000-node session, how long the background write takes, what a
//! journal append costs, and what re-encoding a node made stale by a Commit costs. Run with
//!
//! ```text
//! cargo test --release -p mu-serverd --test store_pause -- --ignored --nocapture
//! ```
//! The figures are quoted in docs/persistence.md.

mod scene_support;
use scene_support::{node_value, session_with};

use mu_serverd::config::{Fsync, Storage};
use mu_serverd::pickle;
use mu_serverd::session::io::Change;
use mu_serverd::store::image_of;
use mu_serverd::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
#[ignore = "measurement; run with --ignored --nocapture (release build)"]
fn snapshot_pause_on_10k_nodes() {
    let dir = std::env::temp_dir().join(format!("mu-store-pause-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = Storage {
        enabled: true,
        state_dir: dir.clone(),
        state_dir_explicit: true,
        fsync: Fsync::Batch,
        fsync_interval_ms: 1000,
        snapshot_interval_s: 1,
        max_backups: 2,
        import: None,
        max_import_bytes: 1 << 30,
        history_ms: 0,
        history_max_bytes: u64::MAX,
    };
    let mut session = session_with(10_000);
    let bytes: usize = session.repository().iter().map(|n| n.data.len()).sum();
    let mut store = Store::open(&cfg, 0, &image_of(&mut session)).unwrap();

    let mut images = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        std::hint::black_box(image_of(&mut session));
        images.push(t.elapsed());
    }
    println!("image_of alone: {:?} median", median(images));
    let mut pauses = Vec::new();
    let mut writes = Vec::new();
    for _ in 0..7 {
        store.append(&Change::OwnersChanged {
            uuids: vec!["x".into()],
            owner: "COMMON".into(),
        });
        let t = Instant::now();
        store.tick(Instant::now() + Duration::from_secs(5), || {
            image_of(&mut session)
        });
        pauses.push(t.elapsed());
        let w = Instant::now();
        while store.status().snapshot_running {
            std::thread::sleep(Duration::from_millis(1));
            store.tick(Instant::now(), || unreachable!());
        }
        writes.push(w.elapsed());
    }
    println!(
        "10,000 nodes ({} MiB of node data): loop held {:?} median (max {:?}) to start a snapshot; \
         background write {:?} median",
        bytes >> 20,
        median(pauses.clone()),
        pauses.iter().max().unwrap(),
        median(writes)
    );

    // Journal append: one write(2) per change, batch fsync in the background.
    let data: Arc<[u8]> = Arc::from(pickle::encode(&node_value(1)));
    let n = 20_000;
    let t = Instant::now();
    for i in 0..n {
        store.append(&Change::NodeStored {
            uuid: format!("{i}"),
            owner: "COMMON".into(),
            deps: data.clone(),
            data: data.clone(),
        });
    }
    let per = t.elapsed() / n;
    println!(
        "journal append of a {}-byte node: {per:?} per change",
        data.len() * 2
    );

    let big: Arc<[u8]> = Arc::from(vec![5u8; 64 << 10]);
    let n = 3_000;
    let t = Instant::now();
    for i in 0..n {
        store.append(&Change::NodeStored {
            uuid: format!("{i}"),
            owner: "COMMON".into(),
            deps: data.clone(),
            data: big.clone(),
        });
    }
    println!(
        "journal append of a 64 KiB node: {:?} per change",
        t.elapsed() / n
    );

    // What the loop pays per node a Commit made stale, at the next snapshot (re-encode).
    let v = node_value(7);
    let t = Instant::now();
    for _ in 0..1000 {
        std::hint::black_box(pickle::encode(&v));
    }
    println!(
        "re-encoding one stale {}-byte node: {:?}",
        data.len(),
        t.elapsed() / 1000
    );
    store.shutdown(image_of(&mut session));
    let _ = std::fs::remove_dir_all(&dir);
}
