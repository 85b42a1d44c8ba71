//! Snapshot (type 7): a client joining a running session pulls the scene one node per round
//! trip (REQUEST_INIT -> catalog, GET -> one node or `b'removed'`, DONE -> ACTIVE).

use super::io::{Channel, Frame, Identity};
use super::wire::{self, sdict};
use super::Session;
use crate::objects;
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
        let frames = match self.repo.fresh_data(uuid) {
            Some(data) => {
                let Some(node) = self.repo.get(uuid) else {
                    return;
                };
                // The reply pickle is written around the node's frames directly: no `Value`
                // tree and no general encoder per GET (a join sends one reply per node).
                let frame0 = objects::type_frame(objects::T_NODE).unwrap_or_default();
                objects::build_snapshot_set(
                    "server",
                    &[
                        frame0,
                        uuid.as_bytes(),
                        node.owner.as_bytes(),
                        node.deps_bytes(),
                        &data,
                    ],
                )
            }
            None => {
                let who = self.who(to);
                self.log(
                    Level::Debug,
                    format!("{who} - Snapshot: node {uuid} no longer exists"),
                );
                let data = sdict(vec![
                    ("STATE", Value::str("SET")),
                    ("DATA", Value::bytes(b"removed")),
                ]);
                wire::command(wire::T_SNAPSHOT, "server", &data)
            }
        };
        self.send(Channel::Command, to, frames);
    }
}
