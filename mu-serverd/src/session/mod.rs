//! The sans-IO session core: the replication 0.9.10 server protocol as a state machine.
//!
//! A driver (the mio/zmq shell, the tests) feeds it frames, ticks, send failures and control
//! requests with the current time, then drains [`io::Action`]s with [`Session::poll_action`] and
//! sleeps until [`Session::next_deadline`]. The core owns the session state, the clients and the
//! repository; it never touches a socket, a clock or a thread.

pub mod clients;
pub(crate) mod codec;
pub(crate) mod config;
pub(crate) mod control;
pub mod io;
pub(crate) mod repository;
pub(crate) mod wire;

mod auth;
mod catalog;
mod commands;
mod emit;
mod heartbeat;
mod join;
mod leave;
mod pace;
pub(crate) mod push;
mod quota;
mod refusals;
mod relay;
mod replace;
mod upload;
mod versions;

#[cfg(test)]
mod tests;

pub use clients::{ClientStatus, Traffic};
pub use config::SessionConfig;
pub use control::{ControlReply, ControlRequest, SummaryInfo, UserInfo};
pub use replace::Scene;
pub use repository::{ApplyError, NodeView, Repository, COMMON};

use crate::objects::{self, CommandKind, Message};
use clients::Clients;
use heartbeat::Beat;
use io::{Action, Channel, Frame, Identity, Millis, PeerAddr, SendFailure, SessionState};
use log::Level;
use refusals::same_address;
use std::collections::{HashMap, HashSet, VecDeque};

/// The first client's scene upload in progress (SRV_SYNC).
struct Upload {
    uploader: Identity,
    expected: HashSet<String>,
}

/// Who may send the END that closes a finished or abandoned upload (see `upload.rs`).
enum UploadEnd {
    /// The upload is DONE: this uploader's END makes it ACTIVE.
    Done(Identity),
    /// The upload was abandoned (a limit): this uploader's remaining SETs are dropped quietly
    /// (counted) until its END.
    Abandoned { uploader: Identity, dropped: u64 },
}

pub struct Session {
    cfg: SessionConfig,
    repo: Repository,
    clients: Clients,
    beats: HashMap<Identity, Beat>,
    upload: Option<Upload>,
    upload_end: Option<UploadEnd>,
    out: VecDeque<Action>,
    /// Who the journal was last told sends the changes that follow ([`Action::PersistSender`]):
    /// None before the first, `Some(None)` for the server itself.
    journal_sender: Option<Option<String>>,
    /// When the next once-a-second status round is due (set by the first event).
    status_due: Option<Millis>,
    /// The latest time the driver gave us.
    now: Millis,
    /// Nodes holding a decoded value, with the time of their last Commit (see `settle_idle`).
    decoded: HashMap<String, Millis>,
    strangers: refusals::StrangerLog,
    /// Joiners between their catalog and their last GET, while SETs are pushed ahead.
    joins: HashMap<Identity, push::JoinPush>,
    /// Joiners whose window had room left when their last push stopped on
    /// [`push::TURN_SETS`], in round-robin order (see `Session::continue_push`).
    push_turns: VecDeque<Identity>,
    /// The last INIT catalog built, reused while the repository keeps its shape.
    catalog: Option<catalog::Built>,
    /// The address of the connection the message being handled came on (see `handle_frame_from`).
    peer: Option<PeerAddr>,
}

impl Session {
    pub fn new(cfg: SessionConfig) -> Self {
        let repo = Repository::new(cfg.limits);
        Session {
            cfg,
            repo,
            clients: Clients::default(),
            beats: HashMap::new(),
            upload: None,
            upload_end: None,
            journal_sender: None,
            out: VecDeque::new(),
            status_due: None,
            now: 0,
            decoded: HashMap::new(),
            strangers: refusals::StrangerLog::default(),
            joins: HashMap::new(),
            push_turns: VecDeque::new(),
            catalog: None,
            peer: None,
        }
    }

    /// Reload: new passwords, limits and timeouts apply from the next event; nobody is dropped.
    pub fn set_config(&mut self, cfg: SessionConfig) {
        self.repo.set_limits(cfg.limits);
        self.cfg = cfg;
        self.log(Level::Info, "configuration reloaded".into());
        self.warn_unlisted_version();
    }

    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    pub fn state(&self) -> SessionState {
        self.repo.state()
    }

    /// Joiners whose SETs are being pushed ahead of their GETs (difference 13).
    pub fn joins_in_progress(&self) -> usize {
        self.joins.len()
    }

    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// One message (identity frame removed) from a peer on a channel, its address unknown.
    pub fn handle_frame(&mut self, now: Millis, ch: Channel, from: &Identity, frames: Vec<Frame>) {
        self.handle_frame_from(now, ch, from, None, frames)
    }

    /// One message from a peer on a channel, with the IP address of the connection it came on
    /// (`None`: unknown). A logged-in client's identity is accepted only from the address it
    /// logged in from (difference 15).
    pub fn handle_frame_from(
        &mut self,
        now: Millis,
        ch: Channel,
        from: &Identity,
        peer: Option<&PeerAddr>,
        frames: Vec<Frame>,
    ) {
        self.start_clock(now);
        let size: usize = frames.iter().map(|f| f.len()).sum();
        let logged_in = match self.clients.get_mut(from) {
            Some(c) if !same_address(c.address.as_ref(), peer) => {
                return self.refuse_impostor(ch, from, peer);
            }
            Some(c) => {
                c.traffic.msgs_in += 1;
                c.traffic.bytes_in += size as u64;
                true
            }
            None => false,
        };
        // Only Auth reads it; kept for the message so the handlers need no extra parameter.
        if !logged_in {
            self.peer = peer.cloned();
        }
        if size > self.cfg.max_message_bytes {
            let who = self.who(from);
            self.refuse(
                from,
                format!(
                    "message of {size} bytes from {who} refused: over the {} byte limit",
                    self.cfg.max_message_bytes
                ),
            );
            return;
        }
        // Every walk over this message's values is charged to a meter granted for its size.
        let _meter = crate::pickle::budget::scope(size, self.cfg.max_message_bytes);
        match ch {
            Channel::Heartbeat => self.on_heartbeat(now, from, &frames),
            Channel::Command => self.on_command(now, from, &frames),
            Channel::Data => self.on_data(from, frames, logged_in),
        }
    }

    fn on_command(&mut self, now: Millis, from: &Identity, frames: &[Frame]) {
        // Before login only Auth and RequestServerInfo are read: nothing else is even decoded.
        let early = frames.first().and_then(|f| objects::parse_type(f).ok());
        let early_kind = early.and_then(|t| CommandKind::from_num(i64::from(t)));
        if !self.clients.contains(from) && !early_kind.is_some_and(auth::before_login) {
            if let Some(t) = early {
                let who = self.who(from);
                self.refuse(
                    from,
                    format!(
                        "{} (type {t}) from {who} refused: not logged in",
                        objects::type_name(t)
                    ),
                );
                return;
            }
        }
        let parsed = match objects::parse(frames) {
            Ok(Message::Command { kind, owner, data }) => {
                objects::command_data(kind, &data, &self.cfg.limits).map(|v| Some((kind, owner, v)))
            }
            Ok(Message::Node { .. } | Message::Commit { .. }) => Ok(None),
            Err(e) => Err(e),
        };
        let (kind, owner, data) = match parsed {
            Ok(Some(command)) => command,
            Ok(None) => {
                let who = self.who(from);
                self.refuse(
                    from,
                    format!("node data on the command channel from {who} ignored"),
                );
                return;
            }
            Err(e) => {
                let who = self.who(from);
                // every login attempt is logged, even a garbled one; "Auth request" is what
                // admins grep for
                if early_kind == Some(CommandKind::Auth) {
                    let line = format!("Auth request from {who} refused: {e} (command channel)");
                    self.log(Level::Warn, line);
                } else {
                    let what = early.map_or("message", objects::type_name);
                    let line = format!("{what} from {who} refused: {e} (command channel)");
                    self.refuse(from, line);
                }
                return;
            }
        };
        if !self.clients.contains(from) && !auth::before_login(kind) {
            let who = self.who(from);
            let t = kind.num();
            self.refuse(
                from,
                format!("command type {t} from {who} refused: not logged in"),
            );
            return;
        }
        // Every kind by name, no catch-all arm: a new kind does not compile until it is handled.
        match kind {
            CommandKind::Auth => self.on_auth(now, from, &data),
            CommandKind::RequestServerInfo => self.on_server_info(from),
            CommandKind::ServerSnapshot => self.on_upload(from, &data),
            CommandKind::Snapshot => self.on_join(from, &data),
            CommandKind::UpdateUserMetadata => self.on_metadata(from, &data, frames),
            CommandKind::Delete => self.on_delete(from, &data, frames),
            CommandKind::Right => self.on_right(from, &owner, &data, frames),
            CommandKind::Kick => self.on_kick(now, from, &data),
            // The server's own messages, and kinds the reference server also leaves unread.
            CommandKind::Command
            | CommandKind::Config
            | CommandKind::Disconnect
            | CommandKind::UpdateClientsState => {
                let who = self.who(from);
                let t = kind.num();
                self.log(Level::Debug, format!("command type {t} from {who} ignored"));
            }
        }
    }

    /// The driver could not deliver to a peer.
    pub fn handle_send_failure(
        &mut self,
        now: Millis,
        ch: Channel,
        to: &Identity,
        why: SendFailure,
    ) {
        self.start_clock(now);
        let Some(client) = self.clients.get(to) else {
            // A peer that is not logged in (server-info or Auth replies, heartbeat PINGs to a
            // watched identity) stopped reading: forget its backlog so the shell stops
            // discarding for it.
            if why == SendFailure::QueueOverflow {
                self.out.push_back(Action::DropPeer { to: to.clone() });
            }
            return;
        };
        let name = client.name.clone();
        match (why, ch, client.status) {
            (SendFailure::QueueOverflow, _, _) => {
                let reason = "outbound queue overflow: client stopped reading";
                self.drop_client(to, reason, Some(reason));
            }
            // A client that already has the scene and misses a data message would silently
            // diverge (difference 9): make it rejoin instead.
            (SendFailure::Unreachable, Channel::Data, ClientStatus::Active) => {
                let reason = "data channel unreachable: updates would be lost";
                self.drop_client(to, reason, Some(reason));
            }
            (SendFailure::Unreachable, _, _) => self.log(
                Level::Debug,
                format!("{name}: {ch:?} channel unreachable, message dropped"),
            ),
        }
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    /// When the driver must call [`Session::handle_tick`] next (None: only events matter).
    /// Heartbeats have no timer of their own: their PINGs go out in the status round.
    pub fn next_deadline(&self) -> Option<Millis> {
        let unstarted = self
            .clients
            .iter()
            .filter(|(id, _)| !self.beats.contains_key(*id))
            .map(|(_, c)| c.since + self.cfg.heartbeat_start_ms() + 1);
        let status = if self.clients.is_empty()
            && self.beats.is_empty()
            && self.decoded.is_empty()
            && self.catalog.is_none()
        {
            None
        } else {
            self.status_due
        };
        // SETs left to push: due at once, after the shell has read what waits (fairness).
        let push = (!self.push_turns.is_empty()).then_some(self.now);
        unstarted
            .chain(status)
            .chain(self.strangers.due())
            .chain(push)
            .min()
    }

    fn start_clock(&mut self, now: Millis) {
        self.now = self.now.max(now);
        if self.status_due.is_none() {
            self.status_due = Some(now + heartbeat::STATUS_PERIOD_MS + 1);
        }
    }
}
