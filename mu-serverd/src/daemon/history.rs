//! `mu-ctl history`, `export --at` and `restore --at`: the work runs on a thread of its own
//! (scanning the state directory, rebuilding the session as at a moment), never on the event
//! loop. The loop only starts the thread ([`Jobs::start`]), polls it every few milliseconds
//! ([`Jobs::take_finished`]), and sends the reply; for a restore it then disconnects everyone
//! and installs the rebuilt repository (`Daemon::install_restore`). This file knows nothing of
//! the daemon: it is given the state directory and the limits, and hands back outcomes.

use super::replies::{shown, store_reply};
use crate::control::{ConnId, PeerInfo};
use crate::pickle::{Limits, Value};
use crate::session::io::EncodedChanges;
use crate::session::Repository;
use crate::store::export;
use crate::store::history::{rebuild, summary, timeline};
use crate::store::StoreError;
use mu_ctl::proto::{ErrorCode, Reply, Request};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the loop checks a running job.
pub(super) const POLL: Duration = Duration::from_millis(10);
/// History jobs running at once; more are refused (each may read the whole history).
const MAX_JOBS: usize = 2;

/// What a history job produced.
pub(super) enum Outcome {
    /// The reply, as it is.
    Reply(Reply),
    /// A rebuilt session to install on the loop, then answer.
    Restore {
        repo: Box<Repository>,
        head: EncodedChanges,
        label: String,
    },
}

struct Job {
    conn: ConnId,
    name: &'static str,
    /// Time the loop spent starting the thread.
    spawn: Duration,
    started: Instant,
    handle: JoinHandle<Outcome>,
}

/// A job whose thread is done: who asked, and how long it took.
pub(super) struct Finished {
    pub conn: ConnId,
    name: &'static str,
    spawn: Duration,
    started: Instant,
}

impl Finished {
    /// One line once the reply is sent: the time on the thread and on the loop (`on_loop`:
    /// what the loop spent after the thread finished, installing and answering).
    pub(super) fn log_answered(&self, on_loop: Duration) {
        log::info!(
            "history job answered: {} in {} ms on its thread; the event loop spent {} us on it",
            self.name,
            self.started.elapsed().as_millis(),
            (self.spawn + on_loop).as_micros()
        );
    }
}

#[derive(Default)]
pub(super) struct Jobs {
    running: Vec<Job>,
}

impl Jobs {
    pub(super) fn next_wake(&self) -> Option<Instant> {
        (!self.running.is_empty()).then(|| Instant::now() + POLL)
    }

    /// Starts the job of a history request. `Err(reply)`: answer at once (refused). The reply
    /// is boxed: a `Reply` can hold a whole history listing.
    /// `dir`: the state directory, `None` when persistence is off (there is no history).
    pub(super) fn start(
        &mut self,
        conn: ConnId,
        req: Request,
        peer: &PeerInfo,
        file: Option<File>,
        dir: Option<PathBuf>,
        limits: Limits,
    ) -> Result<(), Box<Reply>> {
        let Some(dir) = dir else {
            let e = StoreError::Disabled.context("there is no history");
            return Err(Box::new(store_reply(&e)));
        };
        if self.running.len() >= MAX_JOBS {
            return Err(Box::new(Reply::error(
                ErrorCode::Refused,
                "busy: two history requests are running; try again when they are done",
            )));
        }
        let t0 = Instant::now();
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
                let name = shown(&name);
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
        self.running.push(Job {
            conn,
            name,
            spawn: t0.elapsed(),
            started: t0,
            handle,
        });
        Ok(())
    }

    /// The jobs whose thread is done (a panicked thread is answered as an internal error).
    pub(super) fn take_finished(&mut self) -> Vec<(Finished, Outcome)> {
        if self.running.iter().all(|j| !j.handle.is_finished()) {
            return Vec::new();
        }
        let (done, running): (Vec<Job>, Vec<Job>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|j| j.handle.is_finished());
        self.running = running;
        done.into_iter()
            .map(|job| {
                let outcome = job.handle.join().unwrap_or_else(|_| {
                    Outcome::Reply(Reply::error(
                        ErrorCode::Internal,
                        "the history thread panicked (a bug; the daemon keeps running)",
                    ))
                });
                let done = Finished {
                    conn: job.conn,
                    name: job.name,
                    spawn: job.spawn,
                    started: job.started,
                };
                (done, outcome)
            })
            .collect()
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

/// The session as it was at `at`, rebuilt from the state directory, with the point it was
/// rebuilt at: a moment the history does not hold is `NotFound`.
fn repository_at(
    dir: &Path,
    limits: Limits,
    at: u64,
) -> Result<(Repository, timeline::Point), StoreError> {
    let scan = scan(dir)?;
    let point = scan.resolve(at).cloned().map_err(StoreError::NotFound)?;
    let repo = rebuild::repository_at(&scan, &point, limits).map_err(StoreError::Corrupt)?;
    Ok((repo, point))
}

/// `export --at`: the whole job, on the thread; `file` is the one mu-ctl created and passed.
fn export_at(dir: PathBuf, limits: Limits, file: File, path: String, at: u64) -> Outcome {
    let t = Instant::now();
    let (mut repo, point) = match repository_at(&dir, limits, at) {
        Ok(r) => r,
        Err(e) => return failed(e),
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

fn restore_at(dir: PathBuf, limits: Limits, at: u64) -> Outcome {
    match repository_at(&dir, limits, at) {
        Ok((mut repo, _)) => {
            // Encode edited nodes and the journal records here, not on the loop.
            let head = rebuild::encode(&rebuild::image_of(&mut repo));
            Outcome::Restore {
                repo: Box::new(repo),
                head,
                label: timeline::fmt_ms(at),
            }
        }
        Err(e) => failed(e),
    }
}
