//! The control socket inside the loop: `crate::control::ControlServer` (accepting, peer checks,
//! framing) is bound here and hands over decoded requests; [`super::requests`] decides what
//! each one does. Idle connections are closed by `Daemon::control_tick`.

use super::jobs::Jobs;
use crate::config::Config;
use crate::control::{ConnId, ControlError, ControlServer};
use mio::{Registry, Token};
use std::time::Instant;

/// The control listener's poll token; its connections use the tokens after it.
pub(super) const CONTROL_LISTENER: Token = Token(10);
pub(super) const CONTROL_FIRST_CONN: usize = 11;

pub(super) struct Control {
    pub(super) server: ControlServer,
    pub(super) jobs: Jobs,
    /// `mu-ctl save` requests waiting for their snapshot to reach the disk.
    pub(super) save_waiters: Vec<ConnId>,
    pub(super) path: std::path::PathBuf,
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
    pub(super) fn start(cfg: &Config, registry: &Registry) -> Result<Option<Control>, String> {
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

    pub(super) fn owns(&self, t: Token) -> bool {
        self.server.owns(t)
    }

    /// When [`Daemon::control_tick`] has work: an idle connection to close, a job to collect.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        [self.server.next_deadline(), self.jobs.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Lets pending replies (`mu-ctl stop`'s answer) go out, then removes the socket.
    pub(super) fn close(mut self, registry: &Registry) {
        self.server.flush_all(std::time::Duration::from_millis(500));
        self.server.deregister(registry);
        log::debug!("control socket {} closed", self.path.display());
    }
}
