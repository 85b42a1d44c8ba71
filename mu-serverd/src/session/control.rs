//! Requests from the administrator (the control socket, mapped by the shell from mu-ctl's wire
//! protocol) and what the core answers.

use super::clients::ClientStatus;
use super::io::{Identity, Millis, SessionState};
use super::Session;
use log::Level;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlRequest {
    /// The logged-in users.
    Users,
    /// Disconnect a user by name, with an optional reason shown to them.
    Kick {
        user: String,
        reason: Option<String>,
    },
    /// State, user count, node count, stored bytes.
    Summary,
    /// Disconnect everyone and go back to WAITING with an empty repository.
    Reset,
    /// `Disconnect {reason}` to everyone at once; the driver exits after draining.
    Shutdown { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub admin: bool,
    pub status: ClientStatus,
    pub latency_ms: u64,
    pub connected_since: Millis,
    pub msgs_in: u64,
    pub bytes_in: u64,
    pub msgs_out: u64,
    pub bytes_out: u64,
    /// The routing identity, so the driver can add what only it knows (the peer's address).
    pub identity: Identity,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryInfo {
    pub state: SessionState,
    pub users: usize,
    pub nodes: usize,
    pub bytes_stored: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlReply {
    Users(Vec<UserInfo>),
    Summary(SummaryInfo),
    Done,
    Error(String),
}

impl Session {
    /// Logged-in clients (cheap: the history checks it on every wake-up).
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// The logged-in users' names (for the history). Unlike [`Session::handle_control`] it
    /// touches no timer: the loop may call it while the session is idle.
    pub fn client_names(&self) -> Vec<String> {
        self.clients.iter().map(|(_, c)| c.name.clone()).collect()
    }

    pub fn handle_control(&mut self, now: Millis, req: ControlRequest) -> ControlReply {
        self.start_clock(now);
        match req {
            ControlRequest::Users => ControlReply::Users(
                self.clients
                    .iter()
                    .map(|(identity, c)| UserInfo {
                        name: c.name.clone(),
                        admin: c.admin,
                        status: c.status,
                        latency_ms: c.latency,
                        connected_since: c.since,
                        msgs_in: c.traffic.msgs_in,
                        bytes_in: c.traffic.bytes_in,
                        msgs_out: c.traffic.msgs_out,
                        bytes_out: c.traffic.bytes_out,
                        identity: identity.clone(),
                    })
                    .collect(),
            ),
            ControlRequest::Summary => ControlReply::Summary(SummaryInfo {
                state: self.repo.state(),
                users: self.clients.len(),
                nodes: self.repo.len(),
                bytes_stored: self.repo.stored_bytes(),
            }),
            ControlRequest::Kick { user, reason } => {
                let msg = match reason {
                    Some(r) => format!("kicked by admin: {r}"),
                    None => "kicked by admin".to_owned(),
                };
                if self.kick(&user, &msg, "the control socket") {
                    ControlReply::Done
                } else {
                    ControlReply::Error(format!("no user named {user}"))
                }
            }
            // The one entry point for whole-session changes (see `replace.rs`).
            ControlRequest::Reset => {
                let reason = "session reset by the administrator";
                self.replace_scene(now, reason, super::Scene::Empty);
                self.log(Level::Warn, "session reset to WAITING".into());
                ControlReply::Done
            }
            ControlRequest::Shutdown { reason } => {
                self.disconnect_all(&reason);
                self.log(Level::Warn, format!("shutting down: {reason}"));
                ControlReply::Done
            }
        }
    }

    /// `Disconnect {reason}` to every client at once (difference 11), locks released.
    fn disconnect_all(&mut self, reason: &str) {
        for id in self.clients.ids() {
            self.send_disconnect(&id, reason);
            if let Some(c) = self.clients.remove(&id) {
                self.log(
                    Level::Info,
                    format!("{} disconnected from the server [{reason}]", c.name),
                );
                self.release_locks(&c.name);
            }
        }
        self.beats.clear();
        self.joins.clear();
    }
}
