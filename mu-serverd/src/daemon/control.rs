//! The control socket inside the loop: `crate::control::ControlServer` (accepting, peer checks,
//! framing) hands over decoded requests; this file decides what each request does.
//! users/kick/reset go to the session core, reload/stop/status are the daemon's own,
//! save/export/import go to the store, and their work runs off the loop: a snapshot thread for
//! save, a job thread ([`super::jobs`]) for export and import; the reply goes out when it is
//! done. Idle connections are closed by [`Daemon::control_tick`].

use super::jobs::{check_passed, Jobs, Output};
use super::run::{Daemon, CONTROL_FIRST_CONN, CONTROL_LISTENER};
use crate::config::Config;
use crate::control::{ConnId, ControlError, ControlServer, Incoming, PeerInfo};
use crate::session::{ClientStatus, ControlReply, ControlRequest};
use mio::{Registry, Token};
use mu_ctl::proto::{ErrorCode, Reply, Request, StatusInfo, UserInfo};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::time::Instant;

pub struct Control {
    server: ControlServer,
    jobs: Jobs,
    /// `mu-ctl save` requests waiting for their snapshot to reach the disk.
    save_waiters: Vec<ConnId>,
    path: std::path::PathBuf,
}

/// `$XDG_RUNTIME_DIR/mu-server/control.sock` for a daemon that is not root (mu-ctl's fallback).
fn user_runtime_socket() -> Option<std::path::PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return None;
    }
    let dir = std::path::PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?);
    dir.is_absolute()
        .then(|| dir.join("mu-server").join("control.sock"))
}

impl Control {
    /// Binds the socket if enabled. The built-in default path (`/run/mu-server/control.sock`)
    /// that cannot be created (a daemon run by hand by an ordinary user) falls back to
    /// `$XDG_RUNTIME_DIR/mu-server/control.sock`, where mu-ctl looks next; if that fails too the
    /// daemon runs without a control socket (warning). A configured path that fails stops the
    /// start, and so does a live socket of another daemon at either path: it is never unlinked.
    pub fn start(cfg: &Config, registry: &Registry) -> Result<Option<Control>, String> {
        if !cfg.control.enabled {
            return Ok(None);
        }
        let mut path = cfg.control.socket.clone();
        let group = cfg.control.group.as_deref();
        let mut bound = ControlServer::bind(&path, group);
        if !cfg.control.socket_explicit {
            if let (Err(e), Some(alt)) = (&bound, user_runtime_socket()) {
                if !matches!(e, ControlError::InUse { .. }) && alt != path {
                    log::info!(
                        "control socket {}: {e}; using {}",
                        path.display(),
                        alt.display()
                    );
                    path = alt;
                    bound = ControlServer::bind(&path, group);
                }
            }
        }
        match bound {
            Ok(mut server) => {
                server
                    .register(registry, CONTROL_LISTENER, CONTROL_FIRST_CONN)
                    .map_err(|e| format!("cannot watch the control socket: {e}"))?;
                log::info!("control socket at {}", path.display());
                Ok(Some(Control {
                    server,
                    path,
                    jobs: Jobs::default(),
                    save_waiters: Vec::new(),
                }))
            }
            Err(e @ ControlError::InUse { .. }) => Err(format!(
                "control socket {}: {e}; stop that daemon first, or give this one its own \
                 [control] socket",
                path.display()
            )),
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

    /// When [`Daemon::control_tick`] has work: an idle connection to close, a job to collect.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.server.next_deadline(), self.jobs.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Lets pending replies (`mu-ctl stop`'s answer) go out, then removes the socket.
    pub fn close(mut self, registry: &Registry) {
        self.server.flush_all(std::time::Duration::from_millis(500));
        self.server.deregister(registry);
        log::debug!("control socket {} closed", self.path.display());
    }
}

impl Daemon {
    pub(super) fn on_control_event(&mut self, t: Token) {
        let Some(c) = self.control.as_mut() else {
            return;
        };
        let requests = c.server.handle_event(self.poll.registry(), t);
        for inc in requests {
            let (id, name, t0) = (inc.id, inc.request.name(), Instant::now());
            let reply = self.dispatch_incoming(inc);
            held(name, t0);
            let Some(reply) = reply else {
                continue;
            };
            // Actions the request caused (a kick's Disconnect) leave before the reply.
            self.pump();
            self.control_reply(id, reply);
        }
    }

    pub(super) fn control_reply(&mut self, id: ConnId, reply: Reply) {
        if let Some(c) = self.control.as_mut() {
            c.server.reply(self.poll.registry(), id, reply);
        }
    }

    /// After every wake-up: closes idle control connections, answers finished jobs and saves.
    pub(super) fn control_tick(&mut self) {
        let Some(c) = self.control.as_mut() else {
            return;
        };
        c.server.expire(self.poll.registry(), Instant::now());
        if let Some((id, out)) = c.jobs.take_finished() {
            let t0 = Instant::now();
            let name = match &out {
                Output::Exported(_) => "export (finish)",
                Output::Imported(_) => "import (finish)",
                Output::ResetBackup(_) => "reset (finish)",
            };
            let reply = match out {
                Output::Exported(r) => done_or_failed(r),
                Output::Imported(Err(e)) => Reply::error(ErrorCode::Failed, e),
                Output::Imported(Ok(prepared)) => self.install_import(prepared),
                Output::ResetBackup(Err(e)) => Reply::error(ErrorCode::Failed, e),
                // The backup holds the session as it was when the reset was asked.
                Output::ResetBackup(Ok(_)) => self.reset(),
            };
            match &reply {
                Reply::Error { message, .. } => log::warn!("{message}"),
                Reply::Done { message } => log::info!("{message}"),
                _ => {}
            }
            held(name, t0);
            self.pump();
            self.control_reply(id, reply);
        }
        let waiting = self
            .control
            .as_ref()
            .is_some_and(|c| !c.save_waiters.is_empty());
        if waiting {
            if let Some(r) = self.store.save_poll() {
                let waiters = self
                    .control
                    .as_mut()
                    .map(|c| std::mem::take(&mut c.save_waiters))
                    .unwrap_or_default();
                for id in waiters {
                    self.control_reply(id, done_or_failed(r.clone()));
                }
            }
        }
    }

    /// Answers at once (Some) or starts work whose reply comes later (None).
    fn dispatch_incoming(&mut self, inc: Incoming) -> Option<Reply> {
        let Incoming {
            id,
            request,
            peer,
            file,
        } = inc;
        match request {
            Request::Save => {
                log::info!("save requested by {peer}");
                match self.store.save_start(&mut self.session) {
                    Ok(()) => {
                        if let Some(c) = self.control.as_mut() {
                            c.save_waiters.push(id);
                        }
                        None
                    }
                    Err(e) => Some(Reply::error(ErrorCode::Failed, e)),
                }
            }
            Request::Reset => {
                log::warn!("session reset requested by {peer}");
                let busy = self.control.as_ref().and_then(|c| c.jobs.busy());
                if let Some(busy) = busy {
                    let msg = format!("a {busy} is running; try again when it is done");
                    return Some(Reply::error(ErrorCode::Failed, msg));
                }
                let Some(job) = self.store.reset_backup_job(&mut self.session) else {
                    return Some(self.reset());
                };
                let c = self.control.as_mut()?;
                let r = c
                    .jobs
                    .spawn(id, "reset", move || Output::ResetBackup(job()));
                r.err().map(|e| Reply::error(ErrorCode::Failed, e))
            }
            Request::History { .. } | Request::Restore { .. } => self
                .start_history_job(id, request, &peer, None)
                .err()
                .map(|r| *r),
            Request::ExportAt { ref name, .. } => {
                let shown_name = shown(name);
                let checked = file
                    .map(File::from)
                    .ok_or_else(|| "no file came with the request".to_string())
                    .and_then(|f| {
                        check_passed(&f, true)
                            .map(|_| f)
                            .map_err(|e| format!("export of {shown_name} refused: {e}"))
                    });
                match checked {
                    Ok(f) => self
                        .start_history_job(id, request, &peer, Some(f))
                        .err()
                        .map(|r| *r),
                    Err(e) => Some(Reply::error(ErrorCode::Failed, e)),
                }
            }
            Request::ExportFile { name } => {
                let name = shown(&name);
                log::info!("export to {name} requested by {peer}");
                let r = self.start_job(id, "export", file, name);
                r.err().map(|e| Reply::error(ErrorCode::Failed, e))
            }
            Request::ImportFile { name } => {
                let name = shown(&name);
                log::warn!("import of {name} requested by {peer}");
                let r = self.start_job(id, "import", file, name);
                r.err().map(|e| Reply::error(ErrorCode::Failed, e))
            }
            Request::Export { path } | Request::Import { path } => {
                log::warn!("refused a control protocol 1 export/import of {path} from {peer}");
                Some(Reply::error(
                    ErrorCode::Refused,
                    "export and import by path are no longer accepted (the daemon would use its \
                     own permissions); use the mu-ctl installed with this daemon",
                ))
            }
            other => Some(self.dispatch(other, &peer)),
        }
    }

    /// Checks the passed file and starts an export or import job for it.
    fn start_job(
        &mut self,
        id: ConnId,
        what: &'static str,
        file: Option<OwnedFd>,
        name: String,
    ) -> Result<(), String> {
        let Some(c) = self.control.as_ref() else {
            return Err("no control socket".into());
        };
        if let Some(busy) = c.jobs.busy() {
            return Err(format!("an {busy} is running; try again when it is done"));
        }
        let file = File::from(file.ok_or("no file came with the request")?);
        let export = what == "export";
        check_passed(&file, export).map_err(|e| format!("{what} of {name} refused: {e}"))?;
        let work: Box<dyn FnOnce() -> Output + Send> = if export {
            let job = self.store.export_job(&mut self.session, file, name)?;
            Box::new(move || Output::Exported(job()))
        } else {
            let job = self.store.import_job(&mut self.session, file, name)?;
            Box::new(move || Output::Imported(job()))
        };
        match self.control.as_mut() {
            Some(c) => c.jobs.spawn(id, what, work),
            None => Err("no control socket".into()),
        }
    }

    fn dispatch(&mut self, req: Request, peer: &PeerInfo) -> Reply {
        let now = self.shell.now();
        match req {
            Request::Hello { .. } => Reply::error(ErrorCode::BadRequest, "already greeted"),
            Request::Users => match self.session.handle_control(now, ControlRequest::Users) {
                ControlReply::Users(list) => {
                    let origin = crate::wallclock::now_unix_ms().saturating_sub(now);
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
            Request::Settings => Reply::Settings(mu_ctl::proto::SettingsInfo {
                pid: std::process::id(),
                socket: self
                    .control
                    .as_ref()
                    .map(|c| c.path.display().to_string())
                    .unwrap_or_default(),
                server_password_set: self.cfg.auth.server_password.is_some(),
                admin_login: self.cfg.auth.admin_password.is_some(),
            }),
            Request::Save
            | Request::Reset
            | Request::Export { .. }
            | Request::Import { .. }
            | Request::ExportFile { .. }
            | Request::ImportFile { .. } => {
                Reply::error(ErrorCode::Internal, "dispatched elsewhere")
            }
            Request::History { .. } | Request::ExportAt { .. } | Request::Restore { .. } => {
                Reply::error(
                    ErrorCode::Internal,
                    "history requests run on their own thread",
                )
            }
        }
    }

    /// Replaces the session with the import `prepared` holds: every client (the session is
    /// WAITING, so they wait in the lobby) gets a Disconnect saying why.
    fn install_import(&mut self, prepared: crate::store::hook::PreparedImport) -> Reply {
        let name = prepared.name().to_owned();
        match self.store.import_finish(&self.session, prepared) {
            Ok((scene, done)) => {
                let now = self.shell.now();
                let reason = format!(
                    "the administrator imported a session from {name}; reconnect to get the \
                     imported scene"
                );
                self.session.replace_scene(now, &reason, scene);
                Reply::done(done)
            }
            Err(e) => Reply::error(ErrorCode::Failed, e),
        }
    }

    /// Drops the session (after its backup, see `Request::Reset` in `dispatch_incoming`).
    fn reset(&mut self) -> Reply {
        let now = self.shell.now();
        match self.session.handle_control(now, ControlRequest::Reset) {
            ControlReply::Done => Reply::done("session reset: back to WAITING"),
            ControlReply::Error(e) => Reply::error(ErrorCode::Failed, e),
            other => unexpected(other),
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

/// The file name a control peer gave, for log lines and replies: at most 256 characters, with
/// control characters escaped (it is only a label; the peer chose it).
pub(super) fn shown(name: &str) -> String {
    let mut short: String = name.chars().take(256).collect();
    if short.len() < name.len() {
        short.push('…');
    }
    if short.chars().any(char::is_control) {
        short = format!("{short:?}");
    }
    short
}

/// How long a control request held the event loop (its work on other threads excluded), for
/// `tests/persistence/measure_loop_pause.py` and anyone wondering.
fn held(what: &str, since: Instant) {
    log::debug!(
        "control: {what} held the event loop {} us",
        since.elapsed().as_micros()
    );
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
