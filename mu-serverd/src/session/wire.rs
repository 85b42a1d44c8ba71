//! Parsing the multipart messages peers send and building the ones the server sends, in the
//! replication 0.9.10 framing (frame 0 is `pickle.dumps(type_num, protocol=4)`).
//!
//! Incoming payload frames are kept as the original shared bytes: a relayed Node or Commit is
//! forwarded without being re-encoded or copied.

use super::codec;
use super::io::Frame;
use crate::pickle::{Limits, Value};
use std::sync::Arc;

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
        1 => "Commit",
        2 => "Node",
        3 => "Command",
        4 => "Delete",
        5 => "Right",
        6 => "Config",
        7 => "Snapshot",
        8 => "ServerSnapshot",
        9 => "Auth",
        10 => "Disconnect",
        11 => "Kick",
        12 => "UpdateClientsState",
        13 => "UpdateUserMetadata",
        14 => "RequestServerInfo",
        _ => "unknown type",
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

/// Reads frame 0. The common case (`80 04 4B nn 2E`) needs no decoder.
pub fn type_num(frame: &[u8], limits: &Limits) -> Result<i64, String> {
    if let [0x80, 0x04, 0x4b, n, 0x2e] = frame {
        return Ok(i64::from(*n));
    }
    match codec::decode(frame, limits)? {
        Value::Int(n) => Ok(n),
        other => Err(format!("type frame holds a {}", other.type_name())),
    }
}

fn utf8(frame: &[u8], what: &str) -> Result<String, String> {
    std::str::from_utf8(frame)
        .map(str::to_owned)
        .map_err(|_| format!("{what} is not UTF-8"))
}

/// Parses a whole message (identity frame already removed by the shell).
pub fn parse(frames: &[Frame], limits: &Limits) -> Result<Incoming, String> {
    let first = frames.first().ok_or("empty message")?;
    let t = type_num(first, limits)?;
    let want = match t {
        T_COMMIT => 4,
        T_NODE => 5,
        3..=14 => 3,
        _ => return Err(format!("unknown type number {t}")),
    };
    if frames.len() != want {
        return Err(format!(
            "type {t} needs {want} frames, got {}",
            frames.len()
        ));
    }
    match t {
        T_COMMIT => Ok(Incoming::Commit {
            uuid: utf8(&frames[1], "node uuid")?,
            deps: frames[2].clone(),
            delta: frames[3].clone(),
        }),
        T_NODE => Ok(Incoming::Node {
            uuid: utf8(&frames[1], "node uuid")?,
            owner: utf8(&frames[2], "node owner")?,
            deps: frames[3].clone(),
            data: frames[4].clone(),
        }),
        _ => {
            let data = codec::decode(&frames[2], limits)?;
            codec::check_plain(&data)?;
            Ok(Incoming::Command {
                type_num: t,
                owner: frames[1].clone(),
                data,
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
    Arc::from(codec::encode(&v))
}

/// `pickle.dumps(n, protocol=4)` for the small type numbers.
pub fn type_frame(t: i64) -> Frame {
    let n = u8::try_from(t).unwrap_or(0);
    Arc::from(&[0x80, 0x04, 0x4b, n, 0x2e][..])
}

/// A command message: type, owner, `pickle(data)`.
pub fn command(t: i64, owner: &str, data: &Value) -> Vec<Frame> {
    vec![
        type_frame(t),
        Arc::from(owner.as_bytes()),
        Arc::from(codec::encode(data)),
    ]
}

/// The five frames of a Node, as `Node.as_raw_chunks()`.
pub fn node_chunks(uuid: &str, owner: &str, deps: &Frame, data: &Frame) -> Vec<Value> {
    vec![
        Value::bytes(&type_frame(T_NODE)),
        Value::bytes(uuid.as_bytes()),
        Value::bytes(owner.as_bytes()),
        Value::Bytes(deps.clone()),
        Value::Bytes(data.clone()),
    ]
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
