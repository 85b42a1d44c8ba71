//! Why the control socket could not be set up. Each variant names the path and says what the
//! admin can do about it, because these end up as the daemon's last log line before exiting.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub(crate) enum ControlError {
    /// `[control] group` names a group that does not exist.
    UnknownGroup {
        name: String,
    },
    CreateDir {
        path: PathBuf,
        source: io::Error,
    },
    /// Another process (probably another mu-serverd) accepts connections on the path.
    InUse {
        path: PathBuf,
    },
    /// Something that is not a socket sits at the path; we never delete it.
    NotASocket {
        path: PathBuf,
    },
    RemoveStale {
        path: PathBuf,
        source: io::Error,
    },
    Bind {
        path: PathBuf,
        source: io::Error,
    },
    Chown {
        path: PathBuf,
        group: String,
        source: io::Error,
    },
    Register(io::Error),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::UnknownGroup { name } => write!(
                f,
                "control socket group {name:?} does not exist (create it, or change [control] \
                 group)"
            ),
            ControlError::CreateDir { path, source } => {
                write!(f, "cannot create directory {}: {source}", path.display())
            }
            ControlError::InUse { path } => write!(
                f,
                "control socket {} is in use: another mu-serverd is running there (stop it, or \
                 set another [control] socket)",
                path.display()
            ),
            ControlError::NotASocket { path } => write!(
                f,
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            ),
            ControlError::RemoveStale { path, source } => write!(
                f,
                "cannot remove stale control socket {}: {source}",
                path.display()
            ),
            ControlError::Bind { path, source } => {
                write!(f, "cannot bind control socket {}: {source}", path.display())
            }
            ControlError::Chown {
                path,
                group,
                source,
            } => write!(
                f,
                "cannot give control socket {} to group {group}: {source} (the daemon must run \
                 as root or as a member of {group})",
                path.display()
            ),
            ControlError::Register(e) => write!(f, "cannot register control socket: {e}"),
        }
    }
}

impl std::error::Error for ControlError {}
