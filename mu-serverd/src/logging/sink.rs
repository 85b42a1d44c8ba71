//! The three places a log line can go, each with the right priority encoding.

use super::{severity, time};
use std::io::Write;
use std::path::Path;
use syslog::{Facility, Formatter3164, LoggerBackend};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkKind {
    Journal,
    Syslog,
    Stderr,
}

pub enum Sink {
    /// `<N>message` lines on stderr, parsed by journald's stream transport.
    Journal,
    Syslog(Box<syslog::Logger<LoggerBackend, Formatter3164>>),
    /// `2026-01-01T00:00:00.000Z LEVEL message` lines on stderr.
    Stderr,
}

impl Sink {
    pub fn journal() -> Sink {
        Sink::Journal
    }
    pub fn stderr() -> Sink {
        Sink::Stderr
    }
    /// Connects to a syslog datagram (or stream) socket at `path`; an error if nothing listens.
    pub fn syslog(path: &Path) -> Result<Sink, String> {
        let fmt = Formatter3164 {
            facility: Facility::LOG_DAEMON,
            hostname: None,
            process: "mu-serverd".into(),
            pid: std::process::id(),
        };
        syslog::unix_custom(fmt, path)
            .map(|l| Sink::Syslog(Box::new(l)))
            .map_err(|e| format!("cannot log to syslog socket {}: {e}", path.display()))
    }
    pub fn kind(&self) -> SinkKind {
        match self {
            Sink::Journal => SinkKind::Journal,
            Sink::Syslog(_) => SinkKind::Syslog,
            Sink::Stderr => SinkKind::Stderr,
        }
    }

    /// Writes one record. Failures are ignored: there is nowhere left to report them.
    pub fn write(&mut self, level: log::Level, msg: &str) {
        match self {
            Sink::Journal => {
                let mut out = String::with_capacity(msg.len() + 4);
                // journald splits on newlines; keep one record one line.
                for (i, line) in msg.split('\n').enumerate() {
                    if i == 0 {
                        out.push_str(&format!("<{}>{line}\n", severity(level)));
                    } else {
                        out.push_str(&format!("<{}>  {line}\n", severity(level)));
                    }
                }
                let _ = std::io::stderr().lock().write_all(out.as_bytes());
            }
            Sink::Syslog(l) => {
                let m = msg.to_string();
                let _ = match level {
                    log::Level::Error => l.err(m),
                    log::Level::Warn => l.warning(m),
                    log::Level::Info => l.info(m),
                    log::Level::Debug | log::Level::Trace => l.debug(m),
                };
            }
            Sink::Stderr => {
                let line = format!("{} {:<5} {msg}\n", time::utc_now(), level);
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }
}
