//! The store behind the daemon's persistence hook ([`crate::daemon::Persistence`]): start-up
//! (recover, rebuild the repository, restore the session, open the journal), then the event
//! loop's calls (journal each change, periodic snapshots, `mu-ctl save/export/import/reset`,
//! final snapshot at shutdown).

use super::live::ImportSlot;
use super::live::Store;
use super::recover::{self, Recovered};
use super::snapshot::{self, Image};
use super::{export, import};
use crate::config::Config;
use crate::daemon::jobs::Work;
use crate::daemon::Persistence;
use crate::pickle::Value;
use crate::session::io::{Change, SceneRecord, SessionState};
use crate::session::{Repository, Scene, Session};
use std::fs::File;
use std::time::Instant;

pub struct StorePersistence {
    store: Store,
    /// `[storage] max_import_bytes`.
    max_import_bytes: u64,
}

/// A session file read and checked off the loop, ready to replace the session
/// ([`crate::daemon::Persistence::import_finish`]).
pub struct PreparedImport {
    repo: Repository,
    /// The imported session, already written and synced as the next snapshot (not yet named).
    slot: ImportSlot,
    nodes: usize,
    name: String,
}

/// How this store journals a whole scene the core installed ([`Action::PersistScene`]).
///
/// [`Action::PersistScene`]: crate::session::io::Action::PersistScene
enum StoreScene {
    /// An import, written as the next snapshot: installed with a rename and a new journal.
    Import(ImportSlot),
    /// A restore: `Reset`, then every node and the state, journaled like an import (one
    /// write), so a restart or a later restore sees it; the history before it stays on disk,
    /// so a restore can itself be undone. Encoded off the loop.
    Restore(super::history::rebuild::Encoded),
}

impl PreparedImport {
    /// The file's name as the administrator gave it (for replies and Disconnect reasons).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The session as a snapshot or an export holds it. Nodes whose bytes a Commit made stale are
/// re-encoded (and cached) first; everything else is an `Arc` clone.
pub fn image_of(session: &mut Session) -> Image {
    session.refresh_encodings();
    Image::of_repository(session.repository())
}

fn apply_all(repo: &mut Repository, changes: impl IntoIterator<Item = Change>) -> usize {
    let mut failed = 0;
    for c in changes {
        if let Err(e) = repo.apply_change(&c) {
            failed += 1;
            if failed <= 10 {
                log::error!("replay: a saved change could not be applied again ({e}); skipped");
            }
        }
    }
    failed
}

/// The changes that rebuild an image. The version always comes along, `None` included: an
/// imported scene must not keep the version of the session it replaces.
fn image_changes(image: Image) -> impl Iterator<Item = Change> {
    let state = image.state;
    let version = Change::ClientVersion(image.client_version);
    image
        .nodes
        .into_iter()
        .map(|n| Change::NodeStored {
            uuid: n.uuid,
            owner: n.owner,
            deps: n.deps,
            data: n.data,
        })
        .chain([version, Change::State(state)])
}

/// Opens persistence for the daemon, before READY: recovers the state directory (or seeds it
/// from `[storage] import` when it is empty), restores the session, and starts the journal.
/// `reset_state` (the `--reset-state` flag) first moves any old state aside.
pub fn open(
    cfg: &Config,
    session: &mut Session,
    reset_state: bool,
) -> Result<Box<dyn Persistence>, String> {
    let st = &cfg.storage;
    let dir = &st.state_dir;
    if reset_state {
        match recover::discard(dir) {
            Ok(Some(aside)) => log::warn!(
                "--reset-state: old session state moved to {}",
                aside.display()
            ),
            Ok(None) => log::info!("--reset-state: {} held no session state", dir.display()),
            Err(e) => {
                return Err(format!(
                    "--reset-state: cannot move the old state aside in {}: {e}",
                    dir.display()
                ))
            }
        }
    }
    let t = Instant::now();
    let limits = session.config().limits;
    let mut repo = Repository::new(limits);
    let (newest, last_seq) = match recover::recover(dir).map_err(|e| e.to_string())? {
        Some(Recovered {
            base,
            base_generation,
            changes,
            last_seq,
            newest_generation,
            repaired,
        }) => {
            let (nodes, replayed) = (base.nodes.len(), changes.len());
            let mut failed = apply_all(&mut repo, image_changes(base));
            failed += apply_all(&mut repo, changes);
            log::info!(
                "loaded session from {}: snapshot {base_generation} ({nodes} nodes) + {replayed} journaled \
                 change(s){}{} in {} ms",
                dir.display(),
                if failed > 0 { format!(", {failed} FAILED") } else { String::new() },
                if repaired { ", after repairs (see above)" } else { "" },
                t.elapsed().as_millis()
            );
            (newest_generation, last_seq)
        }
        None => {
            if let Some(file) = &st.import {
                let image = import::read(file, st.max_import_bytes, &limits)
                    .map_err(|e| format!("[storage] import {}: {e}", file.display()))?;
                log::info!(
                    "seeding the new session from {} ({} nodes)",
                    file.display(),
                    image.nodes.len()
                );
                apply_all(&mut repo, image_changes(image));
            } else {
                log::info!("no saved session in {}: starting a new one", dir.display());
            }
            (0, 0)
        }
    };
    // Nobody is connected yet and the scene is on disk already: no record.
    let scene = Scene::Rebuilt { repo, record: None };
    session.replace_scene(0, "the server restarted", scene);
    let mut image = image_of(session);
    image.last_seq = last_seq;
    let store = Store::open(st, newest, &image)
        .map_err(|e| format!("cannot write session state in {}: {e}", dir.display()))?;
    Ok(Box::new(StorePersistence {
        store,
        max_import_bytes: st.max_import_bytes,
    }))
}

impl Persistence for StorePersistence {
    fn record(&mut self, change: &Change) {
        self.store.record(change);
    }

    fn record_sender(&mut self, who: Option<&str>) {
        self.store.record_sender(who);
    }

    fn flush(&mut self) {
        self.store.flush();
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.store.next_deadline()
    }

    fn tick(&mut self, now: Instant, session: &mut Session) {
        self.store.tick(now, || image_of(session));
    }

    fn shutdown(&mut self, session: &mut Session) {
        self.store.shutdown(image_of(session));
    }

    fn save_start(&mut self, session: &mut Session) -> Result<(), String> {
        self.store.request_save(|| image_of(session))
    }

    fn save_poll(&mut self) -> Option<Result<String, String>> {
        self.store.take_save_result()
    }

    fn export_job(
        &mut self,
        session: &mut Session,
        file: File,
        name: String,
    ) -> Result<Work<String>, String> {
        let image = image_of(session);
        Ok(Box::new(move || {
            let n = image.nodes.len();
            let bytes = export::write_to(file, &image, Value::dict(vec![]))
                .map_err(|e| format!("export to {name} failed: {e}"))?;
            Ok(format!("exported {n} nodes to {name} ({bytes} bytes)"))
        }))
    }

    fn import_job(
        &mut self,
        session: &mut Session,
        file: File,
        name: String,
    ) -> Result<Work<PreparedImport>, String> {
        if session.state() != SessionState::Waiting {
            return Err(
                "import is only possible while the session is WAITING (mu-ctl reset first)".into(),
            );
        }
        let limits = session.config().limits;
        let max = self.max_import_bytes;
        let slot = self.store.import_slot()?;
        Ok(Box::new(move || {
            let mut image = import::read_file(file, max, &limits)
                .map_err(|e| format!("import of {name} refused: {e}"))?;
            let nodes = image.nodes.len();
            let mut repo = Repository::new(limits);
            let failed = apply_all(
                &mut repo,
                std::iter::once(Change::Reset).chain(image_changes(image.clone())),
            );
            if failed > 0 {
                return Err(format!(
                    "import of {name} refused: {failed} node(s) could not be stored"
                ));
            }
            repo.settle_all();
            // The import becomes the next snapshot rather than thousands of journal records
            // written on the loop; installing it is a rename.
            image.last_seq = slot.last_seq;
            snapshot::write_aside(&slot.path, slot.generation, &image)
                .map_err(|e| format!("import of {name} failed: cannot write the snapshot: {e}"))?;
            Ok(PreparedImport {
                repo,
                slot,
                nodes,
                name,
            })
        }))
    }

    fn import_finish(
        &mut self,
        session: &Session,
        prepared: PreparedImport,
    ) -> Result<(Scene, String), String> {
        let PreparedImport {
            repo,
            slot,
            nodes,
            name,
        } = prepared;
        if session.state() != SessionState::Waiting {
            let _ = std::fs::remove_file(&slot.path);
            return Err(format!(
                "import of {name} dropped: a session started while the file was being read"
            ));
        }
        self.store
            .check_import(&slot)
            .map_err(|e| format!("import of {name}: {e}"))?;
        let record = Some(SceneRecord::new(StoreScene::Import(slot)));
        Ok((
            Scene::Rebuilt { repo, record },
            format!("imported {nodes} nodes from {name}; the session is ACTIVE"),
        ))
    }

    fn last_save_unix_ms(&self) -> Option<u64> {
        self.store.status().last_save_unix_ms
    }

    /// Writes `before-reset-<unix seconds>.db` (export format, `mu-ctl import` loads it again)
    /// into the state directory, off the loop; the reset is refused if this fails.
    fn reset_backup_job(&mut self, session: &mut Session) -> Option<Work<String>> {
        let dir = self.store.state_dir()?.to_path_buf();
        if session.state() == SessionState::Waiting && session.repository().is_empty() {
            return None;
        }
        let image = image_of(session);
        Some(Box::new(move || {
            let secs = crate::wallclock::now_unix_ms() / 1000;
            let path = dir.join(format!("before-reset-{secs}.db"));
            export::write(&path, &image, Value::dict(vec![])).map_err(|e| {
                format!(
                    "reset refused: cannot write the backup {}: {e}",
                    path.display()
                )
            })?;
            log::warn!(
                "session backup before reset: {} (mu-ctl import can load it)",
                path.display()
            );
            Ok(path.display().to_string())
        }))
    }

    fn journal_bytes(&self) -> Option<u64> {
        self.store.status().journal_bytes
    }

    fn history_dir(&self) -> Option<std::path::PathBuf> {
        self.store.state_dir().map(std::path::Path::to_path_buf)
    }

    fn note_users(&mut self, names: Vec<String>) {
        self.store.note_users(names);
    }

    fn restore_scene(
        &mut self,
        repo: Repository,
        head: super::history::rebuild::Encoded,
    ) -> Result<Scene, String> {
        let record = Some(SceneRecord::new(StoreScene::Restore(head)));
        Ok(Scene::Rebuilt { repo, record })
    }

    fn record_scene(&mut self, scene: &SceneRecord) {
        match scene.get::<StoreScene>() {
            Some(StoreScene::Import(slot)) => self.store.install_import_or_degrade(slot),
            Some(StoreScene::Restore(head)) => {
                self.store.record(&Change::Reset);
                self.store.record_encoded(head);
            }
            None => log::error!("a scene record of another persistence layer ignored (a bug)"),
        }
    }
}

#[cfg(test)]
#[path = "hook_tests.rs"]
mod tests;
