//! Configuration: built-in defaults < `/etc/mu-server.toml` < environment (`PORT`, `TIMEOUT`,
//! `LOG_LEVEL`, `ADMIN_PASSWORD`, `SERVER_PASSWORD`, and for containers `*_PASSWORD_FILE`,
//! `LOG_TARGET`) < command-line flags.
//!
//! Loading is a pure function of (file text, environment lookup, flags) so the whole precedence
//! chain is unit-tested without touching the process environment. Reload runs the same load and
//! [`reload::plan`] says what can change live.

mod apply_file;
mod build;
pub(crate) mod error;
pub(crate) mod file;
pub(crate) mod reload;
pub(crate) mod secret;
pub(crate) mod values;

pub use build::{load, Loaded, Overrides, Sources};
pub use error::ConfigError;
pub use secret::Secret;

use std::path::PathBuf;

/// Where the configuration file is looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "/etc/mu-server.toml";

/// The effective, validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file this came from (None: built-in defaults only).
    pub file: Option<PathBuf>,
    pub server: Server,
    pub auth: Auth,
    pub storage: Storage,
    pub control: Control,
    pub log: Log,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    /// Normalized IP address text (`0.0.0.0`, `::`, `127.0.0.1`).
    pub bind: String,
    /// Base port: command; +1 data; +2 heartbeat.
    pub port: u16,
    /// A client silent on the heartbeat channel for this long is lost.
    pub timeout_ms: u64,
    pub max_clients: usize,
    /// ZMQ_MAXMSGSIZE: larger frames make libzmq drop the connection.
    pub max_message_bytes: u64,
    /// Messages parked per client and channel before that client is disconnected.
    pub client_queue_limit: usize,
    /// The replication versions admitted, in order of preference (never empty).
    pub client_versions: Vec<String>,
    /// Snapshot SETs pushed ahead of a joiner's GETs (0: one SET per GET, as the reference).
    pub join_window: usize,
    /// Bytes of those SETs.
    pub join_window_bytes: usize,
    /// Totals the session may hold, whatever the size of each message (see
    /// `session::SessionConfig`).
    pub max_nodes: u64,
    pub max_session_bytes: u64,
    pub max_metadata_bytes_per_user: u64,
    pub max_metadata_bytes_total: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Auth {
    /// None: admin login is disabled.
    pub admin_password: Option<Secret>,
    /// None: the server is public (any S_PWD accepted).
    pub server_password: Option<Secret>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// fsync the journal every `fsync_interval_ms`.
    Batch,
    /// fsync after every journaled change.
    Always,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Storage {
    /// false: nothing is read or written (tests, throw-away sessions).
    pub enabled: bool,
    pub state_dir: PathBuf,
    /// The state dir was chosen (file, `$STATE_DIRECTORY`), not the built-in default: a
    /// default that cannot be created falls back to a per-user directory instead of failing.
    pub state_dir_explicit: bool,
    pub fsync: Fsync,
    pub fsync_interval_ms: u64,
    pub snapshot_interval_s: u64,
    pub max_backups: u32,
    /// A session export to load at start when the state directory is empty.
    pub import: Option<PathBuf>,
    /// The largest session file `mu-ctl import` or `import` reads, compressed and decompressed.
    pub max_import_bytes: u64,
    /// `history`: how long restore points are kept, in milliseconds (see store::history).
    pub history_ms: u64,
    /// `history_max_bytes`: the most the kept history may take on disk.
    pub history_max_bytes: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Control {
    pub enabled: bool,
    pub socket: PathBuf,
    /// Group allowed to use the socket (besides root and the daemon's user).
    pub group: Option<String>,
    /// True when `socket` was set explicitly (file), so a bind failure is fatal rather than a
    /// warning for a hand-run daemon without `/run/mu-server`.
    pub socket_explicit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// journal if JOURNAL_STREAM matches stderr, else syslog socket, else stderr.
    Auto,
    Journal,
    Syslog,
    Stderr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    pub level: log::LevelFilter,
    pub target: LogTarget,
    pub syslog_socket: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            server: Server {
                bind: "0.0.0.0".into(),
                port: 5555,
                timeout_ms: crate::session::config::DEFAULT_TIMEOUT_MS,
                max_clients: 64,
                max_message_bytes: 256 * 1024 * 1024,
                client_queue_limit: 10_000,
                client_versions: vec![crate::session::config::DEFAULT_CLIENT_VERSION.to_owned()],
                join_window: crate::session::config::DEFAULT_JOIN_WINDOW.nodes,
                join_window_bytes: crate::session::config::DEFAULT_JOIN_WINDOW.bytes,
                max_nodes: crate::session::config::DEFAULT_MAX_NODES,
                max_session_bytes: crate::session::config::DEFAULT_MAX_SESSION_BYTES,
                max_metadata_bytes_per_user: crate::session::config::DEFAULT_MAX_USER_METADATA,
                max_metadata_bytes_total: crate::session::config::DEFAULT_MAX_METADATA_TOTAL,
            },
            auth: Auth {
                admin_password: None,
                server_password: None,
            },
            storage: Storage {
                enabled: true,
                state_dir: PathBuf::from("/var/lib/mu-server"),
                state_dir_explicit: false,
                fsync: Fsync::Batch,
                fsync_interval_ms: 1000,
                snapshot_interval_s: 120,
                max_backups: 10,
                import: None,
                max_import_bytes: 512 << 20,
                history_ms: 24 * 3_600_000,
                history_max_bytes: 4 << 30,
            },
            control: Control {
                enabled: true,
                socket: PathBuf::from("/run/mu-server/control.sock"),
                group: None,
                socket_explicit: false,
            },
            log: Log {
                level: log::LevelFilter::Info,
                target: LogTarget::Auto,
                syslog_socket: PathBuf::from("/dev/log"),
            },
        }
    }
}

#[cfg(test)]
mod tests;
