//! The `batch` fsync policy: a background thread that `fdatasync`s the current journal every
//! `fsync_interval_ms` when something was appended since the last sync. The event loop only
//! sets an atomic flag per append, so an fsync (milliseconds on a busy disk) never pauses the
//! relay. What a power loss can take is therefore bounded by one interval plus one fsync.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// State shared between the event loop and the syncer thread.
#[derive(Default)]
pub struct SyncShared {
    /// Set by the event loop after each append; cleared by the syncer before it syncs.
    pub dirty: AtomicBool,
    pub last_sync_unix_ms: AtomicU64,
    /// The last fsync error, if the most recent attempt failed.
    pub error: Mutex<Option<String>>,
}

enum Msg {
    /// Sync the previous file one last time, then sync this one from now on.
    Switch(File),
    Stop,
}

pub struct Syncer {
    tx: Sender<Msg>,
    shared: Arc<SyncShared>,
    handle: Option<JoinHandle<()>>,
}

fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
    pub fn start(interval: Duration, first: File) -> std::io::Result<Syncer> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let shared = Arc::new(SyncShared::default());
        let sh = shared.clone();
        let handle = std::thread::Builder::new()
            .name("journal-fsync".into())
            .spawn(move || {
                let mut file = first;
                loop {
                    match rx.recv_timeout(interval) {
                        Ok(Msg::Switch(next)) => {
                            sync(&file, &sh);
                            file = next;
                        }
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                            sync(&file, &sh);
                            return;
                        }
                        Err(RecvTimeoutError::Timeout) => {
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

    /// Called after every append: one relaxed atomic store.
    pub fn mark_dirty(&self) {
        self.shared.dirty.store(true, Ordering::Release);
    }

    pub fn switch(&self, file: File) {
        let _ = self.tx.send(Msg::Switch(file));
    }

    pub fn shared(&self) -> &SyncShared {
        &self.shared
    }

    /// Final sync and join.
    pub fn stop(&mut self) {
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
