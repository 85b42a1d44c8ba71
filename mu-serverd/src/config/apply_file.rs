//! The file layer of the load: every key of a parsed `/etc/mu-server.toml` checked with the
//! shared validators ([`super::values`]) and applied over the defaults; a refusal names the file,
//! the line and the key ([`check`]).

use super::error::ConfigError;
use super::file::{check, FileConfig};
use super::secret::{self, Secret};
use super::values::{self, absolute};
use super::{Config, Fsync};
use std::path::Path;

/// Applies the keys the file sets over `cfg` (`p` the file, `t` its text, for messages).
pub(super) fn apply_file(
    cfg: &mut Config,
    p: &Path,
    t: &str,
    f: FileConfig,
) -> Result<(), ConfigError> {
    let s = f.server;
    if let Some(v) = &s.bind {
        cfg.server.bind = check(p, t, "bind", v, |v| values::bind(v))?;
    }
    if let Some(v) = &s.port {
        cfg.server.port = check(p, t, "port", v, |v| values::port(*v))?;
    }
    if let Some(v) = &s.timeout_ms {
        cfg.server.timeout_ms = check(p, t, "timeout_ms", v, |v| values::timeout_ms(*v))?;
    }
    if let Some(v) = &s.max_clients {
        cfg.server.max_clients = check(p, t, "max_clients", v, |v| {
            values::ranged(*v, 1, 10_000, "max_clients")
        })? as usize;
    }
    if let Some(v) = &s.max_message_bytes {
        cfg.server.max_message_bytes = check(p, t, "max_message_bytes", v, |v| {
            values::ranged(*v, 1024, 1 << 40, "max_message_bytes")
        })?;
    }
    let totals = [
        (
            &s.max_nodes,
            "max_nodes",
            1,
            100_000_000,
            &mut cfg.server.max_nodes,
        ),
        (
            &s.max_session_bytes,
            "max_session_bytes",
            1 << 20,
            1 << 40,
            &mut cfg.server.max_session_bytes,
        ),
        (
            &s.max_metadata_bytes_per_user,
            "max_metadata_bytes_per_user",
            1024,
            1 << 30,
            &mut cfg.server.max_metadata_bytes_per_user,
        ),
        (
            &s.max_metadata_bytes_total,
            "max_metadata_bytes_total",
            1024,
            16 << 30,
            &mut cfg.server.max_metadata_bytes_total,
        ),
    ];
    for (value, key, min, max, slot) in totals {
        if let Some(v) = value {
            *slot = check(p, t, key, v, |v| values::ranged(*v, min, max, key))?;
        }
    }
    if let Some(v) = &s.client_queue_limit {
        cfg.server.client_queue_limit = check(p, t, "client_queue_limit", v, |v| {
            values::ranged(*v, 1, 10_000_000, "client_queue_limit")
        })? as usize;
    }
    if let Some(v) = &s.client_versions {
        cfg.server.client_versions = client_versions(p, t, v)?;
    }
    if let Some(v) = &s.join_window {
        cfg.server.join_window = check(p, t, "join_window", v, |v| {
            values::ranged(*v, 0, 100_000, "join_window")
        })? as usize;
    }
    if let Some(v) = &s.join_window_bytes {
        cfg.server.join_window_bytes = check(p, t, "join_window_bytes", v, |v| {
            values::ranged(*v, 1024, 1 << 30, "join_window_bytes")
        })? as usize;
    }

    let a = f.auth;
    cfg.auth.admin_password = password(p, t, "admin", &a.admin_password, &a.admin_password_file)?;
    cfg.auth.server_password =
        password(p, t, "server", &a.server_password, &a.server_password_file)?;

    let st = f.storage;
    if let Some(v) = &st.enabled {
        cfg.storage.enabled = *v.get_ref();
    }
    if let Some(v) = &st.state_dir {
        cfg.storage.state_dir = check(p, t, "state_dir", v, |v| absolute(v))?;
        cfg.storage.state_dir_explicit = true;
    }
    if let Some(v) = &st.fsync {
        cfg.storage.fsync = check(p, t, "fsync", v, |v| match v.as_str() {
            "batch" => Ok(Fsync::Batch),
            "always" => Ok(Fsync::Always),
            _ => Err(format!("'{v}' is not \"batch\" or \"always\"")),
        })?;
    }
    if let Some(v) = &st.fsync_interval_ms {
        cfg.storage.fsync_interval_ms = check(p, t, "fsync_interval_ms", v, |v| {
            values::ranged(*v, 1, 600_000, "fsync_interval_ms")
        })?;
    }
    if let Some(v) = &st.snapshot_interval_s {
        cfg.storage.snapshot_interval_s = check(p, t, "snapshot_interval_s", v, |v| {
            values::ranged(*v, 1, 86_400, "snapshot_interval_s")
        })?;
    }
    if let Some(v) = &st.max_backups {
        cfg.storage.max_backups = check(p, t, "max_backups", v, |v| {
            values::ranged(*v, 0, 10_000, "max_backups")
        })? as u32;
    }
    if let Some(v) = &st.import {
        cfg.storage.import = Some(check(p, t, "import", v, |v| absolute(v))?);
    }
    if let Some(v) = &st.max_import_bytes {
        cfg.storage.max_import_bytes = check(p, t, "max_import_bytes", v, |v| {
            values::ranged(*v, 1024, 1 << 40, "max_import_bytes")
        })?;
    }
    if let Some(v) = &st.history {
        cfg.storage.history_ms = check(p, t, "history", v, |v| values::duration_ms(v))?;
    }
    if let Some(v) = &st.history_max_bytes {
        cfg.storage.history_max_bytes = check(p, t, "history_max_bytes", v, |v| {
            values::ranged(*v, 0, i64::MAX, "history_max_bytes")
        })?;
    }

    let c = f.control;
    if let Some(v) = &c.enabled {
        cfg.control.enabled = *v.get_ref();
    }
    if let Some(v) = &c.socket {
        cfg.control.socket = check(p, t, "socket", v, |v| absolute(v))?;
        cfg.control.socket_explicit = true;
    }
    if let Some(v) = &c.group {
        cfg.control.group = Some(check(p, t, "group", v, |v| {
            if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == ':') {
                Err(format!("'{v}' is not a group name"))
            } else {
                Ok(v.clone())
            }
        })?);
    }

    let l = f.log;
    if let Some(v) = &l.level {
        cfg.log.level = check(p, t, "level", v, |v| values::level(v))?;
    }
    if let Some(v) = &l.target {
        cfg.log.target = check(p, t, "target", v, |v| values::log_target(v))?;
    }
    if let Some(v) = &l.syslog_socket {
        cfg.log.syslog_socket = check(p, t, "syslog_socket", v, |v| absolute(v))?;
    }
    Ok(())
}

/// `[server] client_versions`: a non-empty list of distinct releases; a bad entry is reported
/// on its own line.
fn client_versions(
    p: &Path,
    t: &str,
    list: &toml::Spanned<Vec<toml::Spanned<String>>>,
) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for item in list.get_ref() {
        let v = check(p, t, "client_versions", item, |v| values::client_version(v))?;
        if out.contains(&v) {
            return check(p, t, "client_versions", item, |_| {
                Err::<(), _>(format!("{v} is listed twice"))
            })
            .map(|_| Vec::new());
        }
        out.push(v);
    }
    if out.is_empty() {
        return check(p, t, "client_versions", list, |_| {
            Err::<(), _>(
                "the list is empty: list at least one version (default [\"0.9.10\"])".into(),
            )
        })
        .map(|_| Vec::new());
    }
    Ok(out)
}

/// `<who>_password` or `<who>_password_file`, never both.
fn password(
    p: &Path,
    t: &str,
    who: &str,
    inline: &Option<toml::Spanned<String>>,
    path: &Option<toml::Spanned<String>>,
) -> Result<Option<Secret>, ConfigError> {
    match (inline, path) {
        (Some(_), Some(f)) => Err(ConfigError::file(
            p,
            Some(super::error::line_of(t, f.span().start)),
            format!("{who}_password and {who}_password_file are both set; keep one"),
        )),
        (Some(v), None) => Ok(Some(Secret::new(v.get_ref().clone()))),
        (None, Some(f)) => {
            let key = format!("{who}_password_file");
            check(p, t, &key, f, |v| {
                let path = absolute(v)?;
                secret::read_file(&path)
            })
            .map(Some)
        }
        (None, None) => Ok(None),
    }
}
