//! The vocabulary between the sans-IO session core and whatever drives it (the mio/zmq shell,
//! the tests, the persistence replay). Nothing here touches a socket, a clock or a thread.
//!
//! The driver calls the core's `handle_*` methods with the current time, then drains the
//! [`Action`]s it queued, and sleeps until `next_deadline()`.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Milliseconds on a monotonic clock whose origin the driver chooses. The core never reads a
/// clock itself, so tests run on simulated time.
pub type Millis = u64;

/// One ZeroMQ frame, shared so that a fan-out to N clients never copies the payload.
pub type Frame = Arc<[u8]>;

/// The frames of one outbound message, shared by every peer a broadcast goes to: a fan-out
/// to N clients clones one `Arc`, not N vectors.
pub type Frames = Arc<[Frame]>;

/// A ROUTER routing identity (16 random bytes for the replication client, but any bytes a peer
/// chooses are possible and must be handled).
pub type Identity = Arc<[u8]>;

/// The IP address of the connection a message came on (libzmq's `Peer-Address`, no port),
/// shared by the messages of a connection.
pub type PeerAddr = Arc<str>;

/// The three ROUTER sockets: base port, +1, +2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    Command,
    Data,
    Heartbeat,
}

/// Session state, with the replication library's numeric values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    /// 6: nobody has uploaded a scene yet.
    Waiting,
    /// 7: the first client is uploading its scene.
    SrvSync,
    /// 2: the scene is on the server; clients join it.
    Active,
}

impl SessionState {
    /// The state's one name in logs, `STATUS=` and the control protocol: the replication
    /// library's (`STATE_SRV_SYNC`...) in lower case.
    pub fn name(self) -> &'static str {
        match self {
            SessionState::Waiting => "waiting",
            SessionState::SrvSync => "srv_sync",
            SessionState::Active => "active",
        }
    }

    pub fn code(self) -> i64 {
        match self {
            SessionState::Waiting => 6,
            SessionState::SrvSync => 7,
            SessionState::Active => 2,
        }
    }
}

/// Why the driver could not deliver frames to a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendFailure {
    /// ZMQ_ROUTER_MANDATORY said the identity is not connected on that socket.
    Unreachable,
    /// The peer's bounded outbound queue is full: it stopped reading.
    QueueOverflow,
}

/// Something the core wants done. The driver performs them in order.
#[derive(Clone, Debug)]
pub enum Action {
    /// Send one multipart message (identity frame is added by the driver) on a channel.
    Send {
        channel: Channel,
        to: Identity,
        frames: Frames,
    },
    /// Forget a peer's outbound queue (it was disconnected or kicked); frames already queued
    /// for it may be dropped.
    ///
    /// The core emits it *before* the `Disconnect` it sends to a client it removes, so that
    /// Disconnect is queued after the (discarded) backlog and is the next thing the client
    /// reads; Sends after a DropPeer are queued normally.
    DropPeer { to: Identity },
    /// One log line for the admin.
    Log { level: log::Level, message: String },
    /// A change to durable state, to be journaled before (or as) the frames that follow it are
    /// sent.
    Persist(Change),
    /// Who sends the `Persist` changes that follow (a client's name; `None`: the server
    /// itself), for the history's attribution. Emitted only when it changes.
    PersistSender(Option<String>),
    /// The whole session was replaced by a scene the persistence layer prepared off the loop
    /// (an import, a restore): journaled like a `Persist`, in order, before the sends that
    /// follow. See [`crate::session::Session::replace_scene`].
    PersistScene(SceneRecord),
}

impl Action {
    /// Hands a persistence action to `journal` (the one routing the shell and the tests
    /// share): `Ok(true)` for a change or a scene, whose sends must wait for a
    /// [`Journal::flush`]; `Ok(false)` for a sender; `Err(action)`: not the journal's.
    #[inline]
    pub fn journal_into<J: Journal + ?Sized>(self, journal: &mut J) -> Result<bool, Action> {
        match self {
            Action::Persist(change) => {
                journal.record(&change);
                Ok(true)
            }
            Action::PersistScene(scene) => {
                journal.record_scene(&scene);
                Ok(true)
            }
            Action::PersistSender(who) => {
                journal.record_sender(who.as_deref());
                Ok(false)
            }
            other => Err(other),
        }
    }
}

/// What the core asks persistence to do, in the session's order: the driver hands every
/// [`Action::Persist`], [`Action::PersistScene`] and [`Action::PersistSender`] to one
/// `Journal`, and calls [`Journal::flush`] before it performs any send queued after them, so a
/// change is durable (as durable as the journal is) before a client can have seen it.
///
/// The store (`crate::store::Store`) is the one implementation the daemon runs; persistence
/// switched off is `None` (the `Option` impl below); the core's tests keep an in-memory one.
pub trait Journal {
    /// Journals one change; it may wait in a buffer until [`Journal::flush`].
    fn record(&mut self, change: &Change);
    /// Journals a whole new scene the core installed ([`Action::PersistScene`]), like `record`.
    fn record_scene(&mut self, scene: &SceneRecord);
    /// Who sends the changes recorded next (a client's name; `None`: the server), for the
    /// history's attribution.
    fn record_sender(&mut self, who: Option<&str>);
    /// Writes what was recorded since the last flush.
    fn flush(&mut self);
}

/// Persistence switched off: nothing is journaled.
impl<J: Journal> Journal for Option<J> {
    fn record(&mut self, change: &Change) {
        if let Some(j) = self {
            j.record(change);
        }
    }
    fn record_scene(&mut self, scene: &SceneRecord) {
        if let Some(j) = self {
            j.record_scene(scene);
        }
    }
    fn record_sender(&mut self, who: Option<&str>) {
        if let Some(j) = self {
            j.record_sender(who);
        }
    }
    fn flush(&mut self) {
        if let Some(j) = self {
            j.flush();
        }
    }
}

/// How a whole scene the persistence layer prepared off the loop (an import, a restore) is
/// journaled. The core does not look inside: it hands the record back as
/// [`Action::PersistScene`] at the point where the scene is installed, after the Disconnects,
/// so the journal follows the session's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SceneRecord {
    /// An import, already written and synced as the next snapshot: journaling it is renaming
    /// the file into place and starting a new journal after it.
    Snapshot(SnapshotSlot),
    /// A restore: `Reset`, then these changes (every node, the client version, the state),
    /// encoded off the loop as journal payloads, so the loop only frames and writes them.
    Changes(Arc<EncodedChanges>),
}

/// Where a snapshot prepared off the loop was written, and where it stands in the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSlot {
    pub path: std::path::PathBuf,
    pub generation: u64,
    /// The sequence number the snapshot stands at: the last change journaled before it.
    pub last_seq: u64,
}

/// Changes encoded as journal payloads without their sequence numbers (the store's record
/// format, built by `crate::store::history::rebuild::encode`).
#[derive(Default, PartialEq, Eq)]
pub struct EncodedChanges {
    pub bytes: Vec<u8>,
    /// End offset of each change in `bytes`.
    pub ends: Vec<usize>,
    /// Nodes among the changes.
    pub nodes: usize,
}

impl EncodedChanges {
    /// Each change's payload, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| &self.bytes[a..b])
    }
}

impl std::fmt::Debug for EncodedChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EncodedChanges({} changes, {} nodes, {} bytes)",
            self.ends.len(),
            self.nodes,
            self.bytes.len()
        )
    }
}

/// A change to the durable session, as journaled by the persistence layer and replayed on start.
/// Frames are the exact pickle bytes clients send and receive.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Change {
    State(SessionState),
    /// A whole node stored (upload, or a Node on the data channel).
    NodeStored {
        uuid: String,
        owner: String,
        deps: Frame,
        data: Frame,
    },
    /// A Commit that was applied successfully (replay applies the same delta again).
    CommitApplied {
        uuid: String,
        deps: Frame,
        delta: Frame,
    },
    NodeDeleted {
        uuid: String,
    },
    OwnersChanged {
        uuids: Vec<String>,
        owner: String,
    },
    /// Back to WAITING with an empty repository. The client version is kept: lobby clients may
    /// still be logged in (an interrupted upload), and the version only binds while the session
    /// holds clients or a scene (`Session::client_version`).
    Reset,
    /// The replication version of the clients the session holds (issue 17); `None`: unknown
    /// (an imported scene), the next client to log in fixes it.
    ClientVersion(Option<String>),
}
