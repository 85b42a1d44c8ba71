//! The Unix control socket served inside the daemon's mio loop, speaking `mu_ctl::proto`.
//!
//! This module owns the socket file, accepts and authorizes peers (see [`admit`], [`peer`]), frames and
//! decodes requests, answers the `Hello` handshake itself, and buffers replies. It does not know
//! what a request means: [`ControlServer::handle_event`] hands decoded requests to the event
//! loop, which dispatches them to the session/store and answers with [`ControlServer::reply`].
//! A misbehaving peer (bad frame, oversized length, truncation, not reading) only ever loses its
//! own connection, with one log line.
//!
//! ```text
//! bind(path, group) -> register(registry, LISTENER, FIRST_CONN)
//! loop: for event with owns(token): for (id, req, peer) in handle_event(registry, token):
//!           reply(registry, id, dispatch(req, &peer))
//! ```

mod admit;
mod conn;
mod error;
mod limits;
mod peer;
mod socket;

pub(crate) use error::ControlError;
pub(crate) use limits::IDLE_TIMEOUT;
pub(crate) use peer::PeerInfo;

use conn::{Conn, ReadOutcome};
use mio::{Interest, Registry, Token};
use mu_ctl::frame;
use mu_ctl::proto::{ErrorCode, Reply, Request};
use nix::unistd::{Gid, Uid};
use socket::BoundSocket;
use std::path::Path;
use std::time::{Duration, Instant};

/// Simultaneous control connections; more are refused with a message.
pub(crate) const MAX_CONNS: usize = 16;

/// A request the daemon must answer with [`ControlServer::reply`].
#[derive(Debug)]
pub(crate) struct Incoming {
    pub id: ConnId,
    pub request: Request,
    pub peer: PeerInfo,
    /// The open file that came with `ExportFile`/`ImportFile` (always present for those).
    pub file: Option<std::os::fd::OwnedFd>,
}

/// Identifies one control connection while its requests are being answered. It carries a
/// generation, so a reply for a connection that closed can never reach a newer connection that
/// reused its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ConnId {
    slot: usize,
    generation: u64,
}

pub(crate) struct ControlServer {
    socket: BoundSocket,
    /// Members of this group may connect (besides root and our own uid).
    group: Gid,
    group_name: String,
    daemon_uid: Uid,
    listener_token: Token,
    first_conn: usize,
    conns: Vec<Option<Conn>>,
    /// Bumped for every accepted connection (see [`ConnId`]).
    generation: u64,
    idle_timeout: Duration,
}

impl ControlServer {
    /// Creates the socket file (mode 0660, owned by `group`, or by the daemon's own group when
    /// `None`), replacing a stale socket left by a crash, creating the parent directory if
    /// needed. Fails if another daemon is listening on `path`.
    pub(crate) fn bind(path: &Path, group: Option<&str>) -> Result<Self, ControlError> {
        let gid = match group {
            Some(name) => {
                nix::unistd::Group::from_name(name)
                    .ok()
                    .flatten()
                    .ok_or_else(|| ControlError::UnknownGroup {
                        name: name.to_string(),
                    })?
                    .gid
            }
            None => nix::unistd::getegid(),
        };
        let socket = BoundSocket::bind(path, gid)?;
        Ok(ControlServer {
            socket,
            group: gid,
            group_name: socket::group_name(gid),
            daemon_uid: nix::unistd::geteuid(),
            listener_token: Token(usize::MAX),
            first_conn: 0,
            conns: (0..MAX_CONNS).map(|_| None).collect(),
            generation: 0,
            idle_timeout: IDLE_TIMEOUT,
        })
    }

    /// Registers the listener; connections get tokens `first_conn_token .. + MAX_CONNS`.
    pub(crate) fn register(
        &mut self,
        registry: &Registry,
        listener_token: Token,
        first_conn_token: usize,
    ) -> Result<(), ControlError> {
        self.listener_token = listener_token;
        self.first_conn = first_conn_token;
        registry
            .register(
                &mut self.socket.listener,
                listener_token,
                Interest::READABLE,
            )
            .map_err(ControlError::Register)
    }

    /// True for the listener's token and every connection token this server may hand out.
    pub(crate) fn owns(&self, token: Token) -> bool {
        token == self.listener_token
            || (token.0 >= self.first_conn && token.0 - self.first_conn < MAX_CONNS)
    }

    /// Number of open connections (tests).
    #[cfg(test)]
    pub(crate) fn connections(&self) -> usize {
        self.conns.iter().filter(|c| c.is_some()).count()
    }

    /// Handles readiness on one of our tokens: accepts, reads, writes. Returns the requests
    /// (other than `Hello`) that the daemon must answer with [`reply`](Self::reply), in order.
    pub(crate) fn handle_event(&mut self, registry: &Registry, token: Token) -> Vec<Incoming> {
        if token == self.listener_token {
            return self.accept_all(registry);
        }
        if !self.owns(token) {
            return Vec::new();
        }
        let slot = token.0 - self.first_conn;
        let Some(conn) = self.conns[slot].as_mut() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match conn.read_requests() {
            ReadOutcome::Broken(why) => {
                log::warn!("control: closing connection from {}: {why}", conn.peer);
                self.close(registry, slot);
                return out;
            }
            ReadOutcome::Requests(reqs) => {
                for (req, fd) in reqs {
                    if let Some(r) = self.screen(registry, slot, req, fd) {
                        out.push(r);
                    }
                }
            }
        }
        self.pump(registry, slot);
        out
    }

    /// Sends the answer to a request returned by `handle_event`. A connection that has gone
    /// away in the meantime is ignored (returns false).
    pub(crate) fn reply(&mut self, registry: &Registry, id: ConnId, reply: Reply) -> bool {
        let slot = id.slot;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return false;
        };
        if conn.generation != id.generation {
            return false;
        }
        conn.awaiting = conn.awaiting.saturating_sub(1);
        self.send(registry, slot, &reply);
        true
    }

    /// Best-effort flush of pending replies before the daemon exits (so `mu-ctl stop` sees its
    /// answer). Bounded by `limit`.
    pub(crate) fn flush_all(&mut self, limit: Duration) {
        let start = Instant::now();
        loop {
            let mut pending = false;
            for conn in self.conns.iter_mut().flatten() {
                if conn.has_output() && conn.flush().is_ok() && conn.has_output() {
                    pending = true;
                }
            }
            if !pending || start.elapsed() >= limit {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Removes the listener and all connections from the registry (the file goes on drop).
    pub(crate) fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.socket.listener);
        for slot in 0..MAX_CONNS {
            self.close(registry, slot);
        }
    }

    fn send(&mut self, registry: &Registry, slot: usize, reply: &Reply) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let bytes = match frame::encode_max(reply, frame::MAX_REPLY) {
            Ok(b) => b,
            Err(e) => {
                log::error!("control: cannot encode reply for {}: {e}", conn.peer);
                match frame::encode(&Reply::error(ErrorCode::Internal, e.to_string())) {
                    Ok(b) => b,
                    Err(_) => return,
                }
            }
        };
        if !conn.queue(&bytes) {
            log::warn!(
                "control: closing connection from {}: it does not read its replies",
                conn.peer
            );
            self.close(registry, slot);
            return;
        }
        self.pump(registry, slot);
    }

    /// Flushes output, arms or disarms WRITABLE, and closes finished connections.
    fn pump(&mut self, registry: &Registry, slot: usize) {
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        if let Err(e) = conn.flush() {
            log::debug!("control: connection from {} went away: {e}", conn.peer);
            self.close(registry, slot);
            return;
        }
        if conn.finished() {
            self.close(registry, slot);
            return;
        }
        let want_write = conn.has_output();
        if want_write != conn.writable_armed {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let token = Token(self.first_conn + slot);
            if let Err(e) = registry.reregister(&mut conn.stream, token, interest) {
                log::warn!("control: cannot re-arm connection from {}: {e}", conn.peer);
                self.close(registry, slot);
                return;
            }
            conn.writable_armed = want_write;
        }
    }

    fn close(&mut self, registry: &Registry, slot: usize) {
        if let Some(mut conn) = self.conns[slot].take() {
            let _ = registry.deregister(&mut conn.stream);
        }
    }
}

#[cfg(test)]
mod tests;
