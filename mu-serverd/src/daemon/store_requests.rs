//! The control requests the store carries out: `save` (a snapshot thread), `export`, `import`
//! and `reset`'s backup (a job thread, [`super::jobs`]); the reply goes out when the work is
//! done; a store error is answered with [`store_reply`] ([`super::replies`]). Also where a
//! session rebuilt off the loop (an import, a restore) replaces the running one.

use super::jobs::{check_passed, Output};
use super::replies::store_reply;
use super::run::Daemon;
use crate::control::ConnId;
use crate::session::io::EncodedChanges;
use crate::session::Repository;
use crate::session::{ControlReply, ControlRequest};
use crate::store::{PreparedImport, Store, StoreError};
use mu_ctl::proto::{ErrorCode, Reply};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::time::Instant;

impl Daemon {
    /// `mu-ctl save`: starts the snapshot; the reply waits for it (`None`) unless refused.
    pub(super) fn start_save(&mut self, id: ConnId) -> Option<Reply> {
        let session = &mut self.session;
        let started = match self.store.as_mut() {
            Some(store) => store.save_start(session),
            None => Err(StoreError::Disabled),
        };
        match started {
            Ok(()) => {
                if let Some(c) = self.control.as_mut() {
                    c.save_waiters.push(id);
                }
                None
            }
            Err(e) => Some(store_reply(&e)),
        }
    }

    /// The outcome of the snapshot `mu-ctl save` waits for, once it is on disk.
    pub(super) fn save_poll(&mut self) -> Option<Result<String, StoreError>> {
        self.store.as_mut()?.take_save_result()
    }

    /// `mu-ctl reset`: a backup first (on a job thread) when there is something to lose.
    pub(super) fn start_reset(&mut self, id: ConnId) -> Option<Reply> {
        let busy = self.control.as_ref().and_then(|c| c.jobs.busy());
        if let Some(busy) = busy {
            let msg = format!("a {busy} is running; try again when it is done");
            return Some(Reply::error(ErrorCode::Failed, msg));
        }
        let session = &mut self.session;
        let Some(job) = self
            .store
            .as_mut()
            .and_then(|s| s.reset_backup_job(session))
        else {
            return Some(self.reset());
        };
        let c = self.control.as_mut()?;
        let r = c
            .jobs
            .spawn(id, "reset", move || Output::ResetBackup(job()));
        r.err().map(|e| Reply::error(ErrorCode::Failed, e))
    }

    /// Checks the passed file and starts an export or import job for it.
    pub(super) fn start_job(
        &mut self,
        id: ConnId,
        what: &'static str,
        file: Option<OwnedFd>,
        name: String,
    ) -> Result<(), StoreError> {
        let Some(c) = self.control.as_ref() else {
            return Err(StoreError::Failed("no control socket".into()));
        };
        if let Some(busy) = c.jobs.busy() {
            return Err(StoreError::Failed(format!(
                "an {busy} is running; try again when it is done"
            )));
        }
        let file = File::from(
            file.ok_or_else(|| StoreError::Refused("no file came with the request".into()))?,
        );
        let export = what == "export";
        check_passed(&file, export).map_err(|e| e.context(format!("{what} of {name} refused")))?;
        let session = &mut self.session;
        let store = self.store.as_mut().ok_or(StoreError::Disabled)?;
        let work: Box<dyn FnOnce() -> Output + Send> = if export {
            let job = store.export_job(session, file, name);
            Box::new(move || Output::Exported(job()))
        } else {
            let job = store.import_job(session, file, name)?;
            Box::new(move || Output::Imported(job()))
        };
        match self.control.as_mut() {
            Some(c) => c.jobs.spawn(id, what, work).map_err(StoreError::Failed),
            None => Err(StoreError::Failed("no control socket".into())),
        }
    }

    /// Replaces the session with the import `prepared` holds: every client (the session is
    /// WAITING, so they wait in the lobby) gets a Disconnect saying why.
    pub(super) fn install_import(&mut self, prepared: PreparedImport) -> Reply {
        let name = prepared.name().to_owned();
        let session = &self.session;
        let finished = match self.store.as_mut() {
            Some(store) => store.import_finish(session, prepared),
            None => Err(StoreError::Disabled),
        };
        match finished {
            Ok((scene, done)) => {
                let now = self.shell.now();
                let reason = format!(
                    "the administrator imported a session from {name}; reconnect to get the \
                     imported scene"
                );
                self.session.replace_scene(now, &reason, scene);
                Reply::done(done)
            }
            Err(e) => store_reply(&e),
        }
    }

    /// Drops the session (after its backup, see [`Daemon::start_reset`]).
    pub(super) fn reset(&mut self) -> Reply {
        let now = self.shell.now();
        match self.session.handle_control(now, ControlRequest::Reset) {
            ControlReply::Done => Reply::done("session reset: back to WAITING"),
            ControlReply::Error(e) => Reply::error(ErrorCode::Failed, e),
            other => Reply::error(
                ErrorCode::Internal,
                format!("unexpected core reply {other:?}"),
            ),
        }
    }

    /// On the loop: the rebuilt session replaces the current one; everyone gets a Disconnect
    /// whose reason names the restore, and the new head is journaled.
    pub(super) fn install_restore(
        &mut self,
        repo: Repository,
        head: EncodedChanges,
        label: &str,
    ) -> Reply {
        let t = Instant::now();
        let what = format!("{} nodes", head.nodes);
        let scene = Store::restore_scene(repo, head);
        let now = self.shell.now();
        let reason = format!(
            "the administrator restored the session to {label}; reconnect to get the restored scene"
        );
        let old = self.session.replace_scene(now, &reason, scene);
        // 10,000 nodes take milliseconds to free: on a thread of its own.
        let _ = std::thread::Builder::new()
            .name("drop-old-session".into())
            .spawn(move || drop(old));
        let held = t.elapsed();
        log::warn!(
            "session restored to {label}: {what}; the event loop was held {} ms",
            held.as_millis()
        );
        self.last_restore_pause = Some(held);
        Reply::done(format!(
            "session restored to {label} ({what}); every client was disconnected and \
             gets the restored scene when it rejoins; the loop was held {} ms",
            held.as_millis()
        ))
    }
}
