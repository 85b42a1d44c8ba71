//! Persistence for the daemon: where the state directory is, and opening the store
//! ([`crate::store::Store`]) when `[storage] enabled`; persistence switched off is no store
//! (`None`, which is also the core's journal that journals nothing).

use crate::session::Session;
use crate::store::{Store, StoreError};

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
/// The store's side lives in `crate::store::open`. The error is rendered once, by `main`'s
/// start-up log line; its sentence names the file or directory and the reason.
pub fn open(
    cfg: &crate::config::Config,
    session: &mut Session,
    reset_state: bool,
) -> Result<Option<Store>, StoreError> {
    if cfg.storage.enabled {
        return Store::open_for(cfg, session, reset_state).map(Some);
    }
    log::info!(
        "persistence disabled ([storage] enabled = false): the session lives in memory only"
    );
    Ok(None)
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
    use crate::store::RecoverError;
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

    #[test]
    fn a_state_dir_that_is_a_file_is_a_typed_start_up_error_naming_it() {
        let file = std::env::temp_dir().join(format!("mu-persist-file-{}", std::process::id()));
        std::fs::write(&file, b"not a directory").unwrap();
        let mut cfg = Config::default();
        cfg.storage.enabled = true;
        cfg.storage.state_dir = file.clone();
        let mut session = Session::new(crate::daemon::session_config::session_config(&cfg));
        let e = open(&cfg, &mut session, false).err().expect("refused");
        let _ = std::fs::remove_file(&file);
        assert!(
            matches!(
                e.kind(),
                StoreError::Recover(RecoverError::Unreadable { .. })
            ),
            "{e:?}"
        );
        // The one start-up log line keeps the directory and the reason.
        let line = e.to_string();
        assert!(
            line.contains(&format!("state directory {} is unreadable", file.display())),
            "{line}"
        );
    }
}
