//! Whole-session changes: `mu-ctl import`, `mu-ctl reset`, `mu-ctl restore --at` and the
//! start-up load all go through [`Session::replace_scene`], so each connected client (in the
//! lobby or active) gets its `Disconnect {reason}` and the journal receives the new scene in
//! the session's own order. Nothing outside the core swaps the repository.

use super::io::{Action, Change, Millis, SceneRecord, SessionState};
use super::repository::{Repository, COMMON};
use super::Session;
use log::Level;

/// What replaces the session.
pub enum Scene {
    /// Nothing: back to WAITING with an empty repository (`mu-ctl reset`), journaled as a
    /// `Change::Reset`.
    Empty,
    /// A repository built elsewhere: an import, a restore, or the session recovered at start.
    /// `record` is how persistence journals it ([`Action::PersistScene`]); `None` when it is
    /// on disk already (the start-up load).
    Rebuilt {
        repo: Repository,
        record: Option<SceneRecord>,
    },
}

impl Session {
    /// Replaces the whole session: every client, in the lobby or active, gets
    /// `Disconnect {reason}` and is forgotten (with its heartbeat, join and upload), then the
    /// new scene is installed and journaled. A rebuilt scene's locks go back to COMMON
    /// (nobody who held them is connected, difference 11), and one caught mid-upload starts
    /// over from WAITING.
    ///
    /// Returns the repository it replaced (`None` for [`Scene::Empty`], which clears in place),
    /// so the driver may free a large one on another thread.
    pub fn replace_scene(&mut self, now: Millis, reason: &str, scene: Scene) -> Option<Repository> {
        self.now = self.now.max(now);
        for id in self.clients.ids() {
            self.send_disconnect(&id, reason);
            if let Some(c) = self.clients.remove(&id) {
                self.log(
                    Level::Info,
                    format!("{} disconnected from the server [{reason}]", c.name),
                );
            }
        }
        self.beats.clear();
        self.joins.clear();
        self.upload = None;
        self.upload_end = None;
        self.decoded.clear();
        match scene {
            Scene::Empty => {
                self.attribute(None);
                self.change(Change::Reset);
                None
            }
            Scene::Rebuilt { repo, record } => Some(self.install(repo, record)),
        }
    }

    fn install(&mut self, mut repo: Repository, record: Option<SceneRecord>) -> Repository {
        repo.set_limits(self.cfg.limits);
        repo.settle_all();
        let old = std::mem::replace(&mut self.repo, repo);
        if let Some(r) = record {
            self.attribute(None);
            self.out.push_back(Action::PersistScene(r));
        }
        if self.repo.state() == SessionState::SrvSync {
            self.log(
                Level::Warn,
                "restored session was still uploading: back to WAITING".into(),
            );
            self.attribute(None);
            self.change(Change::Reset);
            return old;
        }
        let locked: Vec<String> = self
            .repo
            .owners()
            .filter(|(_, owner)| *owner != COMMON)
            .map(|(uuid, _)| uuid.to_owned())
            .collect();
        if !locked.is_empty() {
            self.attribute(None);
            self.change(Change::OwnersChanged {
                uuids: locked,
                owner: COMMON.into(),
            });
        }
        let version = match self.client_version() {
            Some(v) => format!(", replication {v} clients"),
            None => String::new(),
        };
        self.log(
            Level::Info,
            format!(
                "session installed: state {:?}, {} nodes{version}",
                self.repo.state(),
                self.repo.len()
            ),
        );
        old
    }

    /// Re-encodes the nodes a Commit made stale, so [`Session::repository`] hands
    /// persistence current bytes (snapshots, exports). Changes no state a client can see.
    pub fn refresh_encodings(&mut self) {
        self.repo.refresh();
    }
}
