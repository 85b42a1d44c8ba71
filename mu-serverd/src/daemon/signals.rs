//! SIGTERM, SIGINT and SIGHUP as events in the mio loop, through one signalfd: the signals are
//! blocked for the thread (and so for threads started later), and the loop reads which one
//! arrived. No handler runs asynchronously, so nothing can race the loop, and SIGHUP stays a
//! reload (unlike `ctrlc`'s `termination` feature, see notes/crates.md §4). libzmq's own threads
//! block every signal themselves.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::{AsRawFd, RawFd};

/// What a signal asks the daemon to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Stop(&'static str),
    Reload,
}

pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks the three signals on the calling thread and opens the signalfd. Call it first in
    /// `main`, before any other thread exists.
    pub fn install() -> nix::Result<Signals> {
        let mut set = SigSet::empty();
        set.add(Signal::SIGTERM);
        set.add(Signal::SIGINT);
        set.add(Signal::SIGHUP);
        set.thread_block()?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Every pending signal, in arrival order (the fd is edge-registered: read until empty).
    pub fn drain(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        // Bounded: the kernel queues at most one of each standard signal.
        for _ in 0..64 {
            match self.fd.read_signal() {
                Ok(Some(si)) => match Signal::try_from(si.ssi_signo as i32) {
                    Ok(Signal::SIGHUP) => out.push(Request::Reload),
                    Ok(Signal::SIGINT) => out.push(Request::Stop("SIGINT")),
                    Ok(Signal::SIGTERM) => out.push(Request::Stop("SIGTERM")),
                    _ => {}
                },
                Ok(None) => break,
                Err(e) => {
                    log::warn!("reading the signalfd failed: {e}");
                    break;
                }
            }
        }
        out
    }
}
