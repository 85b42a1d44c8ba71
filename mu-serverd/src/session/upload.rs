//! ServerSnapshot (type 8): the first client uploads its scene while the session is WAITING.
//! INIT announces the uuids, SET carries one node, the server answers DONE once every announced
//! node arrived and then sends the catalog to the clients waiting in the lobby; END makes the
//! uploader ACTIVE.
//!
//! The upload belongs to the client whose INIT was accepted: SETs and the END from anyone else
//! are refused with a log line naming them, and change nothing (before, any client's END reset
//! a running upload, and that client could then upload its own scene in its place). The
//! uploader leaving mid-upload resets the session to WAITING (`leave.rs`), so another admin can
//! start again.

use super::clients::ClientStatus;
use super::io::{Change, Channel, Identity, SessionState};
use super::wire::sdict;
use super::{Session, Upload, UploadEnd};
use crate::objects::{self, CommandKind};
use crate::pickle::Value;
use log::Level;
use std::collections::HashSet;

impl Session {
    pub(super) fn on_upload(&mut self, from: &Identity, data: &Value) {
        match data.get_str_key("STATE").and_then(Value::as_str) {
            Some("INIT") => self.upload_init(from, data),
            Some("SET") => self.upload_set(from, data),
            Some("END") => self.upload_end(from),
            other => {
                let who = self.who(from);
                self.log(
                    Level::Warn,
                    format!("ServerSnapshot from {who} refused: unknown STATE {other:?}"),
                );
            }
        }
    }

    fn reply_upload(&mut self, to: &Identity, state: &str) {
        let data = sdict(vec![("STATE", Value::str(state))]);
        self.send(
            Channel::Command,
            to,
            objects::build_command(CommandKind::ServerSnapshot, "server", &data),
        );
    }

    fn upload_init(&mut self, from: &Identity, data: &Value) {
        let who = self.who(from);
        if self.repo.state() != SessionState::Waiting {
            self.log(
                Level::Warn,
                format!(
                    "ServerSnapshot INIT from {who} REJECTED: session is {:?}",
                    self.repo.state()
                ),
            );
            return self.reply_upload(from, "REJECTED");
        }
        let expected: Option<HashSet<String>> = match data.get_str_key("NODES") {
            Some(Value::List(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        let Some(expected) = expected else {
            self.log(
                Level::Warn,
                format!("ServerSnapshot INIT from {who} refused: NODES is not a list of uuids"),
            );
            return self.reply_upload(from, "REJECTED");
        };
        if expected.len() as u64 > self.cfg.max_nodes {
            self.log(
                Level::Warn,
                format!(
                    "ServerSnapshot INIT from {who} REJECTED: {} nodes announced (limit max_nodes = {})",
                    expected.len(),
                    self.cfg.max_nodes
                ),
            );
            return self.reply_upload(from, "REJECTED");
        }
        self.log(
            Level::Info,
            format!("{who} uploads the session scene: {} nodes", expected.len()),
        );
        self.change(Change::State(SessionState::SrvSync));
        self.reply_upload(from, "ACCEPTED");
        self.upload_end = None;
        let done = expected.is_empty();
        self.upload = Some(Upload {
            uploader: from.clone(),
            expected,
        });
        if done {
            self.finish_upload(from);
        }
    }

    fn upload_set(&mut self, from: &Identity, data: &Value) {
        // Named only when refused: this runs once per node of the uploaded scene.
        let is_uploader = self.upload.as_ref().is_some_and(|u| &u.uploader == from);
        if !is_uploader || self.repo.state() != SessionState::SrvSync {
            if let Some(UploadEnd::Abandoned { uploader, dropped }) = &mut self.upload_end {
                if uploader == from {
                    *dropped += 1;
                    return;
                }
            }
            let why = self.not_the_uploader();
            let who = self.who(from);
            self.log(
                Level::Warn,
                format!("ServerSnapshot SET from {who} refused: {why}"),
            );
            return;
        }
        let node = match self.parse_node_chunks(data.get_str_key("DATA")) {
            Ok(n) => n,
            Err(e) => {
                let who = self.who(from);
                self.log(
                    Level::Warn,
                    format!("ServerSnapshot SET from {who} refused: {e}"),
                );
                return;
            }
        };
        let objects::Node {
            uuid,
            owner,
            deps,
            data,
        } = node;
        let held = self.repo.get(&uuid).map(|n| n.accounted_bytes());
        if let Err(e) = self.room_for_node(held, (deps.len() + data.len()) as u64) {
            let who = self.who(from);
            return self.abandon_upload(&format!("{who}'s node {uuid}: {e}"));
        }
        let expected = self
            .upload
            .as_mut()
            .is_some_and(|u| u.expected.remove(&uuid));
        if !expected {
            let who = self.who(from);
            self.log(
                Level::Warn,
                format!("ServerSnapshot SET from {who} refused: node {uuid} was not announced"),
            );
            return;
        }
        self.attribute(Some(from));
        self.change(Change::NodeStored {
            uuid,
            owner,
            deps,
            data,
        });
        if self.upload.as_ref().is_some_and(|u| u.expected.is_empty()) {
            self.finish_upload(from);
        }
    }

    /// DONE to the uploader, catalog to everyone else (they wait in the lobby), ACTIVE.
    fn finish_upload(&mut self, uploader: &Identity) {
        self.upload = None;
        self.upload_end = Some(UploadEnd::Done(uploader.clone()));
        self.change(Change::State(SessionState::Active));
        self.reply_upload(uploader, "DONE");
        let waiting: Vec<Identity> = self
            .clients
            .ids()
            .into_iter()
            .filter(|id| id != uploader)
            .collect();
        self.send_catalog(&waiting);
        let who = self.who(uploader);
        self.log(
            Level::Info,
            format!("scene upload from {who} done: {} nodes", self.repo.len()),
        );
    }

    fn upload_end(&mut self, from: &Identity) {
        let who = self.who(from);
        let uploading = self.upload.as_ref().is_some_and(|u| &u.uploader == from);
        let closes = match &self.upload_end {
            Some(UploadEnd::Done(id)) => id == from,
            Some(UploadEnd::Abandoned { uploader, .. }) => uploader == from,
            None => false,
        };
        if !uploading && !closes {
            let why = self.not_the_uploader();
            return self.log(
                Level::Warn,
                format!("ServerSnapshot END from {who} refused: {why}"),
            );
        }
        match self.upload_end.take() {
            Some(UploadEnd::Done(_)) => return self.set_active(from, "uploaded the scene"),
            Some(UploadEnd::Abandoned { dropped, .. }) => {
                return self.log(
                    Level::Info,
                    format!("ServerSnapshot END from {who}: the abandoned upload is over ({dropped} more SETs ignored)"),
                )
            }
            None => {}
        }
        let missing = self.upload.as_ref().map_or(0, |u| u.expected.len());
        self.log(
            Level::Warn,
            format!(
                "ServerSnapshot END from {who} with {missing} announced nodes missing: session reset to WAITING"
            ),
        );
        self.upload = None;
        self.attribute(None);
        self.change(Change::Reset);
    }

    /// Why a client other than the uploader may not send upload messages now (log text).
    fn not_the_uploader(&self) -> String {
        match (&self.upload, &self.upload_end) {
            (Some(u), _) => format!("not the uploader ({} is uploading)", self.who(&u.uploader)),
            (None, Some(UploadEnd::Done(id))) => {
                format!(
                    "not the uploader (the scene was uploaded by {})",
                    self.who(id)
                )
            }
            _ => "no upload in progress".into(),
        }
    }

    /// A client that leaves can no longer close an upload.
    pub(super) fn forget_upload_end(&mut self, id: &Identity) {
        let names = match &self.upload_end {
            Some(UploadEnd::Done(u)) | Some(UploadEnd::Abandoned { uploader: u, .. }) => u == id,
            None => false,
        };
        if names {
            self.upload_end = None;
        }
    }

    /// Gives up the upload in progress: REJECTED to the uploader (its client goes back to the
    /// lobby), session back to WAITING and empty; the uploader's remaining SETs and its END are
    /// dropped quietly.
    pub(super) fn abandon_upload(&mut self, why: &str) {
        let Some(up) = self.upload.take() else {
            return;
        };
        let who = self.who(&up.uploader);
        self.log(
            Level::Warn,
            format!("scene upload from {who} abandoned: {why}; session reset to WAITING"),
        );
        self.attribute(None);
        self.change(Change::Reset);
        self.reply_upload(&up.uploader, "REJECTED");
        self.upload_end = Some(UploadEnd::Abandoned {
            uploader: up.uploader,
            dropped: 0,
        });
    }

    /// Marks a client ACTIVE (it has the scene) and tells everyone.
    pub(super) fn set_active(&mut self, id: &Identity, how: &str) {
        if let Some(c) = self.clients.get_mut(id) {
            c.status = ClientStatus::Active;
            let name = c.name.clone();
            self.log(Level::Info, format!("{name}: user online ({how})"));
            self.broadcast_clients_state();
        }
    }

    /// `Node.as_raw_chunks()` inside a ServerSnapshot SET: five bytes objects, checked by
    /// [`objects::node_frames`].
    fn parse_node_chunks(&self, chunks: Option<&Value>) -> Result<objects::Node, String> {
        let chunks = chunks.ok_or("no DATA")?;
        objects::node_frames(chunks, &self.cfg.limits).map_err(|e| e.to_string())
    }
}
