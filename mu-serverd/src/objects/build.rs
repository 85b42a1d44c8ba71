//! Building the frames the server originates (Auth replies, snapshot answers, the user list,
//! Right from `server`, Disconnect, RequestServerInfo answers, re-sent nodes).

use super::error::ObjectError;
use super::kind::{type_frame, CommandKind, T_COMMIT};
use super::parse::parse;
use super::Frame;
use crate::pickle::{self, Value};
use std::sync::Arc;

fn frame0(t: u8) -> Frame {
    Arc::from(type_frame(t).unwrap_or_default())
}

/// `[type, owner, pickle(data)]` for a command.
pub fn build_command(kind: CommandKind, owner: &str, data: &Value) -> Vec<Frame> {
    build_command_raw(kind, owner, Arc::from(pickle::encode(data)))
}

/// A command whose data pickle is already at hand (e.g. forwarded unchanged).
pub fn build_command_raw(kind: CommandKind, owner: &str, data: Frame) -> Vec<Frame> {
    vec![Arc::from(kind.frame0()), Arc::from(owner.as_bytes()), data]
}

/// `[1, uuid, pickle(deps), delta]`.
pub fn build_commit(uuid: &str, deps: Frame, delta: Frame) -> Vec<Frame> {
    vec![frame0(T_COMMIT), Arc::from(uuid.as_bytes()), deps, delta]
}

/// A node's frames as the Python `list` of `bytes` that `Snapshot`/`ServerSnapshot` carry in
/// `DATA` (what `node.as_raw_chunks()` returns).
pub fn frames_to_value(frames: &[Frame]) -> Value {
    Value::list(frames.iter().map(|f| Value::Bytes(f.clone())).collect())
}

/// The reverse of [`frames_to_value`]: the frames inside a `DATA` value, checked to be a valid
/// Node message.
pub fn value_to_frames(v: &Value) -> Result<Vec<Frame>, ObjectError> {
    let Value::List(items) = v else {
        return Err(ObjectError::NotFrames("not a list"));
    };
    let frames = items
        .iter()
        .map(|x| match x {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(ObjectError::NotFrames("an item is not bytes")),
        })
        .collect::<Result<Vec<Frame>, _>>()?;
    match parse(&frames)? {
        super::Message::Node { .. } => Ok(frames),
        _ => Err(ObjectError::NotFrames("not a Node")),
    }
}
