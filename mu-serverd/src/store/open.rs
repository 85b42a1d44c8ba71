//! Opening the store for the daemon, before READY: recover the state directory (or seed it from
//! `[storage] import` when it is empty), rebuild the repository, install it in the session,
//! and start the journal.

use super::recover::{self, Recovered};
use super::snapshot::Image;
use super::{import, Store, StoreError};
use crate::config::Config;
use crate::session::io::Change;
use crate::session::{Repository, Scene, Session};
use std::time::Instant;

/// The session as a snapshot or an export holds it. Nodes whose bytes a Commit made stale are
/// re-encoded (and cached) first; everything else is an `Arc` clone.
pub fn image_of(session: &mut Session) -> Image {
    session.refresh_encodings();
    Image::of_repository(session.repository())
}

/// Applies saved changes; returns how many failed (each logged, the first ten).
pub(super) fn apply_all(repo: &mut Repository, changes: impl IntoIterator<Item = Change>) -> usize {
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
pub(super) fn image_changes(image: Image) -> impl Iterator<Item = Change> {
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

impl Store {
    /// Opens persistence for the daemon, before READY: recovers the state directory (or seeds
    /// it from `[storage] import` when it is empty), restores the session, and starts the
    /// journal. `reset_state` (the `--reset-state` flag) first moves any old state aside.
    pub fn open_for(
        cfg: &Config,
        session: &mut Session,
        reset_state: bool,
    ) -> Result<Store, StoreError> {
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
                    return Err(StoreError::io("", e).context(format!(
                        "--reset-state: cannot move the old state aside in {}",
                        dir.display()
                    )))
                }
            }
        }
        let t = Instant::now();
        let limits = session.config().limits;
        let mut repo = Repository::new(limits);
        let recovered = recover::recover(dir)?;
        let (newest, last_seq) = match recovered {
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
                    let image = import::read(file, st.max_import_bytes, &limits).map_err(|e| {
                        StoreError::from(e).context(format!("[storage] import {}", file.display()))
                    })?;
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
        Store::open(st, newest, &image).map_err(|e| {
            StoreError::io("", e)
                .context(format!("cannot write session state in {}", dir.display()))
        })
    }
}
