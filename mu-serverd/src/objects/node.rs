//! The node shape {uuid, owner, deps, data} as the wire carries it: what a type-2 message holds,
//! what a ServerSnapshot SET's `DATA` holds, what the server re-sends. The pickles stay the
//! bytes they came as; [`Node::frames`] writes the message back ([`build_node`]).

use super::kind::{type_frame, T_NODE};
use super::Frame;
use std::sync::Arc;

/// `[2, uuid, owner, pickle(deps), pickle(data)]`: the one writer of a Node message.
pub fn build_node(uuid: &str, owner: &str, deps: Frame, data: Frame) -> Vec<Frame> {
    vec![
        Arc::from(type_frame(T_NODE).unwrap_or_default()),
        Arc::from(uuid.as_bytes()),
        Arc::from(owner.as_bytes()),
        deps,
        data,
    ]
}

/// One node: its uuid and owner (UTF-8 text) and its two pickles, untouched.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub uuid: String,
    pub owner: String,
    /// `pickle(dependencies)`: a list of uuids or `None`.
    pub deps: Frame,
    /// `pickle(data)`: the node's plain data.
    pub data: Frame,
}

impl Node {
    /// `[2, uuid, owner, pickle(deps), pickle(data)]`, the frames a client sends and receives.
    pub fn frames(&self) -> Vec<Frame> {
        build_node(
            &self.uuid,
            &self.owner,
            self.deps.clone(),
            self.data.clone(),
        )
    }
}
