//! The messages `mu-ctl` and `mu-serverd` exchange over the control socket.
//!
//! postcard is not self-describing: an enum variant travels as its index and a struct as its
//! fields in order. So the rules are: never reorder, rename-in-place or remove a variant or a
//! field; only ever append new variants at the end; when a payload must change, add a new
//! variant (`KickV2 {..}`) and bump [`PROTOCOL_VERSION`]. `Request::Hello` and `Reply::Hello`
//! are variant 0 and `Reply::Error` is variant 4 forever, so that any two versions can at least
//! tell each other they disagree. The golden-bytes tests at the bottom pin all of this.

use serde::{Deserialize, Serialize};

/// Version of the control protocol spoken in the handshake (not the package version).
/// Appended variants ([`Request::ExportFile`], [`Request::ImportFile`]) keep it: mu-ctl and the
/// daemon ship together, and a daemon that predates a variant closes the connection on it.
pub const PROTOCOL_VERSION: u16 = 1;

/// What mu-ctl asks the daemon. The first request on a connection must be `Hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    Hello {
        version: u16,
    },
    /// List the connected users.
    Users,
    /// Disconnect a user; the reason is shown to them in Blender.
    Kick {
        user: String,
        reason: Option<String>,
    },
    /// Re-read the configuration file (like SIGHUP), answering whether it applied.
    Reload,
    /// Stop the daemon gracefully (like SIGTERM).
    Stop,
    Status,
    /// Write a snapshot of the session now.
    Save,
    /// Protocol 1 only: the daemon refuses it (it would write as the daemon's user).
    Export {
        path: String,
    },
    /// Protocol 1 only: the daemon refuses it (it would read as the daemon's user).
    Import {
        path: String,
    },
    /// Drop the session: back to WAITING with an empty repository.
    Reset,
    /// Write the session into the file whose descriptor travels with this frame (SCM_RIGHTS;
    /// a regular file open for writing, opened by mu-ctl with the caller's permissions).
    /// `name` is the path as the caller named it, for messages only.
    ExportFile {
        name: String,
    },
    /// Replace the session with the one in the file whose descriptor travels with this frame
    /// (a regular file open for reading). `name` is for messages only.
    ImportFile {
        name: String,
    },
    /// The restore points kept on disk from `since_unix_ms` on (all when None).
    History {
        since_unix_ms: Option<u64>,
    },
    /// Write the session as it was at a moment (milliseconds since the Unix epoch), in the
    /// format of `ExportFile`, into the file whose descriptor travels with this frame (like
    /// `ExportFile`). `name` is for messages only.
    ExportAt {
        name: String,
        at_unix_ms: u64,
    },
    /// Put the live session back to how it was at a moment; every client is disconnected.
    Restore {
        at_unix_ms: u64,
    },
    /// The effective settings an operator checks (`mu-ctl status` asks after `Status`; a daemon
    /// older than this variant closes the connection, and mu-ctl shows the status alone).
    Settings,
}

impl Request {
    /// Short lowercase name for log lines ("kick", "reload", ...).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Hello { .. } => "hello",
            Request::Users => "users",
            Request::Kick { .. } => "kick",
            Request::Reload => "reload",
            Request::Stop => "stop",
            Request::Status => "status",
            Request::Save => "save",
            Request::Export { .. } => "export",
            Request::Import { .. } => "import",
            Request::Reset => "reset",
            Request::ExportFile { .. } => "export",
            Request::ImportFile { .. } => "import",
            Request::History { .. } => "history",
            Request::ExportAt { .. } => "export-at",
            Request::Restore { .. } => "restore",
            Request::Settings => "settings",
        }
    }

    /// True for requests that must carry a file descriptor.
    pub fn carries_file(&self) -> bool {
        matches!(
            self,
            Request::ExportFile { .. } | Request::ImportFile { .. } | Request::ExportAt { .. }
        )
    }
}

/// What the daemon answers. Every request gets exactly one reply, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Hello {
        version: u16,
        /// The daemon's package version, e.g. "0.1.0".
        daemon_version: String,
    },
    Users(Vec<UserInfo>),
    Status(StatusInfo),
    /// The request was carried out; `message` says what happened, for humans.
    Done {
        message: String,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    History(HistoryInfo),
    Settings(SettingsInfo),
}

/// What `mu-ctl history` shows: the span of restore points kept and what happened, interval
/// by interval (one minute each; only intervals with changes or logins are listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryInfo {
    /// The oldest and newest moments a restore can go to (None: no history).
    pub oldest_unix_ms: Option<u64>,
    pub newest_unix_ms: Option<u64>,
    /// Bytes of snapshots and journals in the state directory.
    pub disk_bytes: u64,
    pub generations: u32,
    pub intervals: Vec<HistoryInterval>,
    /// Stretches without restore points (damaged or removed files), for humans.
    pub gaps: Vec<String>,
}

/// One interval of the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryInterval {
    pub from_unix_ms: u64,
    pub to_unix_ms: u64,
    /// Nodes at the end of the interval.
    pub nodes: u64,
    /// Bytes of node data at the end of the interval (a node edited by Commits counts with
    /// its size at its last full upload: the history does not apply deltas to count).
    pub bytes: u64,
    /// Users logged in at some moment of the interval.
    pub users: Vec<String>,
    /// Changes journaled in the interval.
    pub changes: u64,
    /// The busiest kinds of change, most first (at most 3).
    pub busiest: Vec<Activity>,
}

/// "alice deleted 312 nodes": who is the user whose client sent the changes ("server" for the
/// server's own; in journals written before sender records, the owner of the nodes changed,
/// "common" for unlocked nodes); kind is one of uploaded, updated, committed, deleted,
/// locked, unlocked, reset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub who: String,
    pub kind: String,
    pub count: u64,
}

/// What `Request::Settings` answers: the same effective settings `mu-serverd --check-config`
/// prints, as the running daemon holds them (never a password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInfo {
    /// The daemon's process ID.
    pub pid: u32,
    /// The control socket it listens on.
    pub socket: String,
    /// A server password is set: the session is private.
    pub server_password_set: bool,
    /// An admin password is set: admin login is enabled.
    pub admin_login: bool,
}

/// One connected user, as `mu-ctl users` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub admin: bool,
    /// The replication status in words, e.g. "lobby" or "active".
    pub status: String,
    /// Last measured round trip; the reference reports 999 until it has measured one.
    pub latency_ms: u32,
    /// Login time, seconds since the Unix epoch.
    pub connected_since_unix: u64,
    /// "ip:port" of the command-channel TCP peer, when the daemon knows it.
    pub peer: Option<String>,
    pub msgs_in: u64,
    pub msgs_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// The daemon's state, as `mu-ctl status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// The daemon's package version.
    pub version: String,
    pub uptime_s: u64,
    /// "waiting", "srv_sync" or "active".
    pub session_state: String,
    pub nodes: u64,
    /// Bytes of node data held in the repository.
    pub bytes_stored: u64,
    pub users: u32,
    /// Address the ZeroMQ sockets are bound to, e.g. "0.0.0.0".
    pub bind: String,
    /// Command, data and heartbeat ports.
    pub ports: Vec<u16>,
    /// None when running on built-in defaults.
    pub config_file: Option<String>,
    /// Last successful snapshot, seconds since the Unix epoch.
    pub last_save_unix: Option<u64>,
    pub journal_bytes: Option<u64>,
    pub state_dir: Option<String>,
}

/// Why a request failed, so that scripts can act on it without parsing messages.
/// In JSON it appears in snake_case ("refused", "not_found", ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The peer is not allowed to use the control socket, or the action is not permitted now.
    Refused,
    /// The named user (or file) does not exist.
    NotFound,
    /// The request is malformed or arrived out of order (e.g. not starting with Hello).
    BadRequest,
    /// The daemon does not implement this request (yet).
    Unsupported,
    /// A bug in the daemon; the message says more, the daemon keeps running.
    Internal,
    /// mu-ctl and mu-serverd speak different control protocol versions.
    VersionMismatch,
    /// The request was valid but carrying it out failed (bad config on reload, I/O error on
    /// export, ...); the daemon keeps its previous state.
    Failed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Refused => "refused",
            ErrorCode::NotFound => "not_found",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Internal => "internal",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::Failed => "failed",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Reply {
    /// Convenience constructor for error replies.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply::Error {
            code,
            message: message.into(),
        }
    }

    pub fn done(message: impl Into<String>) -> Reply {
        Reply::Done {
            message: message.into(),
        }
    }
}

#[cfg(test)]
#[path = "proto_tests.rs"]
mod tests;
