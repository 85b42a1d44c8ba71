//! The ServerSnapshot messages of a first upload (INIT/SET/END) as the uploading client sends
//! them, and the STATE answers a client got, for the upload, ownership and quota tests.

use super::harness::*;
use crate::pickle::Value;
use crate::session::io::Action;
use crate::session::wire::sdict;

/// `{'STATE': 'INIT', 'SIZE': n, 'NODES': [...]}` (the server ignores SIZE).
pub(super) fn upload_init(uuids: &[&str]) -> Value {
    sdict(vec![
        ("STATE", s("INIT")),
        ("SIZE", Value::Int(uuids.len() as i64)),
        ("NODES", Value::list(uuids.iter().map(|u| s(u)).collect())),
    ])
}

/// `{'STATE': 'SET', 'DATA': [node frames]}` of a COMMON node without dependencies.
pub(super) fn upload_set(uuid: &str, data: &Value) -> Value {
    let chunks = node_frames(uuid, "COMMON", &[], data);
    sdict(vec![
        ("STATE", s("SET")),
        (
            "DATA",
            Value::list(chunks.iter().map(|f| Value::Bytes(f.clone())).collect()),
        ),
    ])
}

pub(super) fn upload_end() -> Value {
    sdict(vec![("STATE", s("END"))])
}

/// The STATE of every ServerSnapshot answer sent to client `to`, in order.
pub(super) fn snapshot_states(acts: &[Action], to: u8) -> Vec<String> {
    sends_to(acts, &id(to))
        .iter()
        .filter(|m| m.kind() == Some(CommandKind::ServerSnapshot))
        .map(|m| get(&m.data(), "STATE").as_str().unwrap_or("").to_owned())
        .collect()
}
