//! `mu-ctl history`, `export --at` and `restore --at`: the work runs on a thread of its own
//! (scanning the state directory, rebuilding the session as at a moment), never on the event
//! loop. The loop only starts the thread, polls it every few milliseconds, and sends the reply;
//! for a restore it then disconnects everyone and installs the rebuilt repository.

use super::run::Daemon;
use super::store_requests::store_reply;
use crate::control::{ConnId, PeerInfo};
use crate::pickle::Value;
use crate::session::io::EncodedChanges;
use crate::session::Repository;
use crate::store::export;
use crate::store::history::{rebuild, summary, timeline};
use crate::store::{Store, StoreError};
use mu_ctl::proto::{ErrorCode, Reply, Request};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the loop checks a running job.
pub const POLL: Duration = Duration::from_millis(10);
/// History jobs running at once; more are refused (each may read the whole history).
const MAX_JOBS: usize = 2;

enum Outcome {
    Reply(Reply),
    Restore {
        repo: Box<Repository>,
        head: EncodedChanges,
        label: String,
    },
}

pub struct Job {
    conn: ConnId,
    name: &'static str,
    /// Time the loop spent starting the thread.
    spawn: Duration,
    started: Instant,
    handle: JoinHandle<Outcome>,
}

#[derive(Default)]
pub struct Jobs {
    running: Vec<Job>,
}

impl Jobs {
    pub fn next_wake(&self) -> Option<Instant> {
        (!self.running.is_empty()).then(|| Instant::now() + POLL)
    }
}

fn failed(e: StoreError) -> Outcome {
    Outcome::Reply(store_reply(&e))
}

fn scan(dir: &Path) -> Result<timeline::Scan, StoreError> {
    timeline::scan(dir).map_err(|e| {
        StoreError::io("", e).context(format!("cannot read the history in {}", dir.display()))
    })
}

/// The restore point for `at`: a moment the history does not hold is `NotFound`.
fn resolve(scan: &timeline::Scan, at: u64) -> Result<timeline::Point, StoreError> {
    scan.resolve(at).cloned().map_err(StoreError::NotFound)
}

/// `export --at`: the whole job, on the thread; `file` is the one mu-ctl created and passed.
fn export_at(
    dir: PathBuf,
    limits: crate::pickle::Limits,
    file: File,
    path: String,
    at: u64,
) -> Outcome {
    let t = Instant::now();
    let scan = match scan(&dir) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let point = match resolve(&scan, at) {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let mut repo = match rebuild::repository_at(&scan, &point, limits) {
        Ok(r) => r,
        Err(e) => return failed(StoreError::Corrupt(e)),
    };
    let image = rebuild::image_of(&mut repo);
    let n = image.nodes.len();
    match export::write_to(file, &image, Value::dict(vec![])) {
        Ok(bytes) => Outcome::Reply(Reply::done(format!(
            "exported {n} nodes as at {} (the last change at or before it was journaled at {}) \
             to {path} ({bytes} bytes) in {} ms",
            timeline::fmt_ms(at),
            timeline::fmt_ms(point.unix_ms),
            t.elapsed().as_millis()
        ))),
        Err(e) => failed(StoreError::io("", e).context(format!("export to {path} failed"))),
    }
}

fn restore_at(dir: PathBuf, limits: crate::pickle::Limits, at: u64) -> Outcome {
    let scan = match scan(&dir) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let point = match resolve(&scan, at) {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    match rebuild::repository_at(&scan, &point, limits) {
        Ok(mut repo) => {
            // Encode edited nodes and the journal records here, not on the loop.
            let head = rebuild::encode(&rebuild::image_of(&mut repo));
            Outcome::Restore {
                repo: Box::new(repo),
                head,
                label: timeline::fmt_ms(at),
            }
        }
        Err(e) => failed(StoreError::Corrupt(e)),
    }
}

impl Daemon {
    /// Starts the job of a history request. `Err(reply)`: answer at once (refused). The reply
    /// is boxed: a `Reply` can hold a whole history listing.
    pub(super) fn start_history_job(
        &mut self,
        conn: ConnId,
        req: Request,
        peer: &PeerInfo,
        file: Option<File>,
    ) -> Result<(), Box<Reply>> {
        let Some(dir) = self.store.as_ref().map(|s| s.state_dir().to_path_buf()) else {
            let e = StoreError::Disabled.context("there is no history");
            return Err(Box::new(store_reply(&e)));
        };
        if self.history.running.len() >= MAX_JOBS {
            return Err(Box::new(Reply::error(
                ErrorCode::Refused,
                "busy: two history requests are running; try again when they are done",
            )));
        }
        let t0 = Instant::now();
        let limits = self.session.config().limits;
        let name = req.name();
        let work: Box<dyn FnOnce() -> Outcome + Send> = match req {
            Request::History { since_unix_ms } => {
                log::info!("history requested by {peer}");
                Box::new(move || match scan(&dir) {
                    Ok(s) => Outcome::Reply(Reply::History(summary::summarize(&s, since_unix_ms))),
                    Err(e) => failed(e),
                })
            }
            Request::ExportAt { name, at_unix_ms } => {
                let Some(file) = file else {
                    return Err(Box::new(Reply::error(
                        ErrorCode::BadRequest,
                        "no file came with the request",
                    )));
                };
                let name = super::requests::shown(&name);
                log::info!(
                    "export of the session as at {} to {name} requested by {peer}",
                    timeline::fmt_ms(at_unix_ms)
                );
                Box::new(move || export_at(dir, limits, file, name, at_unix_ms))
            }
            Request::Restore { at_unix_ms } => {
                log::warn!(
                    "restore of the session to {} requested by {peer}",
                    timeline::fmt_ms(at_unix_ms)
                );
                Box::new(move || restore_at(dir, limits, at_unix_ms))
            }
            other => {
                return Err(Box::new(Reply::error(
                    ErrorCode::Internal,
                    format!("{} is not a history request", other.name()),
                )))
            }
        };
        let handle = std::thread::Builder::new()
            .name(format!("history-{name}"))
            .spawn(work)
            .map_err(|e| {
                Box::new(Reply::error(
                    ErrorCode::Failed,
                    format!("cannot start a thread: {e}"),
                ))
            })?;
        self.history.running.push(Job {
            conn,
            name,
            spawn: t0.elapsed(),
            started: t0,
            handle,
        });
        Ok(())
    }

    /// Called on every wake-up: answers the jobs that finished; installs a restore.
    pub(super) fn poll_history_jobs(&mut self) {
        if self.history.running.iter().all(|j| !j.handle.is_finished()) {
            return;
        }
        let (done, running): (Vec<Job>, Vec<Job>) = std::mem::take(&mut self.history.running)
            .into_iter()
            .partition(|j| j.handle.is_finished());
        self.history.running = running;
        for job in done {
            let t = Instant::now();
            let outcome = job.handle.join().unwrap_or_else(|_| {
                Outcome::Reply(Reply::error(
                    ErrorCode::Internal,
                    "the history thread panicked (a bug; the daemon keeps running)",
                ))
            });
            let reply = match outcome {
                Outcome::Reply(r) => r,
                Outcome::Restore { repo, head, label } => self.install_restore(*repo, head, &label),
            };
            self.pump();
            self.control_reply(job.conn, reply);
            log::info!(
                "history job answered: {} in {} ms on its thread; the event loop spent {} us \
                 on it",
                job.name,
                job.started.elapsed().as_millis(),
                (job.spawn + t.elapsed()).as_micros()
            );
        }
    }

    /// On the loop: the rebuilt session replaces the current one; everyone gets a Disconnect
    /// whose reason names the restore, and the new head is journaled.
    fn install_restore(&mut self, repo: Repository, head: EncodedChanges, label: &str) -> Reply {
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
