//! Whole-message policy: what the server must verify before it stores or forwards a message
//! (difference 2 of PROTOCOL.md). Node data, dependencies and command data must be plain; a
//! Commit's Delta may also use deepdiff's own names; the node frames a Snapshot or
//! ServerSnapshot carries in `DATA` are checked like a Node.

use super::error::ObjectError;
use super::parse::{parse, Message};
use super::{value_to_frames, CommandKind};
use crate::pickle::{self, CheckError, Limits, Value};

fn plain(bytes: &[u8], limits: &Limits) -> Result<(), ObjectError> {
    pickle::check_plain_bytes(bytes, limits).map_err(ObjectError::from)
}

impl Message {
    /// Checks every pickle of the message against its policy, without keeping any value.
    pub fn check(&self, limits: &Limits) -> Result<(), ObjectError> {
        match self {
            Message::Node { deps, data, .. } => {
                plain(deps, limits)?;
                plain(data, limits)
            }
            Message::Commit { deps, delta, .. } => {
                plain(deps, limits)?;
                let d = pickle::decode(delta, limits)?;
                pickle::check_delta(&d).map_err(|e| ObjectError::from(CheckError::Policy(e)))
            }
            Message::Command { kind, data, .. } => {
                if !matches!(kind, CommandKind::Snapshot | CommandKind::ServerSnapshot) {
                    return plain(data, limits);
                }
                let v = pickle::decode_plain(data, limits)?;
                match v.get_str_key("DATA") {
                    // A node's frames (bytes `b'removed'` when the node is gone).
                    Some(inner @ Value::List(_)) => parse(&value_to_frames(inner)?)?.check(limits),
                    _ => Ok(()),
                }
            }
        }
    }
}
