//! What each control request does: users/kick/reset go to the session core, reload/stop/
//! status are the daemon's own, save/export/import/reset's backup go to the store
//! ([`super::store_requests`]), history/export --at/restore to [`super::history`].

use super::history::Outcome;
use super::jobs::{check_passed, Output};
use super::replies::{done_or, shown, store_reply};
use super::run::Daemon;
use crate::control::{ConnId, Incoming, PeerInfo};
use crate::session::{ClientStatus, ControlReply, ControlRequest};
use crate::store::StoreError;
use mio::Token;
use mu_ctl::proto::{ErrorCode, Reply, Request, StatusInfo, UserInfo};
use std::fs::File;
use std::time::Instant;

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
                Output::Exported(r) => done_or(r),
                Output::Imported(Err(e)) => store_reply(&e),
                Output::Imported(Ok(prepared)) => self.install_import(prepared),
                Output::ResetBackup(Err(e)) => store_reply(&e),
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
            if let Some(r) = self.save_poll() {
                let waiters = self
                    .control
                    .as_mut()
                    .map(|c| std::mem::take(&mut c.save_waiters))
                    .unwrap_or_default();
                let reply = done_or(r);
                for id in waiters {
                    self.control_reply(id, reply.clone());
                }
            }
        }
    }

    /// Starts the thread of a history request ([`super::history`]). `Err(reply)`: answer at
    /// once (refused). The reply is boxed: a `Reply` can hold a whole history listing.
    fn start_history_job(
        &mut self,
        conn: ConnId,
        req: Request,
        peer: &PeerInfo,
        file: Option<File>,
    ) -> Result<(), Box<Reply>> {
        let dir = self.store.as_ref().map(|s| s.state_dir().to_path_buf());
        let limits = self.session.config().limits;
        self.history.start(conn, req, peer, file, dir, limits)
    }

    /// Called on every wake-up: answers the history jobs that finished; installs a restore.
    pub(super) fn poll_history_jobs(&mut self) {
        for (job, outcome) in self.history.take_finished() {
            let t = Instant::now();
            let reply = match outcome {
                Outcome::Reply(r) => r,
                Outcome::Restore { repo, head, label } => self.install_restore(*repo, head, &label),
            };
            self.pump();
            self.control_reply(job.conn, reply);
            job.log_answered(t.elapsed());
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
                self.start_save(id)
            }
            Request::Reset => {
                log::warn!("session reset requested by {peer}");
                self.start_reset(id)
            }
            Request::History { .. } | Request::Restore { .. } => self
                .start_history_job(id, request, &peer, None)
                .err()
                .map(|r| *r),
            Request::ExportAt { ref name, .. } => {
                let shown_name = shown(name);
                let checked = file
                    .map(File::from)
                    .ok_or_else(|| StoreError::Refused("no file came with the request".into()))
                    .and_then(|f| {
                        check_passed(&f, true)
                            .map(|_| f)
                            .map_err(|e| e.context(format!("export of {shown_name} refused")))
                    });
                match checked {
                    Ok(f) => self
                        .start_history_job(id, request, &peer, Some(f))
                        .err()
                        .map(|r| *r),
                    Err(e) => Some(store_reply(&e)),
                }
            }
            Request::ExportFile { name } => {
                let name = shown(&name);
                log::info!("export to {name} requested by {peer}");
                let r = self.start_job(id, "export", file, name);
                r.err().map(|e| store_reply(&e))
            }
            Request::ImportFile { name } => {
                let name = shown(&name);
                log::warn!("import of {name} requested by {peer}");
                let r = self.start_job(id, "import", file, name);
                r.err().map(|e| store_reply(&e))
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

    fn status_reply(&mut self, now: u64) -> Reply {
        match self.session.handle_control(now, ControlRequest::Summary) {
            ControlReply::Summary(s) => Reply::Status(StatusInfo {
                version: env!("CARGO_PKG_VERSION").into(),
                uptime_s: self.uptime_s(),
                session_state: s.state.name().into(),
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
                last_save_unix: self
                    .store
                    .as_ref()
                    .and_then(|s| s.status().last_save_unix_ms)
                    .map(|ms| ms / 1000),
                journal_bytes: self.store.as_ref().and_then(|s| s.status().journal_bytes),
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

fn status_word(s: ClientStatus) -> &'static str {
    match s {
        ClientStatus::Lobby => "lobby",
        ClientStatus::Active => "active",
    }
}

/// How long a control request held the event loop (its work on other threads excluded), for
/// `tests/persistence/measure_loop_pause.py` and anyone wondering.
fn held(what: &str, since: Instant) {
    log::debug!(
        "control: {what} held the event loop {} us",
        since.elapsed().as_micros()
    );
}

fn unexpected(r: ControlReply) -> Reply {
    Reply::error(ErrorCode::Internal, format!("unexpected core reply {r:?}"))
}
