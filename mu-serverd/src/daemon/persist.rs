//! The event loop's persistence hook. The store (`crate::store`) implements [`Persistence`];
//! [`NoPersistence`] runs a throw-away session (`[storage] enabled = false`, most tests).
//!
//! Contract with the loop:
//! - [`Persistence::record`] is called for every `Action::Persist` (and
//!   [`Persistence::record_scene`] for every `Action::PersistScene`), in order, and
//!   [`Persistence::flush`] after the records of a batch of messages, before the loop performs
//!   any send of that batch (one journal write per batch);
//! - [`Persistence::tick`] runs on every loop iteration once [`Persistence::next_deadline`]
//!   has passed (batch fsync, periodic snapshots);
//! - [`Persistence::shutdown`] writes the final snapshot after every client got its Disconnect.

use super::jobs::Work;
use crate::session::io::{Change, SceneRecord};
use crate::session::{Scene, Session};
use crate::store::hook::PreparedImport;
use std::fs::File;
use std::time::Instant;

pub trait Persistence {
    fn record(&mut self, change: &Change);
    fn next_deadline(&self) -> Option<Instant>;
    fn tick(&mut self, now: Instant, session: &mut Session);
    fn shutdown(&mut self, session: &mut Session);
    /// `mu-ctl save`: starts a snapshot now (written by a thread); Err if it cannot start.
    fn save_start(&mut self, session: &mut Session) -> Result<(), String>;
    /// The outcome of the snapshot `save_start` asked for, once it is on disk.
    fn save_poll(&mut self) -> Option<Result<String, String>> {
        None
    }
    /// `mu-ctl export`: takes the session's image on the loop (`Arc` clones) and returns the
    /// work that writes it into `file`, for another thread.
    fn export_job(
        &mut self,
        session: &mut Session,
        file: File,
        name: String,
    ) -> Result<Work<String>, String>;
    /// `mu-ctl import`: the work that reads and checks `file` and builds the new repository,
    /// for another thread. Refused unless the session is WAITING.
    fn import_job(
        &mut self,
        session: &mut Session,
        file: File,
        name: String,
    ) -> Result<Work<PreparedImport>, String>;
    /// Checks, on the loop, that what `import_job` prepared may still replace the session, and
    /// returns it as the scene the caller hands to [`Session::replace_scene`] (which
    /// disconnects every client, then emits the record for [`Persistence::record_scene`]),
    /// with the reply for the administrator.
    fn import_finish(
        &mut self,
        session: &Session,
        prepared: PreparedImport,
    ) -> Result<(Scene, String), String>;
    /// Last snapshot on disk, milliseconds since the Unix epoch.
    fn last_save_unix_ms(&self) -> Option<u64>;
    /// `mu-ctl reset`: the work that writes a backup of the session (taken now, written on
    /// another thread) before the core drops it; an Err from it refuses the reset. None: no
    /// backup needed (nothing to lose, or no state directory).
    fn reset_backup_job(&mut self, _session: &mut Session) -> Option<Work<String>> {
        None
    }
    /// The state directory the history is read from (None: persistence off, no history).
    fn history_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// Who is logged in (called about once a second), for the history.
    fn note_users(&mut self, _names: Vec<String>) {}
    /// `mu-ctl restore`: `repo` (rebuilt from the history) as the scene the caller hands to
    /// [`Session::replace_scene`]; its record journals `head` (the encoded nodes of `repo`)
    /// as the new head.
    fn restore_scene(
        &mut self,
        _repo: crate::session::Repository,
        _head: crate::store::history::rebuild::Encoded,
    ) -> Result<Scene, String> {
        Err(DISABLED.into())
    }
    /// Journals a whole new scene (an `Action::PersistScene` the core emitted when it
    /// installed a scene this layer prepared), like `record`.
    fn record_scene(&mut self, _scene: &SceneRecord) {}
    /// Bytes in the journal being written (`mu-ctl status`).
    fn journal_bytes(&self) -> Option<u64> {
        None
    }
    /// Writes what `record` buffered; the loop calls it before the sends that relay those
    /// changes.
    fn flush(&mut self) {}
    /// Who sends the changes `record` is called for next (`None`: the server), for the
    /// history's attribution.
    fn record_sender(&mut self, _who: Option<&str>) {}
    /// The shell's persistence callback: `record`, `record_scene` or `flush`.
    fn op(&mut self, op: crate::shell::PersistOp<'_>) {
        match op {
            crate::shell::PersistOp::Record(c) => self.record(c),
            crate::shell::PersistOp::Scene(r) => self.record_scene(r),
            crate::shell::PersistOp::Sender(w) => self.record_sender(w),
            crate::shell::PersistOp::Flush => self.flush(),
        }
    }
}

const DISABLED: &str = "persistence is disabled ([storage] enabled = false)";

/// Persistence switched off: nothing is read or written.
pub struct NoPersistence;

impl Persistence for NoPersistence {
    fn record(&mut self, _: &Change) {}
    fn next_deadline(&self) -> Option<Instant> {
        None
    }
    fn tick(&mut self, _: Instant, _: &mut Session) {}
    fn shutdown(&mut self, _: &mut Session) {}
    fn save_start(&mut self, _: &mut Session) -> Result<(), String> {
        Err(DISABLED.into())
    }
    fn export_job(&mut self, _: &mut Session, _: File, _: String) -> Result<Work<String>, String> {
        Err(DISABLED.into())
    }
    fn import_job(
        &mut self,
        _: &mut Session,
        _: File,
        _: String,
    ) -> Result<Work<PreparedImport>, String> {
        Err(DISABLED.into())
    }
    fn import_finish(&mut self, _: &Session, _: PreparedImport) -> Result<(Scene, String), String> {
        Err(DISABLED.into())
    }
    fn last_save_unix_ms(&self) -> Option<u64> {
        None
    }
}

/// Where this daemon keeps its session: `[storage] state_dir`, or for an ordinary user whose
/// built-in default `/var/lib/mu-server` cannot be created, the per-user directory of
/// [`user_state_dir`] when that one can be created (otherwise the default stays and the state
/// lock reports why it cannot be created, with the fix). Runs before the lock is taken.
pub fn resolve_state_dir(cfg: &mut crate::config::Config) {
    if !cfg.storage.enabled {
        return;
    }
    if let Some((dir, why)) = user_state_dir(&cfg.storage, &|k| std::env::var_os(k)) {
        if std::fs::create_dir_all(&dir).is_ok() {
            log::warn!(
                "state directory {} cannot be created ({why}); saving this session in {} \
                 instead (set [storage] state_dir to choose)",
                cfg.storage.state_dir.display(),
                dir.display()
            );
            cfg.storage.state_dir = dir;
        }
    }
}

/// Opens persistence for `cfg` and restores the saved session into `session` (before READY).
/// The caller resolved the state dir ([`resolve_state_dir`]) and holds its lock.
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

/// Where a daemon started by hand by an ordinary user keeps its session when the built-in
/// `/var/lib/mu-server` does not exist and cannot be created (no root, no package):
/// `$XDG_STATE_HOME/mu-server`, else `$HOME/.local/state/mu-server`, with the reason the default
/// failed. `None` when the state dir was configured (a configured path that fails is an error,
/// never silently moved) or when the default exists or could be created.
fn user_state_dir(
    st: &crate::config::Storage,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<(std::path::PathBuf, std::io::Error)> {
    use std::path::PathBuf;
    if st.state_dir_explicit || st.state_dir.exists() {
        return None;
    }
    let why = std::fs::create_dir_all(&st.state_dir).err()?;
    let base = env("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some((base.join("mu-server"), why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::{Path, PathBuf};

    /// A state dir below a regular file cannot be created, even by root (ENOTDIR).
    fn uncreatable() -> (PathBuf, PathBuf) {
        let file = std::env::temp_dir().join(format!("mu-persist-{}", std::process::id()));
        std::fs::write(&file, b"not a directory").unwrap();
        let dir = file.join("state");
        (file, dir)
    }

    fn storage(dir: &Path, explicit: bool) -> crate::config::Storage {
        let mut st = Config::default().storage;
        st.state_dir = dir.to_path_buf();
        st.state_dir_explicit = explicit;
        st
    }

    #[test]
    fn an_uncreatable_default_state_dir_falls_back_to_the_users_state_home() {
        let (file, dir) = uncreatable();
        let home = |k: &str| (k == "HOME").then(|| "/home/ann".into());
        let xdg = |k: &str| match k {
            "XDG_STATE_HOME" => Some("/srv/state".into()),
            "HOME" => Some("/home/ann".into()),
            _ => None,
        };
        let default = storage(&dir, false);
        let (got, _) = user_state_dir(&default, &home).expect("falls back");
        assert_eq!(got, Path::new("/home/ann/.local/state/mu-server"));
        let (got, _) = user_state_dir(&default, &xdg).expect("falls back");
        assert_eq!(got, Path::new("/srv/state/mu-server"));
        // A configured path is never moved: the store reports its error instead.
        assert!(user_state_dir(&storage(&dir, true), &home).is_none());
        // A usable default stays.
        let usable = storage(&std::env::temp_dir(), false);
        assert!(user_state_dir(&usable, &home).is_none());
        let _ = std::fs::remove_file(file);
    }
}
