//! Snapshot (type 7): a client joining a running session pulls the scene one node per round
//! trip (REQUEST_INIT -> catalog, GET -> one node or `b'removed'`, DONE -> ACTIVE).

use super::io::{Channel, Frame, Identity};
use super::wire::{self, sdict};
use super::Session;
use crate::pickle::Value;
use log::Level;

impl Session {
    pub(super) fn on_join(&mut self, from: &Identity, data: &Value) {
        match data.get_str_key("STATE").and_then(Value::as_str) {
            Some("REQUEST_INIT") => {
                let who = self.who(from);
                self.log(
                    Level::Info,
                    format!(
                        "{who} joins: sending the catalog of {} nodes",
                        self.repo.len()
                    ),
                );
                let frames = self.catalog_frames();
                self.send(Channel::Command, from, frames);
            }
            Some("GET") => match data.get_str_key("ID").and_then(Value::as_str) {
                Some(uuid) => {
                    let uuid = uuid.to_owned();
                    self.send_node(from, &uuid);
                }
                None => {
                    let who = self.who(from);
                    self.log(
                        Level::Warn,
                        format!("Snapshot GET from {who} refused: ID is not a uuid"),
                    );
                }
            },
            Some("DONE") => self.set_active(from, "joined the running session"),
            other => {
                let who = self.who(from);
                self.log(
                    Level::Warn,
                    format!("Snapshot from {who} refused: unknown STATE {other:?}"),
                );
            }
        }
    }

    /// `Snapshot {STATE: 'INIT', CATALOG: [every uuid]}`.
    pub(super) fn catalog_frames(&self) -> Vec<Frame> {
        let catalog = Value::list(self.repo.uuids().map(Value::str).collect());
        let data = sdict(vec![("STATE", Value::str("INIT")), ("CATALOG", catalog)]);
        wire::command(wire::T_SNAPSHOT, "server", &data)
    }

    fn send_node(&mut self, to: &Identity, uuid: &str) {
        let chunks = match self.repo.fresh_data(uuid) {
            Some(data) => {
                let node = self.repo.get(uuid);
                let (owner, deps) = match node {
                    Some(n) => (n.owner.clone(), n.deps_bytes().clone()),
                    None => return,
                };
                wire::node_chunks(uuid, &owner, &deps, &data)
            }
            None => {
                let who = self.who(to);
                self.log(
                    Level::Debug,
                    format!("{who} - Snapshot: node {uuid} no longer exists"),
                );
                Value::bytes(b"removed")
            }
        };
        let data = sdict(vec![("STATE", Value::str("SET")), ("DATA", chunks)]);
        self.send(
            Channel::Command,
            to,
            wire::command(wire::T_SNAPSHOT, "server", &data),
        );
    }
}
