//! Parsing a peer's multipart message. Payloads stay the peer's bytes; nothing is decoded that
//! the caller did not ask for.

use super::error::ObjectError;
use super::kind::{CommandKind, T_COMMIT, T_NODE};
use super::node::Node;
use super::Frame;
use crate::pickle::{self, Limits, Value};

/// A parsed replication object.
#[derive(Clone, Debug)]
pub enum Message {
    /// Type 1: a deepdiff Delta for node `uuid`.
    Commit {
        uuid: String,
        deps: Frame,
        delta: Frame,
    },
    /// Type 2: a whole node.
    Node(Node),
    /// Types 3..=14.
    Command {
        kind: CommandKind,
        owner: String,
        data: Frame,
    },
}

/// Limits for frame 0, which CPython writes in 5 bytes.
const TYPE_LIMITS: Limits = Limits {
    max_input: 64,
    max_depth: 1,
    max_items: 8,
    max_memo: 8,
};

/// Reads frame 0: the common `80 04 4B nn 2E` without the decoder, anything else through it.
pub fn parse_type(frame: &[u8]) -> Result<u8, ObjectError> {
    let n = match frame {
        [0x80, 0x04, 0x4b, n, 0x2e] => i64::from(*n),
        _ => match pickle::decode(frame, &TYPE_LIMITS) {
            Ok(Value::Int(n)) => n,
            Ok(other) => {
                return Err(ObjectError::BadTypeFrame(format!(
                    "it holds a {}",
                    other.type_name()
                )))
            }
            Err(e) => return Err(ObjectError::BadTypeFrame(e.to_string())),
        },
    };
    match u8::try_from(n) {
        Ok(t @ 1..=14) => Ok(t),
        _ => Err(ObjectError::UnknownType(n)),
    }
}

fn utf8(frame: &[u8], field: &'static str) -> Result<String, ObjectError> {
    std::str::from_utf8(frame)
        .map(str::to_owned)
        .map_err(|_| ObjectError::NotUtf8 { field })
}

/// Parses a message (the ROUTER identity frame already removed).
pub fn parse(frames: &[Frame]) -> Result<Message, ObjectError> {
    let first = frames.first().ok_or(ObjectError::Empty)?;
    let t = parse_type(first)?;
    let expected = match t {
        T_COMMIT => 4,
        T_NODE => 5,
        _ => 3,
    };
    if frames.len() != expected {
        return Err(ObjectError::FrameCount {
            type_num: t,
            expected,
            got: frames.len(),
        });
    }
    Ok(match t {
        T_COMMIT => Message::Commit {
            uuid: utf8(&frames[1], "node uuid")?,
            deps: frames[2].clone(),
            delta: frames[3].clone(),
        },
        T_NODE => Message::Node(Node {
            uuid: utf8(&frames[1], "node uuid")?,
            owner: utf8(&frames[2], "owner")?,
            deps: frames[3].clone(),
            data: frames[4].clone(),
        }),
        _ => Message::Command {
            kind: CommandKind::from_num(i64::from(t))
                .ok_or(ObjectError::UnknownType(i64::from(t)))?,
            owner: utf8(&frames[1], "owner")?,
            data: frames[2].clone(),
        },
    })
}

impl Message {
    pub fn type_num(&self) -> u8 {
        match self {
            Message::Commit { .. } => T_COMMIT,
            Message::Node { .. } => T_NODE,
            Message::Command { kind, .. } => kind.num(),
        }
    }
}
