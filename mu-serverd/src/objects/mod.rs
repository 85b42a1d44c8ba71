//! The replication 0.9.10 wire objects: parse and build the multipart frames of types 1-14.
//!
//! A message is a list of frames; frame 0 is `pickle.dumps(type_num, protocol=4)`:
//! - 1 Commit: node uuid (UTF-8), `pickle(dependencies)`, deepdiff `Delta.dumps()`;
//! - 2 Node: uuid, owner (UTF-8), `pickle(dependencies)`, `pickle(data)`;
//! - 3..=14 commands ([`CommandKind`]): owner (UTF-8), `pickle(data)`.
//!
//! API summary:
//! - [`parse`]`(&[Frame]) -> Result<Message, ObjectError>` keeps every payload as the peer's
//!   original shared bytes (the server forwards them unchanged); a payload is decoded only by
//!   the policy functions below.
//! - Builders for frames the server originates: [`build_command`], [`build_command_raw`],
//!   [`build_node`], [`build_commit`]; [`type_frame`] gives the precomputed frame 0.
//! - [`build_snapshot_set`]: the Snapshot `SET` reply of a join, written directly around a
//!   node's frames (no `Value` tree per GET).
//! - [`frames_to_value`] / [`value_to_frames`]: a node's frames as the Python `list` of `bytes`
//!   that Snapshot and ServerSnapshot carry in `DATA`.
//! - Readers of payloads the relay and a join meet on every message, without the general
//!   decoder where CPython's exact bytes allow: [`read_deps`] (and its writer [`write_deps`]),
//!   [`read_snapshot_get`] (a join's per-node GET).
//! - The policy on a peer's payloads, one function per decision, the same ones the session calls
//!   (`objects/check.rs` has the map): [`check_node_data`], [`command_data`], [`node_frames`] (a node
//!   inside a Snapshot/ServerSnapshot `DATA`), [`read_deps`]; a Commit's Delta goes through
//!   [`Delta::from_bytes`](crate::delta::Delta::from_bytes). [`Message::check`] runs them on a
//!   whole message.
//!
//! Frames are `Arc<[u8]>`, the same type as `session::io::Frame`.

mod build;
mod check;
mod deps;
mod error;
mod kind;
mod node;
mod parse;
mod snapshot;
mod snapshot_get;

pub use build::{build_command, build_command_raw, build_commit, frames_to_value, value_to_frames};
pub use check::{check_node_data, command_data, node_frames};
pub use deps::{read_deps, write_deps, DepsError};
pub use error::ObjectError;
pub use kind::{type_frame, type_name, CommandKind, T_COMMIT, T_NODE};
pub use node::{build_node, Node};
pub use parse::{parse, parse_type, Message};
pub use snapshot::{
    build_snapshot_init, build_snapshot_set, snapshot_init_pickle, snapshot_set_pickle,
};
pub use snapshot_get::read_snapshot_get;

/// One ZeroMQ frame (same type as `session::io::Frame`).
pub type Frame = std::sync::Arc<[u8]>;

#[cfg(test)]
mod tests;
