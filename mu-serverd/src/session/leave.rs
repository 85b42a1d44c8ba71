//! Leaving: a client that is lost, kicked, overflowing or shut down is removed cleanly
//! (difference 11): its locks go back to COMMON on the server's own copy and at every other
//! client, the user list is pushed at once, and an interrupted upload starts over.

use super::io::{Action, Change, Channel, Identity, SessionState};
use super::repository::COMMON;
use super::wire::{self, sdict};
use super::Session;
use crate::objects::{self, CommandKind};
use crate::pickle::Value;
use log::Level;

impl Session {
    /// Removes a client. With `notify`, it first gets `Disconnect {reason: notify}`; its
    /// outbound queue is dropped before that, so the Disconnect is the next thing it reads.
    pub(super) fn drop_client(&mut self, id: &Identity, reason: &str, notify: Option<&str>) {
        let Some(client) = self.clients.remove(id) else {
            return;
        };
        self.beats.remove(id);
        if let Some(push) = self.joins.remove(id) {
            let (n, bytes) = push.ahead();
            self.log(
                Level::Debug,
                format!(
                    "{}: join abandoned, {n} pushed SETs ({bytes} bytes) dropped",
                    client.name
                ),
            );
        }
        self.out.push_back(Action::DropPeer { to: id.clone() });
        if let Some(msg) = notify {
            let data = sdict(vec![("reason", Value::str(msg))]);
            self.out.push_back(Action::Send {
                channel: Channel::Command,
                to: id.clone(),
                frames: objects::build_command(CommandKind::Disconnect, "server", &data).into(),
            });
        }
        let level = if notify.is_some() {
            Level::Warn
        } else {
            Level::Info
        };
        self.log(
            level,
            format!(
                "{} ({}) disconnected from the server [{reason}]",
                client.name,
                wire::peer_name(id)
            ),
        );
        self.release_locks(&client.name);
        self.forget_upload_end(id);
        if self.upload.as_ref().is_some_and(|u| &u.uploader == id)
            && self.repo.state() == SessionState::SrvSync
        {
            self.upload = None;
            self.log(
                Level::Warn,
                format!(
                    "{} left during the scene upload: session reset to WAITING",
                    client.name
                ),
            );
            self.attribute(None);
            self.change(Change::Reset);
        }
        self.broadcast_clients_state();
    }

    /// Every node owned by `name` goes back to COMMON: on the server's copy (always) and at
    /// every remaining client (a Right from `server`).
    pub(super) fn release_locks(&mut self, name: &str) {
        let locked = self.repo.owned_by(name);
        if locked.is_empty() {
            return;
        }
        self.log(
            Level::Info,
            format!("{} node(s) of {name} back to {COMMON}", locked.len()),
        );
        let data = sdict(vec![
            (
                "uuid",
                Value::list(locked.iter().map(|u| Value::str(u)).collect()),
            ),
            ("owner", Value::str(COMMON)),
        ]);
        self.attribute(None);
        if self.change(Change::OwnersChanged {
            uuids: locked,
            owner: COMMON.into(),
        }) {
            let frames = objects::build_command(CommandKind::Right, "server", &data);
            self.broadcast(Channel::Command, &frames, None);
        }
    }
}
