//! Builds the effective [`Config`]: defaults, then the file, then systemd credentials for
//! passwords the file left unset, then the environment, then flags.

use super::error::{ConfigError, Origin};
use super::file::{self, check, FileConfig};
use super::secret::{self, Secret};
use super::values;
use super::{Config, Fsync};
use std::path::{Path, PathBuf};

/// Command-line overrides, as text: validated here with the same rules as the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub port: Option<String>,
    pub timeout: Option<String>,
    pub log_level: Option<String>,
    pub admin_password: Option<String>,
    pub server_password: Option<String>,
}

/// Everything a load reads. `env` is a lookup function so tests never touch the real
/// environment.
pub struct Sources<'a> {
    pub path: &'a Path,
    /// `--config` was given: a missing file is an error instead of "use defaults".
    pub explicit: bool,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub flags: &'a Overrides,
}

/// A loaded configuration plus warnings to log once logging is set up.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// The largest configuration file read (a real one is a few KiB).
const MAX_CONFIG_FILE: u64 = 1 << 20;

/// Reads the configuration file: a regular file (or a link to one), never a FIFO or a device.
fn read_config(path: &Path) -> Result<String, crate::files::FileError> {
    use crate::files::{read, FileError, Links};
    let bytes = read(path, Links::Follow, MAX_CONFIG_FILE)?;
    String::from_utf8(bytes).map_err(|_| {
        FileError::Read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text",
        ))
    })
}

pub fn load(src: &Sources) -> Result<Loaded, ConfigError> {
    let mut cfg = Config::default();
    apply_systemd_directories(&mut cfg, src.env);
    let mut warnings = Vec::new();
    match read_config(src.path) {
        Ok(text) => {
            let parsed = file::parse(src.path, &text)?;
            apply_file(&mut cfg, src.path, &text, parsed)?;
            cfg.file = Some(src.path.to_path_buf());
        }
        Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) && !src.explicit => {}
        Err(e) => {
            return Err(ConfigError::file(
                src.path,
                None,
                format!("cannot read: {e}"),
            ))
        }
    }
    apply_credentials(&mut cfg, src.env)?;
    apply_env(&mut cfg, src.env, &mut warnings)?;
    apply_flags(&mut cfg, src.flags, &mut warnings)?;
    Ok(Loaded {
        config: cfg,
        warnings,
    })
}

/// Under systemd, `StateDirectory=`/`RuntimeDirectory=` tell us where the unit's directories
/// are (`$STATE_DIRECTORY`, `$RUNTIME_DIRECTORY`, colon-separated when several). They replace
/// the built-in defaults, so `mu-serverd@NAME` instances keep their state and control socket
/// apart without repeating the paths in each config; the file, env and flags still win.
fn apply_systemd_directories(cfg: &mut Config, env: &dyn Fn(&str) -> Option<String>) {
    let first = |var: &str| {
        env(var)
            .and_then(|v| v.split(':').next().map(PathBuf::from))
            .filter(|p| p.is_absolute())
    };
    if let Some(dir) = first("STATE_DIRECTORY") {
        cfg.storage.state_dir = dir;
        cfg.storage.state_dir_explicit = true;
    }
    if let Some(dir) = first("RUNTIME_DIRECTORY") {
        cfg.control.socket = dir.join("control.sock");
    }
}

fn apply_file(cfg: &mut Config, p: &Path, t: &str, f: FileConfig) -> Result<(), ConfigError> {
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

fn absolute(v: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(v);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err(format!("'{v}' is not an absolute path"))
    }
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

/// systemd `LoadCredential=admin-password:...` fills passwords the file left unset.
fn apply_credentials(
    cfg: &mut Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let Some(dir) = env("CREDENTIALS_DIRECTORY") else {
        return Ok(());
    };
    let dir = PathBuf::from(dir);
    for (name, slot) in [
        ("admin-password", &mut cfg.auth.admin_password),
        ("server-password", &mut cfg.auth.server_password),
    ] {
        let path = dir.join(name);
        if slot.is_none() && path.exists() {
            *slot = Some(secret::read_file(&path).map_err(|reason| ConfigError {
                origin: Origin::Secret(path.clone()),
                reason,
            })?);
        }
    }
    Ok(())
}

fn apply_env(
    cfg: &mut Config,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    if let Some(v) = env("PORT") {
        cfg.server.port = values::int(&v)
            .and_then(values::port)
            .map_err(|r| ConfigError::env("PORT", r))?;
    }
    if let Some(v) = env("TIMEOUT") {
        cfg.server.timeout_ms = values::int(&v)
            .and_then(values::timeout_ms)
            .map_err(|r| ConfigError::env("TIMEOUT", r))?;
    }
    if let Some(v) = env("LOG_LEVEL") {
        cfg.log.level = values::level(&v).map_err(|r| ConfigError::env("LOG_LEVEL", r))?;
    }
    if let Some(v) = env("LOG_TARGET") {
        cfg.log.target = values::log_target(&v).map_err(|r| ConfigError::env("LOG_TARGET", r))?;
    }
    // `X_FILE` names a file holding X, the container convention for secrets
    // (`/run/secrets/...`): the password stays out of `docker inspect` and /proc/PID/environ.
    for (var, file_var, slot) in [
        (
            "ADMIN_PASSWORD",
            "ADMIN_PASSWORD_FILE",
            &mut cfg.auth.admin_password,
        ),
        (
            "SERVER_PASSWORD",
            "SERVER_PASSWORD_FILE",
            &mut cfg.auth.server_password,
        ),
    ] {
        match (env(var), env(file_var)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::env(
                    file_var,
                    format!("{var} is set too; keep one"),
                ))
            }
            (Some(v), None) => {
                *slot = Some(Secret::new(v));
                warnings.push(format!(
                    "password taken from environment variable {var}; prefer the config file, \
                     {file_var} or a systemd credential"
                ));
            }
            (None, Some(path)) => {
                let read = absolute(&path).and_then(|p| secret::read_file(&p));
                *slot = Some(read.map_err(|r| ConfigError::env(file_var, r))?);
            }
            (None, None) => {}
        }
    }
    Ok(())
}

fn apply_flags(
    cfg: &mut Config,
    f: &Overrides,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    if let Some(v) = &f.port {
        cfg.server.port = values::int(v)
            .and_then(values::port)
            .map_err(|r| ConfigError::flag("--port", r))?;
    }
    if let Some(v) = &f.timeout {
        cfg.server.timeout_ms = values::int(v)
            .and_then(values::timeout_ms)
            .map_err(|r| ConfigError::flag("--timeout", r))?;
    }
    if let Some(v) = &f.log_level {
        cfg.log.level = values::level(v).map_err(|r| ConfigError::flag("--log-level", r))?;
    }
    for (flag, v, slot) in [
        (
            "--admin-password",
            &f.admin_password,
            &mut cfg.auth.admin_password,
        ),
        (
            "--server-password",
            &f.server_password,
            &mut cfg.auth.server_password,
        ),
    ] {
        if let Some(v) = v {
            *slot = Some(Secret::new(v.clone()));
            warnings.push(format!(
                "password given on the command line ({flag}) is visible to every local user in \
                 `ps`; move it to the config file or a systemd credential"
            ));
        }
    }
    Ok(())
}
