//! The event loop's persistence hook. The store (`crate::store`) implements [`Persistence`];
//! [`NoPersistence`] runs a throw-away session (`[storage] enabled = false`, most tests).
//!
//! Contract with the loop:
//! - [`Persistence::record`] is called for every `Action::Persist`, in order, and
//!   [`Persistence::flush`] after the records of a batch of messages, before the loop performs
//!   any send of that batch (one journal write per batch);
//! - [`Persistence::tick`] runs on every loop iteration once [`Persistence::next_deadline`]
//!   has passed (batch fsync, periodic snapshots);
//! - [`Persistence::shutdown`] writes the final snapshot after every client got its Disconnect.

use crate::session::io::Change;
use crate::session::Session;
use std::time::Instant;

pub trait Persistence {
    fn record(&mut self, change: &Change);
    fn next_deadline(&self) -> Option<Instant>;
    fn tick(&mut self, now: Instant, session: &mut Session);
    fn shutdown(&mut self, session: &mut Session);
    /// `mu-ctl save`: a snapshot now. Ok(message) or Err(reason).
    fn save(&mut self, session: &mut Session) -> Result<String, String>;
    /// `mu-ctl export PATH`.
    fn export(&mut self, session: &mut Session, path: &str) -> Result<String, String>;
    /// `mu-ctl import PATH`: replaces the session (the caller disconnects clients first).
    fn import(&mut self, session: &mut Session, path: &str) -> Result<String, String>;
    /// Last snapshot on disk, milliseconds since the Unix epoch.
    fn last_save_unix_ms(&self) -> Option<u64>;
    /// `mu-ctl reset`: called before the core drops the session, to keep a backup of it.
    /// Err refuses the reset (the backup could not be written).
    fn before_reset(&mut self, _session: &mut Session) -> Result<String, String> {
        Ok(String::new())
    }
    /// Bytes in the journal being written (`mu-ctl status`).
    fn journal_bytes(&self) -> Option<u64> {
        None
    }
    /// Writes what `record` buffered; the loop calls it before the sends that relay those
    /// changes.
    fn flush(&mut self) {}
    /// The shell's persistence callback: `record` or `flush`.
    fn op(&mut self, op: crate::shell::PersistOp<'_>) {
        match op {
            crate::shell::PersistOp::Record(c) => self.record(c),
            crate::shell::PersistOp::Flush => self.flush(),
        }
    }
}

/// Persistence switched off: nothing is read or written.
pub struct NoPersistence;

impl Persistence for NoPersistence {
    fn record(&mut self, _: &Change) {}
    fn next_deadline(&self) -> Option<Instant> {
        None
    }
    fn tick(&mut self, _: Instant, _: &mut Session) {}
    fn shutdown(&mut self, _: &mut Session) {}
    fn save(&mut self, _: &mut Session) -> Result<String, String> {
        Err("persistence is disabled ([storage] enabled = false)".into())
    }
    fn export(&mut self, _: &mut Session, _: &str) -> Result<String, String> {
        Err("persistence is disabled ([storage] enabled = false)".into())
    }
    fn import(&mut self, _: &mut Session, _: &str) -> Result<String, String> {
        Err("persistence is disabled ([storage] enabled = false)".into())
    }
    fn last_save_unix_ms(&self) -> Option<u64> {
        None
    }
}

/// Opens persistence for `cfg` and restores the saved session into `session` (before READY).
///
/// `reset_state` (`--reset-state`) moves old, possibly unreadable state aside first.
/// The store's side lives in `crate::store::hook`.
pub fn open(
    cfg: &crate::config::Config,
    session: &mut Session,
    reset_state: bool,
) -> Result<Box<dyn Persistence>, String> {
    if cfg.storage.enabled {
        return crate::store::hook::open(cfg, session, reset_state);
    }
    log::info!(
        "persistence disabled ([storage] enabled = false): the session lives in memory only"
    );
    Ok(Box::new(NoPersistence))
}
