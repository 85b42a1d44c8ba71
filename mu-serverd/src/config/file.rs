//! The TOML file as written by the admin: every key optional, unknown keys refused, each value
//! kept with its byte span so that validation errors can name the line.

use super::error::{line_of, ConfigError};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// `/etc/mu-server.toml`, section by section. Absent keys fall back to the built-in defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub auth: AuthSection,
    #[serde(default)]
    pub storage: StorageSection,
    #[serde(default)]
    pub control: ControlSection,
    #[serde(default)]
    pub log: LogSection,
}

type Opt<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerSection {
    pub bind: Opt<String>,
    pub port: Opt<i64>,
    pub timeout_ms: Opt<i64>,
    pub max_clients: Opt<i64>,
    pub max_message_bytes: Opt<i64>,
    pub client_queue_limit: Opt<i64>,
    pub client_versions: Opt<Vec<Spanned<String>>>,
    pub join_window: Opt<i64>,
    pub join_window_bytes: Opt<i64>,
    pub max_nodes: Opt<i64>,
    pub max_session_bytes: Opt<i64>,
    pub max_metadata_bytes_per_user: Opt<i64>,
    pub max_metadata_bytes_total: Opt<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthSection {
    pub admin_password: Opt<String>,
    pub admin_password_file: Opt<String>,
    pub server_password: Opt<String>,
    pub server_password_file: Opt<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorageSection {
    pub enabled: Opt<bool>,
    pub state_dir: Opt<String>,
    pub fsync: Opt<String>,
    pub fsync_interval_ms: Opt<i64>,
    pub snapshot_interval_s: Opt<i64>,
    pub max_backups: Opt<i64>,
    pub import: Opt<String>,
    pub max_import_bytes: Opt<i64>,
    pub history: Opt<String>,
    pub history_max_bytes: Opt<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlSection {
    pub enabled: Opt<bool>,
    pub socket: Opt<String>,
    pub group: Opt<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogSection {
    pub level: Opt<String>,
    pub target: Opt<String>,
    pub syslog_socket: Opt<String>,
}

/// Parses `text` (read from `path`); syntax, unknown keys and wrong types are reported with the
/// line they are on.
pub(crate) fn parse(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        ConfigError::file(path, line, e.message().trim().to_string())
    })
}

/// Validates one spanned value with `check`; a refusal names the file and the value's line.
pub(crate) fn check<T, U>(
    path: &Path,
    text: &str,
    key: &str,
    value: &Spanned<T>,
    check: impl FnOnce(&T) -> Result<U, String>,
) -> Result<U, ConfigError> {
    check(value.get_ref()).map_err(|reason| {
        ConfigError::file(
            path,
            Some(line_of(text, value.span().start)),
            format!("{key}: {reason}"),
        )
    })
}
