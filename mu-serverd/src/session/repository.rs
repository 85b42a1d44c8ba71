//! The server's copy of the scene: uuid -> node, plus the session state. Every mutation goes
//! through [`Repository::apply_change`], which the live core and the journal replay share, so a
//! replayed journal rebuilds exactly what clients saw.
//!
//! Node data is kept as the pickle bytes a client sent (shared with the frames relayed to other
//! clients). It is decoded only when a Commit must be applied; the decoded value is then cached
//! and the bytes are marked stale until someone needs them again (a join or a snapshot).

use super::codec;
use super::io::{Change, Frame, SessionState};
use super::wire;
use crate::pickle::{Limits, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Source of [`Repository::shape`] stamps: unique in the process, so a stamp never names two
/// different sets of uuids and dependencies, even across repositories.
static NEXT_SHAPE: AtomicU64 = AtomicU64::new(1);

fn new_shape() -> u64 {
    NEXT_SHAPE.fetch_add(1, Ordering::Relaxed)
}

pub const COMMON: &str = "COMMON";

/// One node as the server stores it.
#[derive(Clone, Debug)]
pub struct StoredNode {
    pub owner: String,
    deps_bytes: Frame,
    deps: Option<Vec<String>>,
    /// Empty while stale (the old bytes are released).
    data_bytes: Frame,
    /// Length of the last known data pickle (for statistics while stale).
    data_len: usize,
    /// Decoded data, present once a Commit needed it.
    value: Option<Value>,
    /// A Commit changed `value` since `data_bytes` was last encoded.
    stale: bool,
    /// Bytes of the Commits applied since the data was last encoded: until it is encoded again
    /// (10 s after its last Commit, or for a join or a snapshot) the node's growth is counted
    /// by them, so the session's byte total needs no encoding per Commit.
    commit_bytes: usize,
    /// While `value` is present: an upper bound of its encoded size kept by the Delta engine
    /// (`delta::bound`), so a Commit walks the node only when the bound nears
    /// `max_message_bytes`. `None`: unknown (the next Commit walks it once).
    len_bound: Option<usize>,
}

impl StoredNode {
    pub fn deps(&self) -> Option<&[String]> {
        self.deps.as_deref()
    }
    pub fn deps_bytes(&self) -> &Frame {
        &self.deps_bytes
    }
    pub fn is_stale(&self) -> bool {
        self.stale
    }
    /// Size of the stored pickles (as last encoded while stale).
    pub fn stored_bytes(&self) -> usize {
        self.deps_bytes.len() + self.data_len
    }
    /// What the node counts towards the session's byte total: its pickles plus the Commits
    /// applied since they were last encoded.
    pub fn accounted_bytes(&self) -> u64 {
        (self.stored_bytes() + self.commit_bytes) as u64
    }
}

/// A node as exported to persistence and joins: current pickle bytes.
pub struct NodeView<'a> {
    pub uuid: &'a str,
    pub owner: &'a str,
    pub deps: Frame,
    pub data: Frame,
}

/// Why a change could not be applied. Nothing was modified when this is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    UnknownNode(String),
    BadDeps(String),
    BadData(String),
    BadDelta(String),
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::UnknownNode(u) => write!(f, "unknown node {u}"),
            ApplyError::BadDeps(e) => write!(f, "bad dependencies: {e}"),
            ApplyError::BadData(e) => write!(f, "bad node data: {e}"),
            ApplyError::BadDelta(e) => write!(f, "delta refused: {e}"),
        }
    }
}

impl std::error::Error for ApplyError {}

#[derive(Clone, Debug)]
pub struct Repository {
    state: SessionState,
    nodes: BTreeMap<String, StoredNode>,
    limits: Limits,
    /// The replication version of the clients that made this scene (see `Change::ClientVersion`).
    client_version: Option<String>,
    /// Sum of every node's [`StoredNode::accounted_bytes`], kept up to date by each change.
    bytes: u64,
    /// Changes whenever the uuids or a node's dependencies change (see [`Repository::shape`]).
    shape: u64,
}

impl Repository {
    pub fn new(limits: Limits) -> Self {
        Repository {
            state: SessionState::Waiting,
            nodes: BTreeMap::new(),
            limits,
            client_version: None,
            bytes: 0,
            shape: new_shape(),
        }
    }

    /// A stamp of the set of uuids and every node's dependencies: equal stamps mean the INIT
    /// catalog (and its order, [`super::catalog`]) is the same. Node data, owners and the state
    /// do not change it.
    pub fn shape(&self) -> u64 {
        self.shape
    }

    /// The replication version recorded for this scene, if any. Whether it binds new logins
    /// is the session's decision (`Session::client_version`).
    pub fn client_version(&self) -> Option<&str> {
        self.client_version.as_deref()
    }

    pub fn state(&self) -> SessionState {
        self.state
    }
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    pub fn get(&self, uuid: &str) -> Option<&StoredNode> {
        self.nodes.get(uuid)
    }
    /// The stored key and node of `uuid` (the key lives as long as the repository borrow).
    pub fn get_key_value(&self, uuid: &str) -> Option<(&str, &StoredNode)> {
        self.nodes.get_key_value(uuid).map(|(k, n)| (k.as_str(), n))
    }
    pub fn uuids(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }
    /// Sum of the stored pickle sizes, plus the bytes of the Commits applied since a node was
    /// last encoded (see [`StoredNode::accounted_bytes`]). Constant time.
    pub fn stored_bytes(&self) -> u64 {
        self.bytes
    }

    /// Moves the byte total from a node's old accounted size to its new one.
    fn recount(&mut self, before: u64, after: u64) {
        self.bytes = (self.bytes + after).saturating_sub(before);
    }
    /// (uuid, owner) of every node, in catalog order, without touching the data.
    pub fn owners(&self) -> impl Iterator<Item = (&str, &str)> {
        self.nodes
            .iter()
            .map(|(u, n)| (u.as_str(), n.owner.as_str()))
    }

    /// Nodes owned by `owner`, in catalog order.
    pub fn owned_by(&self, owner: &str) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.owner == owner)
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// The current data bytes of a node, re-encoding (and caching) them if a Commit made the
    /// stored bytes stale.
    pub fn fresh_data(&mut self, uuid: &str) -> Option<Frame> {
        let node = self.nodes.get_mut(uuid)?;
        if !node.stale {
            return Some(node.data_bytes.clone());
        }
        let before = node.accounted_bytes();
        if let Some(v) = &node.value {
            node.data_bytes = Arc::from(codec::encode(v));
            node.data_len = node.data_bytes.len();
        }
        node.stale = false;
        node.commit_bytes = 0;
        let (after, data) = (node.accounted_bytes(), node.data_bytes.clone());
        self.recount(before, after);
        Some(data)
    }

    /// Brings a node back to its compact form: current pickle bytes only, the decoded value
    /// dropped (it is decoded again by the next Commit). For nodes no longer being edited.
    pub fn settle(&mut self, uuid: &str) {
        self.fresh_data(uuid);
        if let Some(node) = self.nodes.get_mut(uuid) {
            node.value = None;
        }
    }

    /// [`Repository::settle`] for every node (after a journal replay).
    pub fn settle_all(&mut self) {
        self.refresh();
        for node in self.nodes.values_mut() {
            node.value = None;
        }
    }

    /// Whether a node currently holds a decoded value (tests and statistics).
    pub fn is_decoded(&self, uuid: &str) -> bool {
        self.nodes.get(uuid).is_some_and(|n| n.value.is_some())
    }

    /// Re-encodes every stale node (before a snapshot is written).
    pub fn refresh(&mut self) {
        let stale: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.stale)
            .map(|(u, _)| u.clone())
            .collect();
        for u in stale {
            self.fresh_data(&u);
        }
    }

    /// Every node with current bytes. Stale nodes are encoded on the fly (not cached; call
    /// [`Repository::refresh`] first to cache them).
    pub fn iter(&self) -> impl Iterator<Item = NodeView<'_>> {
        self.nodes.iter().map(|(uuid, n)| NodeView {
            uuid,
            owner: &n.owner,
            deps: n.deps_bytes.clone(),
            data: match (&n.value, n.stale) {
                (Some(v), true) => Arc::from(codec::encode(v)),
                _ => n.data_bytes.clone(),
            },
        })
    }

    /// Applies one change. Live changes are validated by the core before; on replay a change
    /// that fails is reported and skipped by the caller. Nothing changes on error.
    pub fn apply_change(&mut self, change: &Change) -> Result<(), ApplyError> {
        match change {
            Change::State(s) => self.state = *s,
            Change::Reset => {
                self.nodes.clear();
                self.bytes = 0;
                self.shape = new_shape();
                self.state = SessionState::Waiting;
            }
            Change::NodeStored {
                uuid,
                owner,
                deps,
                data,
            } => {
                if let Some(n) = self.nodes.get_mut(uuid.as_str()) {
                    let before = n.accounted_bytes();
                    // An update (every relayed Node after the first): the key stays, and the
                    // dependencies are parsed again only when their bytes changed (`deps` is
                    // always what `deps_bytes` parses to).
                    if n.deps_bytes[..] != deps[..] {
                        n.deps =
                            wire::parse_deps(deps, &self.limits).map_err(ApplyError::BadDeps)?;
                        n.deps_bytes = deps.clone();
                        self.shape = new_shape();
                    }
                    if n.owner != *owner {
                        n.owner.clone_from(owner);
                    }
                    n.data_bytes = data.clone();
                    n.data_len = data.len();
                    n.value = None;
                    n.stale = false;
                    n.commit_bytes = 0;
                    let after = n.accounted_bytes();
                    self.recount(before, after);
                    return Ok(());
                }
                let dep_list = wire::parse_deps(deps, &self.limits).map_err(ApplyError::BadDeps)?;
                self.nodes.insert(
                    uuid.clone(),
                    StoredNode {
                        owner: owner.clone(),
                        deps_bytes: deps.clone(),
                        deps: dep_list,
                        data_bytes: data.clone(),
                        data_len: data.len(),
                        value: None,
                        stale: false,
                        commit_bytes: 0,
                        len_bound: None,
                    },
                );
                self.bytes += (deps.len() + data.len()) as u64;
                self.shape = new_shape();
            }
            Change::CommitApplied { uuid, deps, delta } => {
                self.apply_commit(uuid, deps, delta)?;
            }
            Change::NodeDeleted { uuid } => self.delete(uuid),
            Change::ClientVersion(v) => self.client_version.clone_from(v),
            Change::OwnersChanged { uuids, owner } => {
                for u in uuids {
                    if let Some(n) = self.nodes.get_mut(u) {
                        n.owner.clone_from(owner);
                    }
                }
            }
        }
        Ok(())
    }

    fn apply_commit(&mut self, uuid: &str, deps: &Frame, delta: &[u8]) -> Result<(), ApplyError> {
        let limits = self.limits;
        let node = self
            .nodes
            .get_mut(uuid)
            .ok_or_else(|| ApplyError::UnknownNode(uuid.to_owned()))?;
        let dep_list = wire::parse_deps(deps, &limits).map_err(ApplyError::BadDeps)?;
        // The value is edited in place: it is the only holder of its containers (encoding and
        // export borrow it), so nothing is copied. A delta that fails gives it back unchanged;
        // a value decoded just for this Commit is then dropped again, as if never decoded.
        let (mut value, was_decoded) = match node.value.take() {
            Some(v) => (v, true),
            None => (
                codec::decode(&node.data_bytes, &limits).map_err(ApplyError::BadData)?,
                false,
            ),
        };
        // The bound describes the kept value only; a value decoded now has none yet.
        let mut bound = if was_decoded { node.len_bound } else { None };
        let applied = crate::delta::apply_bytes_bounded(
            &mut value,
            delta,
            node.data_len,
            &limits,
            &mut bound,
        );
        node.len_bound = if was_decoded || applied.is_ok() {
            bound
        } else {
            None
        };
        if let Err(e) = applied {
            if was_decoded {
                node.value = Some(value);
            }
            return Err(ApplyError::BadDelta(e.to_string()));
        }
        if node.deps_bytes[..] != deps[..] {
            self.shape = new_shape();
        }
        let before = node.accounted_bytes();
        node.value = Some(value);
        node.stale = true;
        node.data_bytes = Arc::from(&[][..]);
        node.deps = dep_list;
        node.deps_bytes = deps.clone();
        node.commit_bytes += delta.len();
        let after = node.accounted_bytes();
        self.recount(before, after);
        Ok(())
    }

    /// `Delete.execute`: drop the uuid from every node's dependencies (first occurrence, as
    /// Python's `list.remove`), then the node itself. Unknown uuids change nothing.
    fn delete(&mut self, uuid: &str) {
        if !self.nodes.contains_key(uuid) {
            return;
        }
        self.shape = new_shape();
        let (mut before, mut after) = (0, 0);
        for node in self.nodes.values_mut() {
            let pos = node
                .deps
                .as_ref()
                .and_then(|l| l.iter().position(|d| d == uuid));
            if let Some(pos) = pos {
                before += node.accounted_bytes();
                if let Some(list) = &mut node.deps {
                    list.remove(pos);
                }
                node.deps_bytes = crate::objects::write_deps(&node.deps);
                after += node.accounted_bytes();
            }
        }
        if let Some(gone) = self.nodes.remove(uuid) {
            before += gone.accounted_bytes();
        }
        self.recount(before, after);
    }
}

#[cfg(test)]
#[path = "repository_tests.rs"]
mod tests;
