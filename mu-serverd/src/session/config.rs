//! What an administrator can tune in the session core, and what a reload may change while
//! clients stay connected.

use super::push::Window;
use crate::pickle::Limits;

/// Default totals: far above what a studio's session holds (a large scene is tens of
/// thousands of nodes and a few hundred MB of pickles; the addon's metadata is a few KiB per
/// user), low enough that one client cannot make the server hold unbounded memory.
pub(crate) const DEFAULT_MAX_NODES: u64 = 1_000_000;
pub(crate) const DEFAULT_MAX_SESSION_BYTES: u64 = 4 << 30;
pub(crate) const DEFAULT_MAX_USER_METADATA: u64 = 2 << 20;
pub(crate) const DEFAULT_MAX_METADATA_TOTAL: u64 = 16 << 20;

/// The default heartbeat timeout, `[server] timeout_ms` (docs/configuration.md), for the daemon
/// and the core alike: the 10 s the seed deployment runs with. The library's own default,
/// `replication.constants.CONNECTION_TIMEOUT`, is 2 s: a client on a loaded machine or a slow
/// link would be dropped while alive.
pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Settings of the session core. Everything here may change on reload (`Session::set_config`);
/// no client is dropped by a reload, new values apply to the next message or tick.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// `None`: the session is public and any `S_PWD` is accepted (difference 10).
    pub server_password: Option<String>,
    /// `None`: nobody can log in as admin.
    pub admin_password: Option<String>,
    /// A client whose heartbeat gap exceeds this is lost; also how long a logged-in client may
    /// go without starting its heartbeat (difference 11).
    pub timeout_ms: u64,
    /// Logins beyond this many clients are refused (difference 4).
    pub max_clients: usize,
    /// Pickle size/depth limits applied to every payload.
    pub limits: Limits,
    /// Largest message (sum of its frames) the core accepts; the shell also sets ZMQ_MAXMSGSIZE.
    pub max_message_bytes: usize,
    /// The replication versions admitted (`[server] client_versions`, never empty); one session
    /// holds clients of one of them at a time (`versions.rs`).
    pub client_versions: Vec<String>,
    /// How far the server pushes Snapshot SETs ahead of a joiner's GETs (difference 13);
    /// `Window::OFF` answers one SET per GET like the reference.
    pub join_window: Window,
    /// Most nodes the session holds; a new node beyond it is refused (`max_nodes`).
    pub max_nodes: u64,
    /// Most bytes of node pickles the session holds (`max_session_bytes`, counted as
    /// [`crate::session::Repository::stored_bytes`]).
    pub max_session_bytes: u64,
    /// Most bytes of metadata one user holds (`max_metadata_bytes_per_user`): each key and
    /// value counted by its pickled size.
    pub max_user_metadata_bytes: u64,
    /// Most bytes of metadata all users hold together (`max_metadata_bytes_total`): it is all
    /// re-sent to every client every second.
    pub max_metadata_bytes_total: u64,
}

/// The replication version the reference server admits, and the default `client_versions`.
pub(crate) const DEFAULT_CLIENT_VERSION: &str = "0.9.10";

/// `[server] join_window` / `join_window_bytes` (measured: docs/performance.md, "Join through a
/// WAN link").
pub(crate) const DEFAULT_JOIN_WINDOW: Window = Window {
    nodes: 4000,
    bytes: 4 << 20,
};

/// Least time a logged-in client is given to start its heartbeat (`ttl.py` is a separate Python
/// process; on a loaded machine it can take seconds to start).
pub(crate) const HEARTBEAT_START_MIN_MS: u64 = 8000;

impl SessionConfig {
    /// How long after login a client may go without a heartbeat `INIT` before it is dropped
    /// (difference 11): twice the timeout, at least [`HEARTBEAT_START_MIN_MS`].
    pub fn heartbeat_start_ms(&self) -> u64 {
        self.timeout_ms
            .saturating_mul(2)
            .max(HEARTBEAT_START_MIN_MS)
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            server_password: None,
            admin_password: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_clients: 64,
            limits: Limits::default(),
            max_message_bytes: 256 * 1024 * 1024,
            client_versions: vec![DEFAULT_CLIENT_VERSION.to_owned()],
            join_window: DEFAULT_JOIN_WINDOW,
            max_nodes: DEFAULT_MAX_NODES,
            max_session_bytes: DEFAULT_MAX_SESSION_BYTES,
            max_user_metadata_bytes: DEFAULT_MAX_USER_METADATA,
            max_metadata_bytes_total: DEFAULT_MAX_METADATA_TOTAL,
        }
    }
}
