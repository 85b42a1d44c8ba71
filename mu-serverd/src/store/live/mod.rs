//! [`Store`]: the persistence the event loop drives while the daemon runs (persistence off is
//! no `Store` at all).
//!
//! - [`append`]: the core's [`crate::session::io::Journal`]: one change framed per
//!   `Action::Persist`, one `write(2)` per batch (plus `fdatasync` under `fsync = "always"`),
//!   before the sends that relay the changes.
//! - [`snapshots`]: [`Store::tick`] finishes a background snapshot, and starts one every
//!   `snapshot_interval_s` (or sooner while degraded). Starting one costs the loop only the
//!   cheap clone of the node list (frames are `Arc`s) and the creation of the next journal
//!   file; the snapshot itself is written by a thread.
//! - A write error (disk full) never stops the relay: the store logs it once, stops journaling
//!   ("degraded": a crash now would lose the changes since), and retries a full snapshot every
//!   few seconds; when one succeeds it logs that persistence is back.

mod append;
mod install;
mod save;
mod snapshots;

use super::compact::Compaction;
use super::format::ChangeRec;
use super::history::{self, Policy};
use super::journal::JournalWriter;
use super::layout;
use super::snapshot::{self, Image};
use super::syncer::Syncer;
use crate::config::{Fsync, Storage};
use crate::store::StoreError;
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
    save_result: Option<Result<String, StoreError>>,
    /// `[storage] max_import_bytes`.
    pub(super) max_import_bytes: u64,
}

impl Store {
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
            next_snapshot_at: Instant::now() + Duration::from_secs(cfg.snapshot_interval_s.max(1)),
            degraded: None,
            skipped: 0,
            records_written: 0,
            writes: 0,
            last_save_unix_ms: Some(now_unix_ms()),
            last_pause_us: 0,
            save_wanted: false,
            save_generation: None,
            save_result: None,
            max_import_bytes: cfg.max_import_bytes,
        })
    }

    /// When [`Store::tick`] has work: the next periodic (or retry) snapshot, or the next check
    /// of a snapshot being written in the background.
    pub fn next_deadline(&self) -> Instant {
        match (&self.compaction, self.poll_at) {
            (Some(_), Some(p)) => p.min(self.next_snapshot_at),
            _ => self.next_snapshot_at,
        }
    }

    /// Lowers the journal size that triggers an early snapshot (tests use a few MiB).
    pub fn set_journal_compact_min(&mut self, bytes: u64) {
        self.compact_min = bytes;
        self.compact_at_bytes = bytes;
    }

    /// The sequence number the next change gets; a snapshot image built now has
    /// `last_seq = next_seq() - 1`.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn status(&self) -> StoreStatus {
        let s = self;
        let sync = s.syncer.as_ref().map(|y| y.shared());
        StoreStatus {
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
        let s = self;
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
        self.clock = clock;
    }

    /// Replaces the retention policy (tests switch thinning off).
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// The retention policy in force (the history thread prunes nothing itself).
    pub fn policy(&self) -> Policy {
        self.policy
    }

    pub fn state_dir(&self) -> &Path {
        &self.dir
    }
}
