//! Commands from logged-in clients that edit the shared state: UpdateUserMetadata (13),
//! Delete (4), Right (5, locks) and Kick (11). Authorization (difference 3) is decided here.

use super::io::{Change, Channel, Frame, Identity, Millis};
use super::repository::COMMON;
use super::wire::sdict;
use super::Session;
use crate::objects::{self, CommandKind};
use crate::pickle::Value;
use log::Level;

/// Largest UpdateUserMetadata payload accepted (the addon sends a few KiB).
pub(super) const MAX_METADATA_BYTES: usize = 1 << 20;
/// Most keys one user's metadata may hold.
pub(super) const MAX_METADATA_KEYS: usize = 1024;

impl Session {
    /// May the client `id` modify a node currently owned by `owner`?
    pub(super) fn may_modify(&self, id: &[u8], owner: &str) -> bool {
        owner == COMMON || self.clients.get(id).is_some_and(|c| c.name == owner)
    }

    /// Merged into the sender's metadata, then forwarded unchanged to everyone else. Metadata
    /// is re-sent to every client every second, so its size is bounded (difference 4).
    pub(super) fn on_metadata(&mut self, from: &Identity, data: &Value, frames: &[Frame]) {
        let size = frames.get(2).map_or(0, |f| f.len());
        if size > MAX_METADATA_BYTES {
            let who = self.who(from);
            self.log(
                Level::Warn,
                format!(
                    "UpdateUserMetadata from {who} refused: {size} bytes (limit {MAX_METADATA_BYTES})"
                ),
            );
            return;
        }
        let Value::Dict(items) = data else {
            let who = self.who(from);
            self.log(
                Level::Warn,
                format!(
                    "UpdateUserMetadata from {who} refused: data is a {}",
                    data.type_name()
                ),
            );
            return;
        };
        let too_many = self.clients.get(from).is_some_and(|c| {
            let new_keys = items
                .iter()
                .filter(|(k, _)| !c.metadata.iter().any(|(mk, _)| mk.strict_eq(k)))
                .count();
            c.metadata.len() + new_keys > MAX_METADATA_KEYS
        });
        if crate::pickle::budget::exhausted() {
            self.refuse_too_costly(from, "UpdateUserMetadata", "comparing its keys");
            return;
        }
        if too_many {
            let who = self.who(from);
            self.log(
                Level::Warn,
                format!(
                    "UpdateUserMetadata from {who} refused: more than {MAX_METADATA_KEYS} keys"
                ),
            );
            return;
        }
        let sizes = match self.metadata_room(from, items) {
            Ok(sizes) => sizes,
            Err(why) => {
                let who = self.who(from);
                self.log(
                    Level::Warn,
                    format!(
                        "UpdateUserMetadata from {who} refused (not stored, not relayed): {why}"
                    ),
                );
                return;
            }
        };
        let merged = self
            .clients
            .get_mut(from)
            .is_some_and(|c| c.merge_metadata(items, &sizes));
        if !merged {
            self.refuse_too_costly(from, "UpdateUserMetadata", "comparing its keys");
            return;
        }
        self.broadcast(Channel::Command, frames, Some(from));
    }

    /// Removes a node (and its uuid from every dependency list), echoed to everyone.
    pub(super) fn on_delete(&mut self, from: &Identity, data: &Value, frames: &[Frame]) {
        let who = self.who(from);
        let Some(uuid) = data.as_str().filter(|u| !u.is_empty()) else {
            self.log(
                Level::Warn,
                format!("Delete from {who} refused: data is not a uuid"),
            );
            return;
        };
        let uuid = uuid.to_owned();
        if let Some(node) = self.repo.get(&uuid) {
            let owner = node.owner.clone();
            if !self.may_modify(from, &owner) {
                self.log(
                    Level::Warn,
                    format!("Delete from {who} refused: node {uuid} is owned by {owner}"),
                );
                return;
            }
            self.attribute(Some(from));
            if !self.change(Change::NodeDeleted { uuid: uuid.clone() }) {
                return;
            }
            self.log(Level::Debug, format!("{who} deleted node {uuid}"));
        }
        self.broadcast(Channel::Command, frames, None);
    }

    /// Changes the owner of the listed nodes the sender may change: COMMON ones, its own, any
    /// for an admin. The echo to everyone carries just those uuids.
    pub(super) fn on_right(
        &mut self,
        from: &Identity,
        owner: &str,
        data: &Value,
        frames: &[Frame],
    ) {
        let who = self.who(from);
        let uuids: Option<Vec<String>> = match data.get_str_key("uuid") {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        let new_owner = data.get_str_key("owner").and_then(Value::as_str);
        let (Some(uuids), Some(new_owner)) = (uuids, new_owner) else {
            self.log(
                Level::Warn,
                format!("Right from {who} refused: data is not {{uuid: [..], owner: name}}"),
            );
            return;
        };
        let new_owner = new_owner.to_owned();
        let admin = self.clients.get(from).is_some_and(|c| c.admin);
        let mut allowed = Vec::with_capacity(uuids.len());
        let mut refused = Vec::new();
        for u in &uuids {
            match self.repo.get(u) {
                Some(n) if admin || self.may_modify(from, &n.owner) => allowed.push(u.clone()),
                Some(n) => refused.push(format!("{u} (owned by {})", n.owner)),
                None => refused.push(format!("{u} (unknown)")),
            }
        }
        if !refused.is_empty() {
            self.log(
                Level::Warn,
                format!(
                    "Right from {who} to {new_owner} refused for {} node(s): {}",
                    refused.len(),
                    refused.join(", ")
                ),
            );
        }
        if allowed.is_empty() {
            return;
        }
        let echo = if refused.is_empty() {
            frames.to_vec()
        } else {
            let data = sdict(vec![
                (
                    "uuid",
                    Value::list(allowed.iter().map(|u| Value::str(u)).collect()),
                ),
                ("owner", Value::str(&new_owner)),
            ]);
            objects::build_command(CommandKind::Right, owner, &data)
        };
        self.attribute(Some(from));
        if !self.change(Change::OwnersChanged {
            uuids: allowed,
            owner: new_owner,
        }) {
            return;
        }
        self.broadcast(Channel::Command, &echo, None);
    }

    /// `{user: name}` from an admin: that user gets `Disconnect {reason: 'kicked by admin'}`.
    pub(super) fn on_kick(&mut self, _now: Millis, from: &Identity, data: &Value) {
        let who = self.who(from);
        if !self.clients.get(from).is_some_and(|c| c.admin) {
            self.log(
                Level::Warn,
                format!("Kick from {who} refused: not an admin"),
            );
            return;
        }
        let Some(user) = data.get_str_key("user").and_then(Value::as_str) else {
            self.log(
                Level::Warn,
                format!("Kick from {who} refused: no user name"),
            );
            return;
        };
        let user = user.to_owned();
        self.kick(&user, "kicked by admin", &who);
    }

    /// Disconnects a user by name with a reason; false if nobody has that name.
    pub(super) fn kick(&mut self, user: &str, reason: &str, by: &str) -> bool {
        match self.clients.by_name(user).cloned() {
            Some(id) => {
                self.log(
                    Level::Warn,
                    format!("{user} kicked from the session by {by}"),
                );
                self.drop_client(&id, "kicked", Some(reason));
                true
            }
            // A user error (a typo, a user who just left), not the server's: WARN, not ERROR.
            None => {
                self.log(
                    Level::Warn,
                    format!("Can't kick {user} (asked by {by}): user not found"),
                );
                false
            }
        }
    }

    /// `Disconnect {reason}` to one peer.
    pub(super) fn send_disconnect(&mut self, to: &Identity, reason: &str) {
        let data = sdict(vec![("reason", Value::str(reason))]);
        self.send(
            Channel::Command,
            to,
            objects::build_command(CommandKind::Disconnect, "server", &data),
        );
    }
}
