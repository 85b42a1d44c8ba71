//! Which replication version a login must speak (issue 17). The admin lists the versions the
//! server admits (`[server] client_versions`); one session holds one addon generation, because
//! generations dump Blender datablocks differently and must not edit one scene together.
//!
//! The first client admitted fixes the session's version. It binds while the session holds
//! anything to protect: a logged-in client or a scene (any state but WAITING). A WAITING
//! session nobody is logged in to is free again, so an admin does not have to reset a session
//! that a client merely looked into. The version is part of the durable session
//! (`Change::ClientVersion`, snapshot format 2), so a restart keeps it with the scene.

use super::io::{Change, SessionState};
use super::Session;
use crate::pickle::Value;
use log::Level;

/// Why a login's version is refused: the reference's answer, and a hint for the log line.
pub(super) struct VersionRefusal {
    pub reply: String,
    pub note: Option<String>,
}

impl Session {
    /// The version this session holds, if it binds logins now (see the module docs).
    pub fn client_version(&self) -> Option<&str> {
        if self.repo.state() == SessionState::Waiting && self.clients.is_empty() {
            None
        } else {
            self.repo.client_version()
        }
    }

    /// What `RequestServerInfo` reports: the session's version, else the first one listed.
    pub(super) fn advertised_version(&self) -> &str {
        match self.client_version() {
            Some(v) => v,
            None => self
                .cfg
                .client_versions
                .first()
                .map_or(super::config::DEFAULT_CLIENT_VERSION, String::as_str),
        }
    }

    /// Admits `sent` (the Auth's VERSION) when it is listed and, if the session holds a
    /// version, equal to it. The reply keeps the reference's wording, `(sent != wanted)`.
    pub(super) fn check_version(&self, sent: &Value) -> Result<String, VersionRefusal> {
        let text = sent.as_str();
        let listed = text.is_some_and(|t| self.cfg.client_versions.iter().any(|v| v == t));
        let held = self.client_version();
        match held {
            Some(h) if listed && text == Some(h) => Ok(h.to_owned()),
            None if listed => Ok(text.unwrap_or_default().to_owned()),
            Some(h) if listed => Err(VersionRefusal {
                reply: format!("FAILED: wrong client version ({} != {h})", py_text(sent)),
                note: Some(format!(
                    "this session holds replication {h} clients until it is reset \
                     (mu-ctl reset)"
                )),
            }),
            _ => Err(VersionRefusal {
                reply: format!(
                    "FAILED: wrong client version ({} != {})",
                    py_text(sent),
                    self.cfg.client_versions.join(" or ")
                ),
                note: held
                    .filter(|h| !self.cfg.client_versions.iter().any(|v| v == h))
                    .map(|h| {
                        format!(
                            "this session holds replication {h} clients, which \
                             [server] client_versions no longer lists"
                        )
                    }),
            }),
        }
    }

    /// A client of `version` was admitted: the session holds that version from now on. The
    /// change is journaled only when the recorded version differs.
    pub(super) fn hold_version(&mut self, version: &str) {
        if self.repo.client_version() == Some(version) {
            return;
        }
        if self.change(Change::ClientVersion(Some(version.to_owned()))) {
            self.log(
                Level::Info,
                format!("the session now holds replication {version} clients"),
            );
        }
    }

    /// After a reload: a session holding a version the new list lacks admits nobody new.
    pub(super) fn warn_unlisted_version(&mut self) {
        let unlisted = self
            .client_version()
            .filter(|h| !self.cfg.client_versions.iter().any(|v| v == h))
            .map(str::to_owned);
        if let Some(h) = unlisted {
            self.log(
                Level::Warn,
                format!(
                    "the session holds replication {h} clients, which [server] client_versions \
                     ({}) no longer lists: nobody can join it until it is reset",
                    self.cfg.client_versions.join(", ")
                ),
            );
        }
    }
}

/// `str()` of the sent value as the reference formats it (`None` for a missing VERSION).
fn py_text(v: &Value) -> String {
    super::wire::py_str(v)
}
