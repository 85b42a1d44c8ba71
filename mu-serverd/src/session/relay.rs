//! The data channel: a Node (full update) or a Commit (deepdiff Delta) from a logged-in client is
//! checked, stored, journaled and forwarded as the same shared frames to every other logged-in
//! client, whatever their status (joining clients queue them).

use super::io::{Change, Channel, Frame, Identity, Millis};
use super::Session;
use crate::objects::{self, Message};
use log::Level;

/// How long a node keeps its decoded value after its last Commit.
pub(super) const SETTLE_AFTER_MS: Millis = 10_000;

impl Session {
    /// `logged_in`: `from` is a client (looked up once by `handle_frame`).
    pub(super) fn on_data(&mut self, from: &Identity, frames: Vec<Frame>, logged_in: bool) {
        if !logged_in {
            let who = self.who(from);
            self.refuse(from, format!("data from {who} dropped: not logged in"));
            return;
        }
        let parsed = match objects::parse(&frames) {
            Ok(p) => p,
            Err(e) => return self.refuse_data(from, &e.to_string()),
        };
        let change = match parsed {
            Message::Node(objects::Node {
                uuid,
                owner,
                deps,
                data,
            }) => {
                // An update keeps the stored owner; a new node takes the one it carries.
                let (owner, old) = match self.repo.get(&uuid) {
                    Some(n) if !self.may_modify(from, &n.owner) => {
                        let msg = format!("node {uuid} is owned by {}", n.owner);
                        return self.refuse_data(from, &msg);
                    }
                    Some(n) => (n.owner.clone(), Some(n.accounted_bytes())),
                    None => (owner, None),
                };
                if let Err(e) = self.room_for_node(old, (deps.len() + data.len()) as u64) {
                    return self.refuse_data(from, &format!("node {uuid}: {e}"));
                }
                // the costly check last, once the cheap ones passed
                if let Err(e) = objects::check_node_data(&data, &self.cfg.limits) {
                    return self.refuse_data(from, &format!("node {uuid}: {e}"));
                }
                Change::NodeStored {
                    uuid,
                    owner,
                    deps,
                    data,
                }
            }
            Message::Commit { uuid, deps, delta } => {
                match self.repo.get(&uuid) {
                    None => {
                        return self.refuse_data(from, &format!("commit on unknown node {uuid}"))
                    }
                    Some(n) if !self.may_modify(from, &n.owner) => {
                        let msg = format!("commit on node {uuid} owned by {}", n.owner);
                        return self.refuse_data(from, &msg);
                    }
                    Some(n) => {
                        let held = n.accounted_bytes();
                        let grown = held + (deps.len() + delta.len()) as u64;
                        if let Err(e) = self.room_for_node(Some(held), grown) {
                            return self.refuse_data(from, &format!("commit on node {uuid}: {e}"));
                        }
                    }
                }
                Change::CommitApplied { uuid, deps, delta }
            }
            Message::Command { kind, .. } => {
                let t = kind.num();
                return self.refuse_data(from, &format!("command type {t} on the data channel"));
            }
        };
        // The node's decoded value is kept after a Commit and dropped by a full update. (A
        // lookup hashes the uuid even in an empty map: most sessions have no node being
        // committed to.)
        let decoded = match &change {
            Change::CommitApplied { uuid, .. } => Some((true, uuid.clone())),
            Change::NodeStored { uuid, .. } if !self.decoded.is_empty() => {
                Some((false, uuid.clone()))
            }
            _ => None,
        };
        self.attribute(Some(from));
        if let Err(e) = self.try_change(change) {
            return self.refuse_data(from, &e.to_string());
        }
        match decoded {
            Some((true, uuid)) => {
                self.decoded.insert(uuid, self.now);
            }
            Some((false, uuid)) => {
                self.decoded.remove(&uuid);
            }
            None => {}
        }
        self.broadcast(Channel::Data, &frames, Some(from));
    }

    /// Nodes nobody committed to for [`SETTLE_AFTER_MS`] go back to their compact form (pickle
    /// bytes only), so an idle session's memory stays close to the size of its pickles while
    /// nodes being edited keep their decoded value between Commits.
    pub(super) fn settle_idle(&mut self, now: Millis) {
        let idle: Vec<String> = self
            .decoded
            .iter()
            .filter(|(_, t)| now.saturating_sub(**t) >= SETTLE_AFTER_MS)
            .map(|(u, _)| u.clone())
            .collect();
        for u in idle {
            self.decoded.remove(&u);
            self.repo.settle(&u);
        }
    }

    fn refuse_data(&mut self, from: &Identity, why: &str) {
        let who = self.who(from);
        self.log(
            Level::Warn,
            format!("data from {who} refused (not stored, not relayed): {why}"),
        );
    }
}
