//! The session's view of the replication 0.9.10 framing, on top of [`crate::objects`]: parsing
//! what peers send (command data decoded and checked to be plain data, node and delta payloads
//! kept as the peer's shared bytes) and building what the server sends.

use super::codec;
use super::io::Frame;
use crate::objects::{self, CommandKind, Message};
use crate::pickle::{Limits, Value};

pub const T_COMMIT: i64 = 1;
pub const T_NODE: i64 = 2;
pub const T_DELETE: i64 = 4;
pub const T_RIGHT: i64 = 5;
pub const T_SNAPSHOT: i64 = 7;
pub const T_SERVER_SNAPSHOT: i64 = 8;
pub const T_AUTH: i64 = 9;
pub const T_DISCONNECT: i64 = 10;
pub const T_KICK: i64 = 11;
pub const T_CLIENTS_STATE: i64 = 12;
pub const T_USER_METADATA: i64 = 13;
pub const T_SERVER_INFO: i64 = 14;

/// The class name of a type number, for log lines.
pub fn type_name(t: i64) -> &'static str {
    match t {
        T_COMMIT => "Commit",
        T_NODE => "Node",
        _ => CommandKind::from_num(t).map_or("unknown type", CommandKind::name),
    }
}

/// A parsed message from a peer. Frames are the peer's own bytes.
pub enum Incoming {
    Commit {
        uuid: String,
        deps: Frame,
        delta: Frame,
    },
    Node {
        uuid: String,
        owner: String,
        deps: Frame,
        data: Frame,
    },
    /// Types 3..=14: `data` is decoded and known to be plain.
    Command {
        type_num: i64,
        owner: Frame,
        data: Value,
    },
}

/// Reads frame 0 (a known type number 1..=14).
pub fn type_num(frame: &[u8]) -> Result<i64, String> {
    objects::parse_type(frame)
        .map(i64::from)
        .map_err(|e| e.to_string())
}

/// Parses a whole message (identity frame already removed by the shell).
pub fn parse(frames: &[Frame], limits: &Limits) -> Result<Incoming, String> {
    match objects::parse(frames).map_err(|e| e.to_string())? {
        Message::Commit { uuid, deps, delta } => Ok(Incoming::Commit { uuid, deps, delta }),
        Message::Node {
            uuid,
            owner,
            deps,
            data,
        } => Ok(Incoming::Node {
            uuid,
            owner,
            deps,
            data,
        }),
        Message::Command { kind, data, .. } => {
            let value = codec::decode(&data, limits)?;
            codec::check_plain(&value)?;
            Ok(Incoming::Command {
                type_num: i64::from(kind.num()),
                owner: frames[1].clone(),
                data: value,
            })
        }
    }
}

/// Dependencies as the client sends them: `None` or a list of uuid strings. Anything else is
/// refused (a real client never sends it, and clients iterate over it).
pub fn parse_deps(bytes: &[u8], limits: &Limits) -> Result<Option<Vec<String>>, String> {
    match codec::decode(bytes, limits)? {
        Value::None => Ok(None),
        Value::List(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("dependency is a {}", v.type_name()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(format!("dependencies are a {}", other.type_name())),
    }
}

pub fn encode_deps(deps: &Option<Vec<String>>) -> Frame {
    let v = match deps {
        None => Value::None,
        Some(list) => Value::list(list.iter().map(|s| Value::str(s)).collect()),
    };
    Frame::from(codec::encode(&v))
}

/// A command message the server originates: type, owner, `pickle(data)`.
pub fn command(t: i64, owner: &str, data: &Value) -> Vec<Frame> {
    match CommandKind::from_num(t) {
        Some(kind) => objects::build_command(kind, owner, data),
        // only called with the constants above
        None => Vec::new(),
    }
}

/// `Node.as_raw_chunks()` as the list of bytes a Snapshot `DATA` carries.
pub fn node_chunks(uuid: &str, owner: &str, deps: &Frame, data: &Frame) -> Value {
    objects::frames_to_value(&objects::build_node(
        uuid,
        owner,
        deps.clone(),
        data.clone(),
    ))
}

/// `{k: v, ...}` with string keys.
pub fn sdict(items: Vec<(&str, Value)>) -> Value {
    Value::dict(items.into_iter().map(|(k, v)| (Value::str(k), v)).collect())
}

/// What Python's `str(value)` shows for the simple values a client may send (used in the
/// version refusal message, which quotes what the client sent).
pub fn py_str(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => format!("<{}>", other.type_name()),
    }
}

/// A peer identity for logs: the UUID form for the 16-byte identities clients use, hex otherwise.
pub fn peer_name(id: &[u8]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    if id.len() == 16 {
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    } else {
        format!("0x{hex}")
    }
}
