//! The session's contact with the pickle codec for bytes it already trusts: it encodes the
//! values it builds, and decodes a node's stored data (bytes that passed the node-data policy
//! when they arrived) before a Commit edits it. Every decision on a peer's bytes (plain data,
//! allowed Delta) is made elsewhere, by the functions tests and fuzz targets call too:
//! `objects::{check_node_data, command_data, node_frames, read_deps}` and
//! `delta::apply_bytes` (see `objects/check.rs`). Errors become strings here because the core
//! only logs them (the peer gets no detail).

use crate::pickle::{Limits, Value};

/// Decodes stored node data into an inert value (difference 1: nothing is constructed or
/// called).
pub(crate) fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, String> {
    crate::pickle::decode(bytes, limits).map_err(|e| e.to_string())
}

/// Encodes a value as protocol 4, as CPython would.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    crate::pickle::encode(value)
}
