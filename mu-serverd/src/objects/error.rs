//! Why a multipart message is not a replication object.

use super::deps::DepsError;
use crate::delta::DeltaError;
use crate::pickle::{CheckError, DecodeError, PolicyError};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectError {
    /// No frames at all.
    Empty,
    /// Frame 0 is not a pickle of an int.
    BadTypeFrame(String),
    /// Frame 0 holds an int outside 1..=14.
    UnknownType(i64),
    /// The frame count does not match the type.
    FrameCount {
        type_num: u8,
        expected: usize,
        got: usize,
    },
    /// A uuid or owner frame is not UTF-8 (`bytes.decode()` would raise in Python).
    NotUtf8 { field: &'static str },
    /// A payload frame (or a `DATA` list of node frames) could not be decoded.
    Payload(DecodeError),
    /// A value that should be a list of node frames is something else.
    NotFrames(&'static str),
    /// A payload decodes but its policy refuses it (the plain-data checks of `objects/check.rs`).
    Refused(PolicyError),
    /// Dependencies that are neither `None` nor a list of uuid strings ([`super::read_deps`]).
    Deps(DepsError),
    /// A Commit's Delta refused by [`Delta::from_bytes`](crate::delta::Delta::from_bytes).
    Delta(DeltaError),
    /// The frames inside a Snapshot or ServerSnapshot `DATA` are not a Node.
    NotANode(u8),
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectError::Empty => write!(f, "empty message"),
            ObjectError::BadTypeFrame(why) => write!(f, "type frame is not a pickled int: {why}"),
            ObjectError::UnknownType(t) => write!(f, "unknown type number {t}"),
            ObjectError::FrameCount {
                type_num,
                expected,
                got,
            } => {
                write!(f, "type {type_num} needs {expected} frames, got {got}")
            }
            ObjectError::NotUtf8 { field } => write!(f, "{field} is not UTF-8"),
            ObjectError::Payload(e) => write!(f, "payload: {e}"),
            ObjectError::NotFrames(why) => write!(f, "not a list of node frames: {why}"),
            ObjectError::Refused(e) => write!(f, "payload {e}"),
            ObjectError::Deps(e) => e.fmt(f),
            ObjectError::Delta(e) => e.fmt(f),
            ObjectError::NotANode(t) => write!(f, "DATA is a message of type {t}, not a Node"),
        }
    }
}

impl std::error::Error for ObjectError {}

impl From<CheckError> for ObjectError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Decode(d) => ObjectError::Payload(d),
            CheckError::Policy(p) => ObjectError::Refused(p),
        }
    }
}

impl From<DecodeError> for ObjectError {
    fn from(e: DecodeError) -> Self {
        ObjectError::Payload(e)
    }
}
