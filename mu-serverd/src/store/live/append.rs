//! The store's side of [`Journal`]: every change the core emits is framed into the pending
//! batch ([`Store::record`]) and written with one `write(2)` per batch ([`Store::flush`]), plus
//! an `fdatasync` under `fsync = "always"`. This is the relay's hot path with `--persist`.

use super::Store;
use crate::config::Fsync;
use crate::session::io::{Change, EncodedChanges, Journal, SceneRecord};
use crate::store::format::ChangeRec;
use std::time::Instant;

/// The core's journal is the store: a change is recorded, a scene installed, the batch
/// written when the loop asks.
impl Journal for Store {
    fn record(&mut self, change: &Change) {
        Store::record(self, change);
    }

    fn record_scene(&mut self, scene: &SceneRecord) {
        match scene {
            SceneRecord::Snapshot(slot) => self.install_import_or_degrade(slot),
            // Journaled like an import (one write), so a restart or a later restore sees it;
            // the history before it stays on disk, so a restore can itself be undone.
            SceneRecord::Changes(head) => {
                Store::record(self, &Change::Reset);
                self.record_encoded(head);
            }
        }
    }

    fn record_sender(&mut self, who: Option<&str>) {
        Store::record_sender(self, who);
    }

    fn flush(&mut self) {
        Store::flush(self);
    }
}

impl Store {
    /// Journals one change and writes it at once (`record` + `flush`).
    pub fn append(&mut self, change: &Change) {
        self.record(change);
        self.flush();
    }

    /// Journals one change into the pending batch; [`Store::flush`] writes the batch with one
    /// `write(2)`. The event loop records every `Persist` of a batch of messages, flushes, and
    /// only then performs the sends that relay them.
    pub fn record(&mut self, change: &Change) {
        let s = self;
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
        let s = self;
        let Some(j) = s.journal.as_mut() else { return };
        if let Err(e) = j.push_meta(ChangeRec::Sender { name: who }) {
            let seq = s.next_seq;
            s.degrade(format!("journal record refused: {e}"), seq);
        }
    }

    /// Journals changes already encoded off the loop (a restore's new head, see
    /// [`crate::store::history::rebuild::encode`]) into the pending batch, like
    /// [`Store::record`] each; [`Store::flush`] writes them.
    pub fn record_encoded(&mut self, changes: &EncodedChanges) {
        let s = self;
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
        let s = self;
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
}
