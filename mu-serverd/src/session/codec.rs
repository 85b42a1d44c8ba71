//! The only place where the session core calls the pickle codec, its policy and the Delta
//! engine, so their exact signatures stay out of the protocol logic. Errors become strings here
//! because the core only logs them (the peer gets no detail).

use crate::pickle::{Limits, Value};

/// Decodes a pickle into an inert value (difference 1: nothing is constructed or called).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, String> {
    crate::pickle::decode(bytes, limits).map_err(|e| e.to_string())
}

/// Encodes a value as protocol 4, as CPython would.
pub fn encode(value: &Value) -> Vec<u8> {
    crate::pickle::encode(value)
}

/// Difference 2: plain data only (no globals, no reduce/build).
pub fn check_plain(value: &Value) -> Result<(), String> {
    crate::pickle::policy::check_plain(value).map_err(|e| e.to_string())
}

/// Difference 2 on the relay path, without building the value.
pub fn check_plain_bytes(bytes: &[u8], limits: &Limits) -> Result<(), String> {
    crate::pickle::check_plain_bytes(bytes, limits).map_err(|e| e.to_string())
}

/// Applies a deepdiff Delta (its `dumps()` bytes) to a node value in place, returning the
/// problems deepdiff would log and skip. The delta may name only deepdiff's own globals
/// (difference 2). On error `data` is exactly as it was (the delta is decoded and parsed before
/// anything is touched; writes of a delta that fails halfway are undone).
///
/// Every walk over the values is charged to a work meter granted for the delta's bytes plus
/// `node_bytes`, the encoded size of the node it edits (`pickle::budget`); a delta that spends
/// it is refused (difference 14).
pub fn apply_delta(
    data: &mut Value,
    delta: &[u8],
    node_bytes: usize,
    limits: &Limits,
) -> Result<Vec<String>, String> {
    let _meter = crate::pickle::budget::scope(delta.len() + node_bytes, limits.max_input);
    let v = decode(delta, limits)?;
    crate::pickle::check_delta(&v).map_err(|e| e.to_string())?;
    let delta = crate::delta::Delta::from_value(&v).map_err(|e| e.to_string())?;
    delta.apply_in_place(data).map_err(|e| e.to_string())
}
