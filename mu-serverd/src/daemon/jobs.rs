//! Control requests whose work must not run on the event loop: `mu-ctl export` (encode, gzip,
//! write, fsync), `mu-ctl import` (read, inflate, decode, check, build the repository, write it
//! as the next snapshot) and the backup `mu-ctl reset` writes first. The
//! loop takes what it needs from the session (an image of `Arc` clones), hands the rest to one
//! worker thread, and answers the request when the thread is done; meanwhile clients are
//! served. One job at a time: a second request is refused while one runs.

use crate::control::ConnId;
use crate::store::{PreparedImport, StoreError};
use std::fs::File;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the loop looks at a running job (it wakes only while one runs).
const POLL: Duration = Duration::from_millis(10);

/// What a finished job produced.
pub(crate) enum Output {
    /// The reply text of an export (Ok) or why it failed.
    Exported(Result<String, StoreError>),
    /// A checked import, still to be installed on the loop.
    Imported(Result<PreparedImport, StoreError>),
    /// The backup `mu-ctl reset` writes first (its path), or why it failed.
    ResetBackup(Result<String, StoreError>),
}

struct Running {
    conn: ConnId,
    what: &'static str,
    handle: JoinHandle<Output>,
}

#[derive(Default)]
pub(crate) struct Jobs {
    running: Option<Running>,
}

impl Jobs {
    /// The kind of job running, if any.
    pub(crate) fn busy(&self) -> Option<&'static str> {
        self.running.as_ref().map(|r| r.what)
    }

    /// Starts `work` on a new thread; its result is answered to `conn`.
    pub(crate) fn spawn(
        &mut self,
        conn: ConnId,
        what: &'static str,
        work: impl FnOnce() -> Output + Send + 'static,
    ) -> Result<(), String> {
        if let Some(r) = &self.running {
            return Err(format!(
                "an {} is running; try again when it is done",
                r.what
            ));
        }
        let handle = std::thread::Builder::new()
            .name(format!("mu-ctl-{what}"))
            .spawn(work)
            .map_err(|e| format!("cannot start the {what} thread: {e}"))?;
        self.running = Some(Running { conn, what, handle });
        Ok(())
    }

    /// When the loop should look again (only while a job runs).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.running.as_ref().map(|_| Instant::now() + POLL)
    }

    /// The finished job, if the thread is done.
    pub(crate) fn take_finished(&mut self) -> Option<(ConnId, Output)> {
        if !self.running.as_ref()?.handle.is_finished() {
            return None;
        }
        let r = self.running.take()?;
        let out = r.handle.join().unwrap_or_else(|_| {
            let msg = format!("internal error: the {} thread panicked", r.what);
            log::error!("{msg}");
            let msg = StoreError::Failed(msg);
            match r.what {
                "import" => Output::Imported(Err(msg)),
                "reset" => Output::ResetBackup(Err(msg)),
                _ => Output::Exported(Err(msg)),
            }
        });
        Some((r.conn, out))
    }
}

/// Checks a descriptor a control peer passed: a regular file, open for reading (import) or
/// writing (export). The peer chose it; the daemon only ever uses it as given.
pub(crate) fn check_passed(file: &File, write: bool) -> Result<(), StoreError> {
    crate::files::check_regular(file)
        .map_err(|e| StoreError::Refused(format!("the file passed {e}")))?;
    let flags = nix::fcntl::fcntl(file, nix::fcntl::FcntlArg::F_GETFL)
        .map_err(|e| StoreError::io("", e.into()).context("cannot inspect the file passed"))?;
    let mode = flags & libc::O_ACCMODE;
    let ok = if write {
        mode == libc::O_WRONLY || mode == libc::O_RDWR
    } else {
        mode == libc::O_RDONLY || mode == libc::O_RDWR
    };
    if !ok {
        let want = if write { "writing" } else { "reading" };
        return Err(StoreError::Refused(format!(
            "the file passed is not open for {want}"
        )));
    }
    Ok(())
}
