//! Who gets a control connection, and what reaches the daemon: accepting (peer credentials,
//! the allowed users and group, the per-uid share, [`MAX_CONNS`]), then the `Hello` handshake
//! and the checks every request passes before [`ControlServer::handle_event`] hands it over.

use super::conn::Conn;
use super::{ConnId, ControlServer, Incoming, PeerInfo, MAX_CONNS};
use mio::{Interest, Registry, Token};
use mu_ctl::frame;
use mu_ctl::proto::{ErrorCode, Reply, Request, PROTOCOL_VERSION};

impl ControlServer {
    /// Accepts every waiting connection, refusing peers that are not allowed or over their
    /// share; returns the requests already waiting on the accepted ones.
    pub(super) fn accept_all(&mut self, registry: &Registry) -> Vec<Incoming> {
        let mut out = Vec::new();
        // Until WouldBlock (edge-triggered: a connection left in the backlog would not be
        // reported again). Finite: the kernel's backlog is bounded and every connection beyond
        // MAX_CONNS is refused and closed at once.
        loop {
            let mut stream = match self.socket.listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return out,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::warn!("control: accept failed: {e}");
                    return out;
                }
            };
            let peer = match PeerInfo::of(&stream) {
                Ok(p) => p,
                Err(e) => {
                    log::warn!("control: cannot read peer credentials, closing: {e}");
                    continue;
                }
            };
            if !peer.allowed(self.daemon_uid, self.group) {
                let msg = format!(
                    "permission denied: uid {} is not root, the daemon user or in group {}",
                    peer.uid, self.group_name
                );
                log::warn!("control: refused {peer}: {msg}");
                refuse(&mut stream, ErrorCode::Refused, &msg);
                continue;
            }
            if let Err(msg) = self.room_for(&peer) {
                log::warn!("control: refused {peer}: {msg}");
                refuse(&mut stream, ErrorCode::Refused, &msg);
                continue;
            }
            let Some(slot) = self.conns.iter().position(Option::is_none) else {
                log::warn!("control: refused {peer}: {MAX_CONNS} control connections open");
                refuse(
                    &mut stream,
                    ErrorCode::Refused,
                    "too many control connections",
                );
                continue;
            };
            let token = Token(self.first_conn + slot);
            if let Err(e) = registry.register(&mut stream, token, Interest::READABLE) {
                log::warn!("control: cannot register connection from {peer}: {e}");
                continue;
            }
            log::debug!("control: connection from {peer}");
            self.generation += 1;
            self.conns[slot] = Some(Conn::new(stream, peer, self.generation));
            // Data may already be waiting (a client pipelining Hello and a request); the
            // edge-triggered registration will not report it again.
            out.extend(self.handle_event(registry, token));
        }
    }

    /// Handles the handshake; returns the requests the daemon must answer.
    pub(super) fn screen(
        &mut self,
        registry: &Registry,
        slot: usize,
        req: Request,
        file: Option<std::os::fd::OwnedFd>,
    ) -> Option<Incoming> {
        let conn = self.conns[slot].as_mut()?;
        if conn.close_after_flush {
            return None;
        }
        match req {
            Request::Hello { version } => {
                if version != PROTOCOL_VERSION {
                    log::warn!(
                        "control: {} speaks control protocol {version}, we speak \
                         {PROTOCOL_VERSION}; closing",
                        conn.peer
                    );
                    conn.close_after_flush = true;
                }
                conn.greeted = true;
                let hello = Reply::Hello {
                    version: PROTOCOL_VERSION,
                    daemon_version: env!("CARGO_PKG_VERSION").to_string(),
                };
                self.send(registry, slot, &hello);
                None
            }
            other if !conn.greeted => {
                log::warn!(
                    "control: {} sent {} before Hello; closing",
                    conn.peer,
                    other.name()
                );
                conn.close_after_flush = true;
                let e = Reply::error(ErrorCode::BadRequest, "the first request must be Hello");
                self.send(registry, slot, &e);
                None
            }
            other if other.carries_file() && file.is_none() => {
                log::warn!(
                    "control: {} sent {} without a file descriptor",
                    conn.peer,
                    other.name()
                );
                let e = Reply::error(
                    ErrorCode::BadRequest,
                    format!(
                        "{} needs the open file passed with it (SCM_RIGHTS)",
                        other.name()
                    ),
                );
                self.send(registry, slot, &e);
                None
            }
            other => {
                conn.awaiting += 1;
                let id = ConnId {
                    slot,
                    generation: conn.generation,
                };
                Some(Incoming {
                    id,
                    request: other,
                    peer: conn.peer.clone(),
                    file,
                })
            }
        }
    }
}

/// Writes one error frame to a fresh connection and drops it. The reply is tiny, so a
/// non-blocking write into an empty socket buffer always takes it whole.
fn refuse(stream: &mut mio::net::UnixStream, code: ErrorCode, message: &str) {
    use std::io::Write;
    if let Ok(bytes) = frame::encode(&Reply::error(code, message)) {
        let _ = stream.write_all(&bytes);
    }
}
