//! [`Store`]: the persistence the event loop drives while the daemon runs.
//!
//! - [`Store::append`] journals one change with one `write(2)` (plus `fdatasync` under
//!   `fsync = "always"`). The shell calls it for every `Action::Persist`, which the core emits
//!   before the sends that relay the change.
//! - [`Store::tick`] finishes a background snapshot, and starts one every
//!   `snapshot_interval_s` (or sooner while degraded). Starting one costs the loop only the
//!   cheap clone of the node list (frames are `Arc`s) and the creation of the next journal
//!   file; the snapshot itself is written by a thread.
//! - A write error (disk full) never stops the relay: the store logs it once, stops journaling
//!   ("degraded": a crash now would lose the changes since), and retries a full snapshot every
//!   few seconds; when one succeeds it logs that persistence is back.

mod install;
mod save;
pub use install::ImportSlot;

use super::compact::{self, Compaction};
use super::format::ChangeRec;
use super::history::{self, Policy};
use super::journal::JournalWriter;
use super::layout;
use super::snapshot::{self, Image};
use super::syncer::Syncer;
use crate::config::{Fsync, Storage};
use crate::session::io::Change;
use crate::wallclock::now_unix_ms;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long to wait before retrying a snapshot after a write error.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// A journal larger than this (and than [`JOURNAL_VS_SNAPSHOT`] times the last snapshot)
/// triggers a snapshot before `snapshot_interval_s`, which bounds disk use and replay time
/// when clients push large nodes fast.
const JOURNAL_COMPACT_MIN: u64 = 64 << 20;
const JOURNAL_VS_SNAPSHOT: u64 = 4;
/// How often the loop checks a background snapshot for completion.
const POLL_COMPACTION: Duration = Duration::from_millis(20);

/// What `mu-ctl status` shows about persistence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStatus {
    pub enabled: bool,
    pub state_dir: Option<PathBuf>,
    pub fsync: &'static str,
    /// Generation of the journal being written.
    pub generation: u64,
    pub journal_bytes: Option<u64>,
    /// Last snapshot that reached the disk, milliseconds since the Unix epoch.
    pub last_save_unix_ms: Option<u64>,
    pub last_fsync_unix_ms: Option<u64>,
    /// Why changes are not being journaled right now, if they are not.
    pub degraded: Option<String>,
    pub snapshot_running: bool,
    /// How long the last snapshot request held the event loop, in microseconds.
    pub last_pause_us: u64,
}

pub struct Store {
    inner: Option<Inner>,
}

struct Inner {
    dir: PathBuf,
    fsync: Fsync,
    snapshot_interval: Duration,
    /// Which old generations are kept ([`history::policy`]).
    policy: Policy,
    /// Wall-clock milliseconds for the journal's time records (tests play a fake clock).
    clock: fn() -> u64,
    /// Who is logged in, as last written to the journal.
    users: Vec<String>,
    journal: Option<JournalWriter>,
    generation: u64,
    next_seq: u64,
    /// Changes journaled (or skipped) since the last snapshot was requested.
    changes_since_snapshot: u64,
    /// Journal size that makes the next snapshot due at once.
    compact_at_bytes: u64,
    /// The floor of that size ([`JOURNAL_COMPACT_MIN`]; lowered by tests).
    compact_min: u64,
    syncer: Option<Syncer>,
    compaction: Option<Compaction>,
    /// While a compaction runs: when to check it again.
    poll_at: Option<Instant>,
    next_snapshot_at: Instant,
    degraded: Option<String>,
    skipped: u64,
    /// Changes journaled and journal writes since start (how well batching works).
    records_written: u64,
    writes: u64,
    last_save_unix_ms: Option<u64>,
    last_pause_us: u64,
    /// `mu-ctl save` asked while another snapshot was being written: start one after it.
    save_wanted: bool,
    /// The generation `mu-ctl save` waits for, and its outcome once known.
    save_generation: Option<u64>,
    save_result: Option<Result<String, String>>,
}

impl Store {
    /// Persistence switched off (`[storage] enabled = false`): every call is a no-op.
    pub fn disabled() -> Store {
        Store { inner: None }
    }

    /// Starts persistence on top of what was recovered: writes `image` as the snapshot of a new
    /// generation (synchronously: this runs before READY) and opens that generation's journal.
    /// `image.last_seq` must be the sequence number of the last change it contains.
    pub fn open(cfg: &Storage, newest_generation: u64, image: &Image) -> io::Result<Store> {
        let dir = cfg.state_dir.clone();
        let generation = newest_generation + 1;
        std::fs::create_dir_all(&dir)?;
        snapshot::write(&dir, generation, image)?;
        let journal = JournalWriter::create(&dir, generation, image.last_seq + 1)?;
        layout::fsync_dir(&dir)?;
        let policy = Policy::from_config(cfg);
        if let Err(e) = history::policy::prune(&dir, &policy, now_unix_ms()) {
            log::warn!("cannot remove old backups in {}: {e}", dir.display());
        }
        let syncer = match cfg.fsync {
            Fsync::Batch => Some(Syncer::start(
                Duration::from_millis(cfg.fsync_interval_ms.max(1)),
                journal.sync_handle()?,
            )?),
            Fsync::Always => None,
        };
        Ok(Store {
            inner: Some(Inner {
                dir,
                fsync: cfg.fsync,
                snapshot_interval: Duration::from_secs(cfg.snapshot_interval_s.max(1)),
                policy,
                clock: now_unix_ms,
                users: Vec::new(),
                journal: Some(journal),
                generation,
                next_seq: image.last_seq + 1,
                changes_since_snapshot: 0,
                compact_at_bytes: JOURNAL_COMPACT_MIN,
                compact_min: JOURNAL_COMPACT_MIN,
                syncer,
                compaction: None,
                poll_at: None,
                next_snapshot_at: Instant::now()
                    + Duration::from_secs(cfg.snapshot_interval_s.max(1)),
                degraded: None,
                skipped: 0,
                records_written: 0,
                writes: 0,
                last_save_unix_ms: Some(now_unix_ms()),
                last_pause_us: 0,
                save_wanted: false,
                save_generation: None,
                save_result: None,
            }),
        })
    }

    /// When [`Store::tick`] has work: the next periodic (or retry) snapshot, or the next check
    /// of a snapshot being written in the background.
    pub fn next_deadline(&self) -> Option<Instant> {
        let s = self.inner.as_ref()?;
        Some(match (&s.compaction, s.poll_at) {
            (Some(_), Some(p)) => p.min(s.next_snapshot_at),
            _ => s.next_snapshot_at,
        })
    }

    /// Lowers the journal size that triggers an early snapshot (tests use a few MiB).
    pub fn set_journal_compact_min(&mut self, bytes: u64) {
        if let Some(s) = self.inner.as_mut() {
            s.compact_min = bytes;
            s.compact_at_bytes = bytes;
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The sequence number the next change gets; a snapshot image built now has
    /// `last_seq = next_seq() - 1`.
    pub fn next_seq(&self) -> u64 {
        self.inner.as_ref().map(|i| i.next_seq).unwrap_or(1)
    }

    /// Journals one change and writes it at once (`record` + `flush`).
    pub fn append(&mut self, change: &Change) {
        self.record(change);
        self.flush();
    }

    /// Journals one change into the pending batch; [`Store::flush`] writes the batch with one
    /// `write(2)`. The event loop records every `Persist` of a batch of messages, flushes, and
    /// only then performs the sends that relay them.
    pub fn record(&mut self, change: &Change) {
        let Some(s) = self.inner.as_mut() else { return };
        s.changes_since_snapshot += 1;
        let seq = s.next_seq;
        s.next_seq += 1;
        let Some(j) = s.journal.as_mut() else {
            s.skipped += 1;
            return;
        };
        debug_assert_eq!(j.next_seq(), seq);
        if j.pending_records() == 0 {
            // The first change of a write: its moment, for the history (about 20 bytes).
            let unix_ms = (s.clock)();
            if let Err(e) = j.push_meta(ChangeRec::Time { unix_ms }) {
                s.degrade(format!("journal record refused: {e}"), seq);
                return;
            }
        }
        if let Err(e) = j.push(change) {
            s.degrade(format!("journal record refused: {e}"), seq);
        }
    }

    /// Journals who sends the changes that follow (a [`ChangeRec::Sender`] meta record; the
    /// core names a sender only when it changes).
    pub fn record_sender(&mut self, who: Option<&str>) {
        let Some(s) = self.inner.as_mut() else { return };
        let Some(j) = s.journal.as_mut() else { return };
        if let Err(e) = j.push_meta(ChangeRec::Sender { name: who }) {
            let seq = s.next_seq;
            s.degrade(format!("journal record refused: {e}"), seq);
        }
    }

    /// Journals changes already encoded off the loop (a restore's new head, see
    /// [`crate::store::history::rebuild::Encoded`]) into the pending batch, like
    /// [`Store::record`] each; [`Store::flush`] writes them.
    pub fn record_encoded(&mut self, changes: &crate::store::history::rebuild::Encoded) {
        let Some(s) = self.inner.as_mut() else { return };
        if let Some(j) = s.journal.as_mut() {
            j.reserve(changes.bytes.len() + changes.ends.len() * 20 + 32);
        }
        for payload in changes.iter() {
            s.changes_since_snapshot += 1;
            let seq = s.next_seq;
            s.next_seq += 1;
            let Some(j) = s.journal.as_mut() else {
                s.skipped += 1;
                continue;
            };
            if j.pending_records() == 0 {
                let unix_ms = (s.clock)();
                if let Err(e) = j.push_meta(ChangeRec::Time { unix_ms }) {
                    s.degrade(format!("journal record refused: {e}"), seq);
                    continue;
                }
            }
            if let Err(e) = j.push_encoded(payload) {
                s.degrade(format!("journal record refused: {e}"), seq);
            }
        }
    }

    /// Writes the pending batch (and `fdatasync`s it under `fsync = "always"`). Never fails
    /// towards the caller: an error is logged and turns the store degraded until a snapshot
    /// succeeds again.
    pub fn flush(&mut self) {
        let Some(s) = self.inner.as_mut() else { return };
        let Some(j) = s.journal.as_mut() else { return };
        let n = j.pending_records();
        if n == 0 {
            return;
        }
        let first = j.next_seq() - n;
        let result = j.flush_pending().and_then(|_| match s.fsync {
            Fsync::Always => j.sync(),
            Fsync::Batch => Ok(()),
        });
        match result {
            Ok(()) => {
                s.records_written += n;
                s.writes += 1;
                if let Some(sy) = &s.syncer {
                    sy.mark_dirty();
                }
                if j.len() > s.compact_at_bytes && s.compaction.is_none() {
                    // Due now; the loop's next deadline check runs the tick.
                    s.next_snapshot_at = Instant::now();
                    s.compact_at_bytes = u64::MAX;
                }
            }
            Err(e) => {
                s.degrade(format!("journal write failed: {e}"), first);
                s.skipped = n;
            }
        }
    }

    /// Called by the event loop on its periodic tick. `image` builds the current session image
    /// (with any `last_seq`; the store sets it) and is only called when a snapshot is due.
    pub fn tick(&mut self, now: Instant, image: impl FnOnce() -> Image) {
        let Some(s) = self.inner.as_mut() else { return };
        s.poll_compaction(now);
        if s.compaction.is_none() && s.save_wanted {
            s.start_save(now, image);
        } else if s.compaction.is_none() && now >= s.next_snapshot_at {
            if s.changes_since_snapshot > 0 || s.degraded.is_some() {
                s.start_snapshot(now, image);
            } else {
                s.next_snapshot_at = now + s.snapshot_interval;
            }
        }
    }

    /// `mu-ctl save`: writes a snapshot now and waits for it (the relay pauses for the write;
    /// an admin asked for it). Returns a human-readable result.
    pub fn save_blocking(&mut self, image: impl FnOnce() -> Image) -> Result<String, String> {
        let Some(s) = self.inner.as_mut() else {
            return Err("persistence is disabled ([storage] enabled = false)".into());
        };
        if let Some(c) = s.compaction.take() {
            let _ = s.finish(c.join(), Instant::now());
        }
        s.start_snapshot(Instant::now(), image);
        let Some(c) = s.compaction.take() else {
            return Err(s
                .degraded
                .clone()
                .unwrap_or_else(|| "snapshot not started".into()));
        };
        let generation = c.generation();
        match s.finish(c.join(), Instant::now()) {
            Ok(bytes) => Ok(format!(
                "snapshot {} written ({bytes} bytes) in {}",
                generation,
                s.dir.display()
            )),
            Err(e) => Err(format!("snapshot failed: {e}")),
        }
    }

    /// Clean shutdown: waits for a running snapshot, writes a final one, syncs the journal.
    pub fn shutdown(&mut self, image: Image) {
        self.flush();
        let Some(mut s) = self.inner.take() else {
            return;
        };
        if let Some(c) = s.compaction.take() {
            let _ = s.finish(c.join(), Instant::now());
        }
        log::info!(
            "journal: {} change(s) in {} write(s) since start",
            s.records_written,
            s.writes
        );
        let generation = s.generation + 1;
        let mut image = image;
        image.last_seq = s.next_seq - 1;
        let t = Instant::now();
        match snapshot::write(&s.dir, generation, &image) {
            Ok(bytes) => {
                log::info!(
                    "final snapshot {generation} written: {} nodes, {bytes} bytes, {} ms",
                    image.nodes.len(),
                    t.elapsed().as_millis()
                );
                if let Err(e) = history::policy::prune(&s.dir, &s.policy, (s.clock)()) {
                    log::warn!("cannot remove old backups: {e}");
                }
            }
            Err(e) => log::error!(
                "final snapshot failed: {e}; the journal still holds the session{}",
                if s.degraded.is_some() {
                    " up to the last write error"
                } else {
                    ""
                }
            ),
        }
        if let Some(mut sy) = s.syncer.take() {
            sy.stop();
        }
        if let Some(j) = &s.journal {
            let _ = j.sync();
        }
    }

    pub fn status(&self) -> StoreStatus {
        let Some(s) = self.inner.as_ref() else {
            return StoreStatus {
                fsync: "off",
                ..StoreStatus::default()
            };
        };
        let sync = s.syncer.as_ref().map(|y| y.shared());
        StoreStatus {
            enabled: true,
            state_dir: Some(s.dir.clone()),
            fsync: match s.fsync {
                Fsync::Batch => "batch",
                Fsync::Always => "always",
            },
            generation: s.generation,
            journal_bytes: s.journal.as_ref().map(|j| j.len()),
            last_save_unix_ms: s.last_save_unix_ms,
            last_fsync_unix_ms: sync
                .map(|y| y.last_sync_unix_ms.load(Ordering::Relaxed))
                .filter(|t| *t > 0),
            degraded: s
                .degraded
                .clone()
                .or_else(|| sync.and_then(|y| y.error.lock().ok().and_then(|e| e.clone()))),
            snapshot_running: s.compaction.is_some(),
            last_pause_us: s.last_pause_us,
        }
    }

    /// Who is logged in: written to the journal (with the time) when it differs from what was
    /// last written, so the history can say who was connected.
    pub fn note_users(&mut self, mut names: Vec<String>) {
        let Some(s) = self.inner.as_mut() else { return };
        names.sort_unstable();
        if names == s.users {
            return;
        }
        let Some(j) = s.journal.as_mut() else { return };
        if j.pending_records() > 0 {
            return; // the loop flushes first; try again next time
        }
        let unix_ms = (s.clock)();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let written = j
            .push_meta(ChangeRec::Time { unix_ms })
            .and_then(|_| j.push_meta(ChangeRec::Users { names: refs }))
            .and_then(|_| j.flush_pending());
        if let Err(e) = written {
            s.degrade(format!("journal write failed: {e}"), s.next_seq);
            return;
        }
        s.users = names;
    }

    /// Replaces the wall clock of the journal's time records (tests).
    pub fn set_clock(&mut self, clock: fn() -> u64) {
        if let Some(s) = self.inner.as_mut() {
            s.clock = clock;
        }
    }

    /// Replaces the retention policy (tests switch thinning off).
    pub fn set_policy(&mut self, policy: Policy) {
        if let Some(s) = self.inner.as_mut() {
            s.policy = policy;
        }
    }

    /// The retention policy in force (the history thread prunes nothing itself).
    pub fn policy(&self) -> Option<Policy> {
        self.inner.as_ref().map(|s| s.policy)
    }

    pub fn state_dir(&self) -> Option<&Path> {
        self.inner.as_ref().map(|s| s.dir.as_path())
    }
}

impl Inner {
    /// Stops journaling after a write error (see the module doc); `seq` is the first change lost.
    fn degrade(&mut self, why: String, seq: u64) {
        log::error!(
            "PERSISTENCE DEGRADED: {why} ({}); the session keeps running from memory, a crash now \
             would lose changes from sequence {seq}; retrying a full snapshot every {}s",
            self.dir.display(),
            RETRY_AFTER.as_secs()
        );
        self.journal = None;
        self.skipped = 1;
        self.degraded = Some(why);
        self.next_snapshot_at = Instant::now() + RETRY_AFTER;
    }

    fn start_snapshot(&mut self, now: Instant, image: impl FnOnce() -> Image) {
        let t0 = Instant::now();
        if let Some(j) = self.journal.as_mut() {
            // The loop flushes after every batch; this only guards the rotation.
            if let Err(e) = j.flush_pending() {
                self.degrade(format!("journal write failed: {e}"), self.next_seq);
            }
        }
        let mut image = image();
        image.last_seq = self.next_seq - 1;
        let generation = self.generation + 1;
        let journal = match JournalWriter::create(&self.dir, generation, self.next_seq) {
            Ok(j) => j,
            Err(e) => {
                log::error!(
                    "cannot start journal {generation} in {}: {e}",
                    self.dir.display()
                );
                self.next_snapshot_at = now + RETRY_AFTER;
                return;
            }
        };
        if self.fsync == Fsync::Always {
            if let Err(e) = layout::fsync_dir(&self.dir) {
                log::error!("fsync of {} failed: {e}", self.dir.display());
            }
        }
        if let Some(sy) = &self.syncer {
            match journal.sync_handle() {
                Ok(f) => sy.switch(f),
                Err(e) => log::error!("journal fsync handle: {e}"),
            }
        }
        let old = self.journal.replace(journal);
        self.generation = generation;
        self.changes_since_snapshot = 0;
        let old_file = old.as_ref().and_then(|j| j.sync_handle().ok());
        match compact::spawn(self.dir.clone(), generation, image, old_file, self.policy) {
            Ok(c) => {
                self.compaction = Some(c);
                self.poll_at = Some(now + POLL_COMPACTION);
            }
            Err(e) => {
                log::error!("cannot start the snapshot thread: {e}");
                self.next_snapshot_at = now + RETRY_AFTER;
            }
        }
        self.last_pause_us = t0.elapsed().as_micros() as u64;
        log::debug!(
            "snapshot {generation} requested; event loop held {} us",
            self.last_pause_us
        );
    }

    fn poll_compaction(&mut self, now: Instant) {
        self.poll_at = self.compaction.as_ref().map(|_| now + POLL_COMPACTION);
        if self.compaction.as_ref().is_some_and(|c| c.is_finished()) {
            self.poll_at = None;
            if let Some(c) = self.compaction.take() {
                let generation = c.generation();
                let result = self.finish(c.join(), now);
                if self.save_generation == Some(generation) {
                    self.save_generation = None;
                    self.save_result = Some(match result {
                        Ok(bytes) => Ok(format!(
                            "snapshot {generation} written ({bytes} bytes) in {}",
                            self.dir.display()
                        )),
                        Err(e) => Err(format!("snapshot failed: {e}")),
                    });
                }
            }
        }
    }

    fn finish(&mut self, result: io::Result<compact::Done>, now: Instant) -> io::Result<u64> {
        match result {
            Ok(done) => {
                self.compact_at_bytes = self
                    .compact_min
                    .max(done.bytes.saturating_mul(JOURNAL_VS_SNAPSHOT));
                self.last_save_unix_ms = Some(now_unix_ms());
                self.next_snapshot_at = now + self.snapshot_interval;
                log::info!(
                    "snapshot {} saved: {} nodes, {} bytes in {} ms",
                    done.generation,
                    done.nodes,
                    done.bytes,
                    done.millis
                );
                if let Some(why) = self.degraded.take() {
                    log::warn!(
                        "persistence recovered (was: {why}); {} change(s) made meanwhile are in snapshot {}",
                        self.skipped,
                        done.generation
                    );
                    self.skipped = 0;
                }
                Ok(done.bytes)
            }
            Err(e) => {
                log::error!(
                    "snapshot in {} failed: {e}; retrying in {}s",
                    self.dir.display(),
                    RETRY_AFTER.as_secs()
                );
                self.next_snapshot_at = now + RETRY_AFTER;
                Err(e)
            }
        }
    }
}
