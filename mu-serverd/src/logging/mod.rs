//! Logging for a systemd service: one small `log::Log` that writes to the sink chosen at start.
//!
//! - journal: stderr is connected to journald (`JOURNAL_STREAM` matches stderr's dev:ino, or
//!   `target = "journal"`): lines prefixed `<N>` so journald records the priority;
//! - syslog: RFC 3164 datagrams to `/dev/log` (or `log.syslog_socket`) via the `syslog` crate,
//!   never its `init()` which silently falls back to UDP;
//! - stderr: plain lines with a UTC timestamp, for a server started by hand.
//!
//! The level can change at runtime (reload) through `log::set_max_level`.

mod journal;
mod sink;
pub(crate) mod time;

pub use journal::stderr_is_journal;
pub use sink::{Sink, SinkKind};

use crate::config::{Log as LogConfig, LogTarget};
use std::sync::Mutex;

/// syslog/journald severity of a `log` level: err 3, warning 4, info 6, debug 7.
pub fn severity(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

struct Logger {
    sink: Mutex<Sink>,
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        // A poisoned lock only means another thread panicked mid-write; keep logging.
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        sink.write(r.level(), &r.args().to_string());
    }
    fn flush(&self) {}
}

/// Picks the sink for `cfg` and installs the global logger. Returns which sink was chosen and,
/// for `auto` falling back to stderr, why.
pub fn init(cfg: &LogConfig) -> Result<(SinkKind, Option<String>), String> {
    let (sink, note) = choose(cfg)?;
    let kind = sink.kind();
    log::set_boxed_logger(Box::new(Logger {
        sink: Mutex::new(sink),
    }))
    .map_err(|e| format!("logger already installed: {e}"))?;
    set_level(cfg.level);
    Ok((kind, note))
}

fn choose(cfg: &LogConfig) -> Result<(Sink, Option<String>), String> {
    match cfg.target {
        LogTarget::Journal => Ok((Sink::journal(), None)),
        LogTarget::Stderr => Ok((Sink::stderr(), None)),
        LogTarget::Syslog => Sink::syslog(&cfg.syslog_socket).map(|s| (s, None)),
        LogTarget::Auto => {
            if stderr_is_journal() {
                return Ok((Sink::journal(), None));
            }
            match Sink::syslog(&cfg.syslog_socket) {
                Ok(s) => Ok((s, None)),
                Err(e) => Ok((Sink::stderr(), Some(e))),
            }
        }
    }
}

/// Applies a (reloaded) level.
pub fn set_level(level: log::LevelFilter) {
    log::set_max_level(level);
}
