//! Builds the effective [`Config`]: defaults, then the file, then systemd credentials for
//! passwords the file left unset, then the environment, then flags.
//! The file's keys are checked and applied by [`super::apply_file`].

use super::apply_file::apply_file;
use super::error::{ConfigError, Origin};
use super::file;
use super::secret::{self, Secret};
use super::values;
use super::Config;
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
                let read = values::absolute(&path).and_then(|p| secret::read_file(&p));
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
