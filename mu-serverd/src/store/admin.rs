//! What the daemon asks of the store besides journaling (`mu-ctl save`, `export`, `import`,
//! `reset`, `restore --at`, and the loop's tick and shutdown). The work that reads or writes a
//! whole session runs off the loop: the store takes what it needs from the session on the loop
//! (an image of `Arc` clones) and returns a [`Work`] for a thread.

use super::open::{apply_all, image_changes, image_of};
use super::{export, import, snapshot, Store, StoreError};
use crate::pickle::Value;
use crate::session::io::{Change, EncodedChanges, SceneRecord, SessionState, SnapshotSlot};
use crate::session::{Repository, Scene, Session};
use std::fs::File;
use std::sync::Arc;
use std::time::Instant;

/// Work for another thread, built by the store on the loop.
pub type Work<T> = Box<dyn FnOnce() -> Result<T, StoreError> + Send>;

/// A session file read and checked off the loop, ready to replace the session
/// ([`Store::import_finish`]).
pub struct PreparedImport {
    repo: Repository,
    /// The imported session, already written and synced as the next snapshot (not yet named).
    slot: SnapshotSlot,
    nodes: usize,
    name: String,
}

impl PreparedImport {
    /// The file's name as the administrator gave it (for replies and Disconnect reasons).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Store {
    /// The loop's periodic call once [`Store::next_deadline`] has passed.
    pub fn tick_session(&mut self, now: Instant, session: &mut Session) {
        self.tick(now, || image_of(session));
    }

    /// Writes the final snapshot, after every client got its Disconnect.
    pub fn shutdown_session(self, session: &mut Session) {
        self.shutdown(image_of(session));
    }

    /// `mu-ctl save`: starts a snapshot now (written by a thread); [`Store::take_save_result`]
    /// reports it on disk.
    pub fn save_start(&mut self, session: &mut Session) -> Result<(), StoreError> {
        self.request_save(|| image_of(session))
    }

    /// `mu-ctl export`: takes the session's image on the loop (`Arc` clones) and returns the
    /// work that writes it into `file`.
    pub fn export_job(&mut self, session: &mut Session, file: File, name: String) -> Work<String> {
        let image = image_of(session);
        Box::new(move || {
            let n = image.nodes.len();
            let bytes = export::write_to(file, &image, Value::dict(vec![]))
                .map_err(|e| StoreError::io("", e).context(format!("export to {name} failed")))?;
            Ok(format!("exported {n} nodes to {name} ({bytes} bytes)"))
        })
    }

    /// `mu-ctl import`: the work that reads and checks `file`, builds the new repository and
    /// writes it as the next snapshot. Refused unless the session is WAITING.
    pub fn import_job(
        &mut self,
        session: &mut Session,
        file: File,
        name: String,
    ) -> Result<Work<PreparedImport>, StoreError> {
        if session.state() != SessionState::Waiting {
            return Err(StoreError::NotNow(
                "import is only possible while the session is WAITING (mu-ctl reset first)".into(),
            ));
        }
        let limits = session.config().limits;
        let max = self.max_import_bytes;
        let slot = self.import_slot()?;
        Ok(Box::new(move || {
            let refused = |e: StoreError| e.context(format!("import of {name} refused"));
            let mut image = import::read_file(file, max, &limits).map_err(|e| refused(e.into()))?;
            let nodes = image.nodes.len();
            let mut repo = Repository::new(limits);
            let failed = apply_all(
                &mut repo,
                std::iter::once(Change::Reset).chain(image_changes(image.clone())),
            );
            if failed > 0 {
                return Err(refused(StoreError::Corrupt(format!(
                    "{failed} node(s) could not be stored"
                ))));
            }
            repo.settle_all();
            // The import becomes the next snapshot rather than thousands of journal records
            // written on the loop; installing it is a rename.
            image.last_seq = slot.last_seq;
            snapshot::write_aside(&slot.path, slot.generation, &image).map_err(|e| {
                StoreError::io("", e).context(format!(
                    "import of {name} failed: cannot write the snapshot"
                ))
            })?;
            Ok(PreparedImport {
                repo,
                slot,
                nodes,
                name,
            })
        }))
    }

    /// Checks, on the loop, that what [`Store::import_job`] prepared may still replace the
    /// session, and returns it as the scene the caller hands to [`Session::replace_scene`]
    /// (which disconnects every client, then emits its record for the journal), with the reply
    /// for the administrator.
    pub fn import_finish(
        &mut self,
        session: &Session,
        prepared: PreparedImport,
    ) -> Result<(Scene, String), StoreError> {
        let PreparedImport {
            repo,
            slot,
            nodes,
            name,
        } = prepared;
        if session.state() != SessionState::Waiting {
            let _ = std::fs::remove_file(&slot.path);
            return Err(StoreError::NotNow(format!(
                "import of {name} dropped: a session started while the file was being read"
            )));
        }
        self.check_import(&slot)
            .map_err(|e| e.context(format!("import of {name}")))?;
        let record = Some(SceneRecord::Snapshot(slot));
        Ok((
            Scene::Rebuilt { repo, record },
            format!("imported {nodes} nodes from {name}; the session is ACTIVE"),
        ))
    }

    /// `mu-ctl reset`: the work that writes `before-reset-<unix seconds>.db` (export format,
    /// `mu-ctl import` loads it again) into the state directory, off the loop, before the core
    /// drops the session; an Err from it refuses the reset. None: nothing to lose.
    pub fn reset_backup_job(&mut self, session: &mut Session) -> Option<Work<String>> {
        let dir = self.state_dir().to_path_buf();
        if session.state() == SessionState::Waiting && session.repository().is_empty() {
            return None;
        }
        let image = image_of(session);
        Some(Box::new(move || {
            let secs = crate::wallclock::now_unix_ms() / 1000;
            let path = dir.join(format!("before-reset-{secs}.db"));
            export::write(&path, &image, Value::dict(vec![])).map_err(|e| {
                StoreError::io("", e).context(format!(
                    "reset refused: cannot write the backup {}",
                    path.display()
                ))
            })?;
            log::warn!(
                "session backup before reset: {} (mu-ctl import can load it)",
                path.display()
            );
            Ok(path.display().to_string())
        }))
    }

    /// `mu-ctl restore`: `repo` (rebuilt from the history) as the scene the caller hands to
    /// [`Session::replace_scene`]; its record journals `head` (the encoded nodes of `repo`) as
    /// the new head.
    pub fn restore_scene(repo: Repository, head: EncodedChanges) -> Scene {
        let record = Some(SceneRecord::Changes(Arc::new(head)));
        Scene::Rebuilt { repo, record }
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
