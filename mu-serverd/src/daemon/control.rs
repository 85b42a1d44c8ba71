//! The control socket inside the loop: `crate::control::ControlServer` (accepting, peer checks,
//! framing) hands over decoded requests; this file decides what each request does.
//! users/kick/reset go to the session core, reload/stop/status are the daemon's own,
//! save/export/import go to the store.

use super::run::{unix_now, Daemon, CONTROL_FIRST_CONN, CONTROL_LISTENER};
use crate::config::Config;
use crate::control::{ControlServer, PeerInfo};
use crate::session::{ClientStatus, ControlReply, ControlRequest};
use mio::{Registry, Token};
use mu_ctl::proto::{ErrorCode, Reply, Request, StatusInfo, UserInfo};

pub struct Control {
    server: ControlServer,
}

impl Control {
    /// Binds the socket if enabled. A failure on the built-in default path (a hand-run daemon
    /// without `/run/mu-server`) is a warning; on a configured path it stops the start.
    pub fn start(cfg: &Config, registry: &Registry) -> Result<Option<Control>, String> {
        if !cfg.control.enabled {
            return Ok(None);
        }
        let path = &cfg.control.socket;
        match ControlServer::bind(path, cfg.control.group.as_deref()) {
            Ok(mut server) => {
                server
                    .register(registry, CONTROL_LISTENER, CONTROL_FIRST_CONN)
                    .map_err(|e| format!("cannot watch the control socket: {e}"))?;
                log::info!("control socket at {}", path.display());
                Ok(Some(Control { server }))
            }
            Err(e) if !cfg.control.socket_explicit => {
                log::warn!("control socket disabled: {e}");
                Ok(None)
            }
            Err(e) => Err(format!("control socket {}: {e}", path.display())),
        }
    }

    pub fn owns(&self, t: Token) -> bool {
        self.server.owns(t)
    }

    /// Lets pending replies (`mu-ctl stop`'s answer) go out, then removes the socket.
    pub fn close(mut self, registry: &Registry) {
        self.server.flush_all(std::time::Duration::from_millis(500));
        self.server.deregister(registry);
    }
}

impl Daemon {
    pub(super) fn on_control_event(&mut self, t: Token) {
        let Some(c) = self.control.as_mut() else {
            return;
        };
        let requests = c.server.handle_event(self.poll.registry(), t);
        for (conn, req, peer) in requests {
            let reply = self.dispatch(req, &peer);
            // Actions the request caused (a kick's Disconnect) leave before the reply.
            self.pump();
            if let Some(c) = self.control.as_mut() {
                c.server.reply(self.poll.registry(), conn, reply);
            }
        }
    }

    fn dispatch(&mut self, req: Request, peer: &PeerInfo) -> Reply {
        let now = self.shell.now();
        match req {
            Request::Hello { .. } => Reply::error(ErrorCode::BadRequest, "already greeted"),
            Request::Users => match self.session.handle_control(now, ControlRequest::Users) {
                ControlReply::Users(list) => {
                    let origin = unix_now().as_millis() as u64 - now;
                    Reply::Users(
                        list.into_iter()
                            .map(|u| UserInfo {
                                name: u.name,
                                admin: u.admin,
                                status: status_word(u.status).into(),
                                latency_ms: u.latency_ms.min(u32::MAX as u64) as u32,
                                connected_since_unix: (origin + u.connected_since) / 1000,
                                peer: self.shell.peer_address(&u.identity),
                                msgs_in: u.msgs_in,
                                msgs_out: u.msgs_out,
                                bytes_in: u.bytes_in,
                                bytes_out: u.bytes_out,
                            })
                            .collect(),
                    )
                }
                other => unexpected(other),
            },
            Request::Kick { user, reason } => {
                log::info!("kick of {user} requested by {peer}");
                let r = ControlRequest::Kick {
                    user: user.clone(),
                    reason,
                };
                match self.session.handle_control(now, r) {
                    ControlReply::Done => Reply::done(format!("{user} kicked")),
                    ControlReply::Error(e) => Reply::error(ErrorCode::NotFound, e),
                    other => unexpected(other),
                }
            }
            Request::Reset => {
                log::warn!("session reset requested by {peer}");
                if let Err(e) = self.store.before_reset(&mut self.session) {
                    return Reply::error(ErrorCode::Failed, e);
                }
                match self.session.handle_control(now, ControlRequest::Reset) {
                    ControlReply::Done => Reply::done("session reset: back to WAITING"),
                    ControlReply::Error(e) => Reply::error(ErrorCode::Failed, e),
                    other => unexpected(other),
                }
            }
            Request::Reload => {
                log::info!("reload requested by {peer}");
                match self.reload() {
                    Ok(m) => Reply::done(m),
                    Err(m) => Reply::error(ErrorCode::Failed, m),
                }
            }
            Request::Stop => {
                log::info!("stop requested by {peer}");
                self.stop = Some("server stopped by admin".into());
                Reply::done("stopping")
            }
            Request::Status => self.status_reply(now),
            Request::Save => {
                log::info!("save requested by {peer}");
                done_or_failed(self.store.save(&mut self.session))
            }
            Request::Export { path } => {
                log::info!("export to {path} requested by {peer}");
                done_or_failed(self.store.export(&mut self.session, &path))
            }
            Request::Import { path } => {
                log::warn!("import of {path} requested by {peer}");
                done_or_failed(self.store.import(&mut self.session, &path))
            }
        }
    }

    fn status_reply(&mut self, now: u64) -> Reply {
        match self.session.handle_control(now, ControlRequest::Summary) {
            ControlReply::Summary(s) => Reply::Status(StatusInfo {
                version: env!("CARGO_PKG_VERSION").into(),
                uptime_s: self.uptime_s(),
                session_state: ctl_state(s.state).into(),
                nodes: s.nodes as u64,
                bytes_stored: s.bytes_stored,
                users: s.users as u32,
                bind: self.cfg.server.bind.clone(),
                ports: vec![
                    self.cfg.server.port,
                    self.cfg.server.port + 1,
                    self.cfg.server.port + 2,
                ],
                config_file: self.cfg.file.as_ref().map(|p| p.display().to_string()),
                last_save_unix: self.store.last_save_unix_ms().map(|ms| ms / 1000),
                journal_bytes: self.store.journal_bytes(),
                state_dir: self
                    .cfg
                    .storage
                    .enabled
                    .then(|| self.cfg.storage.state_dir.display().to_string()),
            }),
            other => unexpected(other),
        }
    }
}

fn ctl_state(s: crate::session::io::SessionState) -> &'static str {
    use crate::session::io::SessionState::*;
    match s {
        Waiting => "waiting",
        SrvSync => "srv_sync",
        Active => "active",
    }
}

fn status_word(s: ClientStatus) -> &'static str {
    match s {
        ClientStatus::Lobby => "lobby",
        ClientStatus::Active => "active",
    }
}

fn done_or_failed(r: Result<String, String>) -> Reply {
    match r {
        Ok(m) => Reply::done(m),
        Err(m) => Reply::error(ErrorCode::Failed, m),
    }
}

fn unexpected(r: ControlReply) -> Reply {
    Reply::error(ErrorCode::Internal, format!("unexpected core reply {r:?}"))
}
