//! Snapshots while the daemon runs: the periodic (or early, or retried) snapshot written by
//! a thread ([`super::super::compact`]), `mu-ctl save`'s blocking variant, the final one at
//! shutdown, and the "degraded" state a write error leaves until one succeeds.

use super::{Store, JOURNAL_VS_SNAPSHOT, POLL_COMPACTION, RETRY_AFTER};
use crate::config::Fsync;
use crate::store::compact;
use crate::store::history;
use crate::store::journal::JournalWriter;
use crate::store::layout;
use crate::store::snapshot::{self, Image};
use crate::store::StoreError;
use crate::wallclock::now_unix_ms;
use std::io;
use std::time::Instant;

impl Store {
    /// Called by the event loop on its periodic tick. `image` builds the current session image
    /// (with any `last_seq`; the store sets it) and is only called when a snapshot is due.
    pub fn tick(&mut self, now: Instant, image: impl FnOnce() -> Image) {
        let s = self;
        s.poll_compaction(now);
        if s.compaction.is_none() && s.save_wanted {
            s.start_save(now, image);
        } else if s.compaction.is_none() && now >= s.next_snapshot_at {
            if s.changes_since_snapshot > 0 || s.degraded.is_some() {
                // Logged where it failed; retried after RETRY_AFTER.
                let _ = s.start_snapshot(now, image);
            } else {
                s.next_snapshot_at = now + s.snapshot_interval;
            }
        }
    }

    /// `mu-ctl save`: writes a snapshot now and waits for it (the relay pauses for the write;
    /// an admin asked for it). Returns the sentence for the administrator.
    pub fn save_blocking(&mut self, image: impl FnOnce() -> Image) -> Result<String, StoreError> {
        let s = self;
        if let Some(c) = s.compaction.take() {
            let _ = s.finish(c.join(), Instant::now());
        }
        s.start_snapshot(Instant::now(), image)?;
        let Some(c) = s.compaction.take() else {
            return Err(StoreError::Failed("snapshot not started".into()));
        };
        let generation = c.generation();
        let result = s.finish(c.join(), Instant::now());
        s.saved(generation, result)
    }

    /// The outcome of snapshot `generation` as `mu-ctl save` reports it.
    pub(super) fn saved(
        &self,
        generation: u64,
        result: io::Result<u64>,
    ) -> Result<String, StoreError> {
        match result {
            Ok(bytes) => Ok(format!(
                "snapshot {generation} written ({bytes} bytes) in {}",
                self.dir.display()
            )),
            Err(e) => Err(StoreError::io(self.dir.display(), e)
                .context(format!("snapshot {generation} failed"))),
        }
    }

    /// Clean shutdown: waits for a running snapshot, writes a final one, syncs the journal.
    pub fn shutdown(mut self, image: Image) {
        self.flush();
        let mut s = self;
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
    /// Stops journaling after a write error (see the module doc); `seq` is the first change lost.
    pub(super) fn degrade(&mut self, why: String, seq: u64) {
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

    /// Rotates the journal and starts the thread that writes the snapshot. An error (logged
    /// here) means no snapshot was started; the next try is at `now + RETRY_AFTER`.
    pub(super) fn start_snapshot(
        &mut self,
        now: Instant,
        image: impl FnOnce() -> Image,
    ) -> Result<(), StoreError> {
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
                let e = StoreError::io(layout::journal_path(&self.dir, generation).display(), e)
                    .context(format!("cannot start journal {generation}"));
                log::error!("{e}");
                self.next_snapshot_at = now + RETRY_AFTER;
                return Err(e);
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
        let started =
            match compact::spawn(self.dir.clone(), generation, image, old_file, self.policy) {
                Ok(c) => {
                    self.compaction = Some(c);
                    self.poll_at = Some(now + POLL_COMPACTION);
                    Ok(())
                }
                Err(e) => {
                    let e = StoreError::Failed(format!("cannot start the snapshot thread: {e}"));
                    log::error!("{e}");
                    self.next_snapshot_at = now + RETRY_AFTER;
                    Err(e)
                }
            };
        self.last_pause_us = t0.elapsed().as_micros() as u64;
        log::debug!(
            "snapshot {generation} requested; event loop held {} us",
            self.last_pause_us
        );
        started
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
                    self.save_result = Some(self.saved(generation, result));
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
