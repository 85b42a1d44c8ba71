//! Background compaction: a thread writes the snapshot of a new generation from a cheap clone
//! of the node list (the frames are shared `Arc`s, nothing is re-encoded), then removes the
//! generations the history policy no longer keeps ([`super::history::policy`]). The event loop keeps relaying meanwhile; the new journal is
//! already receiving the changes made after the clone.

use super::history::{self, Policy};
use super::snapshot::{self, Image};
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Instant;

/// What a finished compaction did.
#[derive(Debug)]
pub(crate) struct Done {
    pub generation: u64,
    pub nodes: usize,
    pub bytes: u64,
    pub millis: u64,
}

/// A snapshot being written.
pub(crate) struct Compaction {
    generation: u64,
    handle: JoinHandle<io::Result<Done>>,
}

impl Compaction {
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
    pub(crate) fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
    pub(crate) fn join(self) -> io::Result<Done> {
        self.handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the snapshot thread panicked")))
    }
}

/// Starts the thread. `previous_journal` is synced first, so that once the snapshot exists the
/// journal before it is complete on disk too (it is what a fallback to an older backup replays).
pub(crate) fn spawn(
    dir: PathBuf,
    generation: u64,
    image: Image,
    previous_journal: Option<File>,
    policy: Policy,
) -> io::Result<Compaction> {
    let handle = std::thread::Builder::new()
        .name(format!("snapshot-{generation}"))
        .spawn(move || {
            let t = Instant::now();
            if let Some(f) = previous_journal {
                f.sync_data()?;
            }
            let bytes = snapshot::write(&dir, generation, &image)?;
            if let Err(e) = history::policy::prune(&dir, &policy, crate::wallclock::now_unix_ms()) {
                log::warn!("cannot remove old backups in {}: {e}", dir.display());
            }
            Ok(Done {
                generation,
                nodes: image.nodes.len(),
                bytes,
                millis: t.elapsed().as_millis() as u64,
            })
        })?;
    Ok(Compaction { generation, handle })
}
