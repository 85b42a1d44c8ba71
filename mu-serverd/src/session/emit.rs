//! What the handlers emit, in one place: log lines, changes (applied to the repository and
//! journaled before the sends that follow), who sends them (for the history), sends and
//! broadcasts with their traffic counts, and how a peer is named in a line ([`Session::who`]).

use super::io::{self, Action, Change, Channel, Frame, Identity};
use super::{wire, ApplyError, Session};
use crate::objects::{self, CommandKind};
use log::Level;

impl Session {
    pub(super) fn log(&mut self, level: Level, message: String) {
        self.out.push_back(Action::Log { level, message });
    }

    /// Applies a change that the caller validated, and journals it (before the sends that
    /// follow). Returns false (with a log line) if the repository refused it.
    pub(super) fn change(&mut self, change: Change) -> bool {
        match self.try_change(change) {
            Ok(()) => true,
            Err(e) => {
                self.log(Level::Warn, format!("change refused: {e}"));
                false
            }
        }
    }

    /// [`Session::change`] for callers that report the refusal themselves.
    pub(super) fn try_change(&mut self, change: Change) -> Result<(), ApplyError> {
        self.repo.apply_change(&change)?;
        self.out.push_back(Action::Persist(change));
        Ok(())
    }

    /// Names who sends the changes that follow (`None`: the server itself), for the history.
    /// Emits [`Action::PersistSender`] only when that differs from the last one named, so the
    /// relay costs a name comparison, and the journal one small record per change of sender.
    pub(super) fn attribute(&mut self, from: Option<&Identity>) {
        let name = from
            .and_then(|id| self.clients.get(id))
            .map(|c| c.name.as_str());
        if self
            .journal_sender
            .as_ref()
            .is_some_and(|s| s.as_deref() == name)
        {
            return;
        }
        let name = name.map(str::to_owned);
        self.journal_sender = Some(name.clone());
        self.out.push_back(Action::PersistSender(name));
    }

    pub(super) fn send(&mut self, ch: Channel, to: &Identity, frames: Vec<Frame>) {
        if let Some(c) = self.clients.get_mut(to) {
            c.traffic.msgs_out += 1;
            c.traffic.bytes_out += frames.iter().map(|f| f.len() as u64).sum::<u64>();
        }
        self.out.push_back(Action::Send {
            channel: ch,
            to: to.clone(),
            frames: frames.into(),
        });
    }

    /// The same frames to every logged-in client except `except`. Frames are shared, not copied.
    pub(super) fn broadcast(&mut self, ch: Channel, frames: &[Frame], except: Option<&Identity>) {
        let bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
        let shared: io::Frames = frames.into();
        let out = &mut self.out;
        self.clients.for_each_mut(|id, c| {
            if except.is_some_and(|e| e == id) {
                return;
            }
            c.traffic.msgs_out += 1;
            c.traffic.bytes_out += bytes;
            out.push_back(Action::Send {
                channel: ch,
                to: id.clone(),
                frames: shared.clone(),
            });
        });
    }

    /// UpdateClientsState to everyone: each user's id, admin, latency, status and metadata.
    pub(super) fn broadcast_clients_state(&mut self) {
        if self.clients.is_empty() {
            return;
        }
        let users = crate::pickle::Value::dict(
            self.clients
                .iter()
                .map(|(_, c)| (crate::pickle::Value::str(&c.name), c.state_value()))
                .collect(),
        );
        let frames = objects::build_command(CommandKind::UpdateClientsState, "server", &users);
        self.broadcast(Channel::Command, &frames, None);
    }

    /// "name (peer id)" for logged-in clients, "peer id" otherwise.
    pub(super) fn who(&self, id: &[u8]) -> String {
        match self.clients.get(id) {
            Some(c) => format!("{} ({})", c.name, wire::peer_name(id)),
            None => format!("peer {}", wire::peer_name(id)),
        }
    }
}
