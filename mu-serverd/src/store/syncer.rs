//! The `batch` fsync policy: a background thread that `fdatasync`s the current journal every
//! `fsync_interval_ms` when something was appended since the last sync. The event loop only
//! sets an atomic flag per append, so an fsync (milliseconds on a busy disk) never pauses the
//! relay. What a power loss can take is therefore bounded by one interval plus one fsync.
//!
//! The thread sleeps without a timeout while nothing was appended: the first append after a
//! sync sends it one message, and it syncs one interval later. An idle server's syncer does
//! not wake at all (it used to wake every interval to find nothing to do).

use crate::wallclock::now_unix_ms;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// State shared between the event loop and the syncer thread.
#[derive(Default)]
pub(crate) struct SyncShared {
    /// Set by the event loop after each append; cleared by the syncer before it syncs.
    pub dirty: AtomicBool,
    pub last_sync_unix_ms: AtomicU64,
    /// The last fsync error, if the most recent attempt failed.
    pub error: Mutex<Option<String>>,
    /// The syncer thread's kernel thread id (for diagnostics and the wake-up test).
    pub tid: std::sync::atomic::AtomicI32,
}

enum Msg {
    /// The journal became dirty: sync it one interval from now.
    Dirty,
    /// Sync the previous file one last time, then sync this one from now on.
    Switch(File),
    Stop,
}

pub(crate) struct Syncer {
    tx: Sender<Msg>,
    shared: Arc<SyncShared>,
    handle: Option<JoinHandle<()>>,
}

fn sync(file: &File, shared: &SyncShared) {
    match file.sync_data() {
        Ok(()) => {
            shared
                .last_sync_unix_ms
                .store(now_unix_ms(), Ordering::Relaxed);
            if let Ok(mut e) = shared.error.lock() {
                if e.take().is_some() {
                    log::warn!("journal fsync works again");
                }
            }
        }
        Err(err) => {
            if let Ok(mut e) = shared.error.lock() {
                if e.is_none() {
                    log::error!(
                        "journal fsync failed: {err}; a power loss may lose recent changes"
                    );
                }
                *e = Some(err.to_string());
            }
        }
    }
}

impl Syncer {
    pub(crate) fn start(interval: Duration, first: File) -> std::io::Result<Syncer> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let shared = Arc::new(SyncShared::default());
        let sh = shared.clone();
        let handle = std::thread::Builder::new()
            .name("journal-fsync".into())
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                sh.tid.store(unsafe { libc::gettid() }, Ordering::Relaxed);
                let mut file = first;
                // A sync is due at the end of the current interval.
                let mut armed = false;
                loop {
                    let msg = if armed {
                        rx.recv_timeout(interval)
                    } else {
                        rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
                    };
                    match msg {
                        Ok(Msg::Dirty) => armed = true,
                        Ok(Msg::Switch(next)) => {
                            sync(&file, &sh);
                            file = next;
                        }
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                            sync(&file, &sh);
                            return;
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            armed = false;
                            if sh.dirty.swap(false, Ordering::AcqRel) {
                                sync(&file, &sh);
                            }
                        }
                    }
                }
            })?;
        Ok(Syncer {
            tx,
            shared,
            handle: Some(handle),
        })
    }

    /// Called after every append: one atomic swap; the first append after a sync also wakes
    /// the syncer thread.
    pub(crate) fn mark_dirty(&self) {
        if !self.shared.dirty.swap(true, Ordering::AcqRel) {
            let _ = self.tx.send(Msg::Dirty);
        }
    }

    pub(crate) fn switch(&self, file: File) {
        let _ = self.tx.send(Msg::Switch(file));
    }

    pub(crate) fn shared(&self) -> &SyncShared {
        &self.shared
    }

    /// Final sync and join.
    pub(crate) fn stop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn voluntary_switches(tid: i32) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))
            .expect("the syncer thread's status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("voluntary_ctxt_switches")
    }

    /// Polls `done` every 5 ms for at most 5 s.
    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let t0 = Instant::now();
        while !done() {
            assert!(t0.elapsed() < Duration::from_secs(5), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Idle, the thread does not wake (the old loop woke every interval: ~30 times here);
    /// the first append after a sync is synced about one interval later.
    #[test]
    fn idle_syncer_sleeps_and_a_dirty_journal_is_synced() {
        let path = std::env::temp_dir().join(format!("mu-syncer-{}", std::process::id()));
        let file = File::create(&path).unwrap();
        let mut syncer = Syncer::start(Duration::from_millis(10), file).unwrap();
        wait_for("syncer started", || {
            syncer.shared().tid.load(Ordering::Relaxed) != 0
        });
        let tid = syncer.shared().tid.load(Ordering::Relaxed);
        let before = voluntary_switches(tid);
        std::thread::sleep(Duration::from_millis(300));
        let idle = voluntary_switches(tid) - before;
        assert!(idle <= 2, "idle syncer woke {idle} times in 300 ms");
        assert_eq!(syncer.shared().last_sync_unix_ms.load(Ordering::Relaxed), 0);
        syncer.mark_dirty();
        wait_for("dirty journal synced", || {
            syncer.shared().last_sync_unix_ms.load(Ordering::Relaxed) != 0
        });
        syncer.stop();
        let _ = std::fs::remove_file(&path);
    }
}
