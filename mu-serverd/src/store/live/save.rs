//! `mu-ctl save` without holding the loop: the snapshot starts like a periodic one and the
//! daemon answers when [`Store::take_save_result`] reports it on disk.

use super::{Image, Store};
use crate::store::StoreError;
use std::time::Instant;

impl Store {
    /// `mu-ctl save` without holding the loop: starts a snapshot now (or as soon as the one
    /// being written is done); [`Store::take_save_result`] gives the outcome once it is on disk.
    /// `Err`: no snapshot could be started (the journal after it cannot be created, no thread).
    pub fn request_save(&mut self, image: impl FnOnce() -> Image) -> Result<(), StoreError> {
        let s = self;
        if s.save_wanted || s.save_generation.is_some() {
            return Ok(());
        }
        let now = Instant::now();
        if s.compaction.is_some() {
            s.save_wanted = true;
            s.next_snapshot_at = now;
            return Ok(());
        }
        s.start_save(now, image);
        match s.save_result.take() {
            Some(Err(e)) => Err(e),
            other => {
                s.save_result = other;
                Ok(())
            }
        }
    }

    /// The outcome of the snapshot [`Store::request_save`] started, once it is known.
    pub fn take_save_result(&mut self) -> Option<Result<String, StoreError>> {
        self.save_result.take()
    }
}

impl Store {
    /// Starts the snapshot `mu-ctl save` waits for.
    pub(super) fn start_save(&mut self, now: Instant, image: impl FnOnce() -> Image) {
        self.save_wanted = false;
        let started = self.start_snapshot(now, image);
        match (&self.compaction, started) {
            (Some(c), _) => self.save_generation = Some(c.generation()),
            (None, Err(e)) => self.save_result = Some(Err(e)),
            (None, Ok(())) => {
                self.save_result = Some(Err(StoreError::Failed("snapshot not started".into())))
            }
        }
    }
}
