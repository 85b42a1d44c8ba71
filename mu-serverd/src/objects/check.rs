//! The policy on a peer's payloads (difference 2 of PROTOCOL.md), one function per decision, and
//! the one the server runs: the session calls these, and [`Message::check`] (a whole message at
//! once, for tests, fuzz targets and tools) is made of the same calls, so a test of either tests
//! what production does.
//!
//! | payload | decided by | production caller |
//! |---|---|---|
//! | Node data | [`check_node_data`] (plain, on the bytes) | relay (`session/relay.rs`), via [`node_frames`] an upload's SET, `mu-ctl import` (`store/import.rs`) |
//! | Node/Commit dependencies | [`read_deps`](super::read_deps) | `session/repository.rs`, `store/import.rs` |
//! | command data | [`command_data`] (decoded, plain) | `Session::handle_frame` (`session/mod.rs`) |
//! | a node inside a Snapshot/ServerSnapshot `DATA` | [`node_frames`] | upload (`session/upload.rs`) |
//! | a Commit's Delta | [`Delta::from_bytes`] (decode, `check_delta`, parse) | `delta::apply_bytes`, from `session/repository.rs` |
//!
//! `tests/lint/entry_points.py` fails when `session/` or `shell/` decide any of these another way.

use super::error::ObjectError;
use super::parse::{parse, Message};
use super::{read_deps, read_snapshot_get, value_to_frames, CommandKind, Node};
use crate::delta::Delta;
use crate::pickle::{self, Limits, Value};

/// Node data: plain data only, checked on the bytes without building the value (the relay's
/// hot path; `pickle::check_plain_bytes` gives exactly the verdict of decode + `check_plain`).
pub fn check_node_data(data: &[u8], limits: &Limits) -> Result<(), ObjectError> {
    pickle::check_plain_bytes(data, limits).map_err(ObjectError::from)
}

/// The data of a command a peer sent, decoded and checked to be plain data. A join's
/// `Snapshot` GETs, one per node, skip the general decoder when they are in CPython's exact
/// bytes ([`read_snapshot_get`], which only ever returns plain data).
pub fn command_data(kind: CommandKind, data: &[u8], limits: &Limits) -> Result<Value, ObjectError> {
    if kind == CommandKind::Snapshot {
        if let Some(v) = read_snapshot_get(data, limits) {
            return Ok(v);
        }
    }
    Ok(pickle::decode_plain(data, limits)?)
}

/// Reads the frames of a node carried as `Node.as_raw_chunks()` (the `DATA` of a
/// ServerSnapshot or Snapshot SET) and checks its dependencies and data like a Node on the data
/// channel.
pub fn node_frames(chunks: &Value, limits: &Limits) -> Result<Node, ObjectError> {
    match parse(&value_to_frames(chunks)?)? {
        Message::Node(node) => {
            read_deps(&node.deps, limits).map_err(ObjectError::Deps)?;
            check_node_data(&node.data, limits)?;
            Ok(node)
        }
        other => Err(ObjectError::NotANode(other.type_num())),
    }
}

impl Message {
    /// Checks every payload of the message with the functions above, as the server does,
    /// without keeping any value.
    pub fn check(&self, limits: &Limits) -> Result<(), ObjectError> {
        match self {
            Message::Node(Node { deps, data, .. }) => {
                read_deps(deps, limits).map_err(ObjectError::Deps)?;
                check_node_data(data, limits)
            }
            Message::Commit { deps, delta, .. } => {
                read_deps(deps, limits).map_err(ObjectError::Deps)?;
                Delta::from_bytes(delta, limits).map_err(ObjectError::Delta)?;
                Ok(())
            }
            Message::Command { kind, data, .. } => {
                let v = command_data(*kind, data, limits)?;
                if !matches!(kind, CommandKind::Snapshot | CommandKind::ServerSnapshot) {
                    return Ok(());
                }
                match v.get_str_key("DATA") {
                    // A node's frames (bytes `b'removed'` when the node is gone).
                    Some(inner @ Value::List(_)) => node_frames(inner, limits).map(drop),
                    _ => Ok(()),
                }
            }
        }
    }
}
