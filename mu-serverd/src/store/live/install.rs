//! `mu-ctl import` without holding the loop: the imported session is written as the next
//! snapshot by the job thread ([`Store::import_slot`] says where), then installed by the loop
//! with a rename and a new journal ([`Store::install_import`]).

use super::{layout, JournalWriter, Store};
use crate::config::Fsync;
use crate::session::io::SnapshotSlot;
use crate::store::StoreError;
use crate::wallclock::now_unix_ms;
use std::time::Instant;

impl Store {
    /// Where `mu-ctl import` may write the imported session as the next snapshot, off the
    /// loop. [`Store::install_import`] gives it its name.
    pub fn import_slot(&self) -> Result<SnapshotSlot, StoreError> {
        if let Some(why) = &self.degraded {
            return Err(StoreError::Failed(format!(
                "persistence is degraded ({why}); import refused"
            )));
        }
        let generation = self.generation + 1;
        Ok(SnapshotSlot {
            path: layout::import_tmp_path(&self.dir, generation),
            generation,
            last_seq: self.next_seq - 1,
        })
    }

    /// Installs a snapshot written into `slot` as the current one and starts the journal after
    /// it: one rename and one new journal (and a directory fsync under `fsync = "always"`).
    /// Refused (the file removed) if anything was journaled or snapshotted since
    /// [`Store::import_slot`]. On success the import is on disk: a crash from here on restarts
    /// into it; before, into the old session.
    pub fn install_import(&mut self, slot: &SnapshotSlot) -> Result<(), StoreError> {
        let result = self.try_install(slot);
        if result.is_err() {
            let _ = std::fs::remove_file(&slot.path);
        }
        result
    }

    /// Whether [`Store::install_import`] would accept `slot` now: nothing was journaled or
    /// snapshotted since [`Store::import_slot`]. The loop checks it before the core installs
    /// the import, so the install itself can only fail on I/O.
    pub fn check_import(&self, slot: &SnapshotSlot) -> Result<(), StoreError> {
        if self.generation + 1 != slot.generation
            || self.next_seq - 1 != slot.last_seq
            || self.compaction.is_some()
            || self.journal.is_none()
        {
            return Err(StoreError::Failed(
                "the session was saved or changed while the file was being read; run \
                 mu-ctl import again"
                    .into(),
            ));
        }
        Ok(())
    }

    /// [`Store::install_import`] once the core has installed the imported session: if the
    /// import cannot be installed on disk, the store turns degraded (nothing more is journaled
    /// behind the old session) until a full snapshot of the session in memory succeeds.
    pub fn install_import_or_degrade(&mut self, slot: &SnapshotSlot) {
        let Err(e) = self.install_import(slot) else {
            return;
        };
        let seq = self.next_seq;
        self.degrade(format!("the imported session is not on disk: {e}"), seq);
    }

    fn try_install(&mut self, slot: &SnapshotSlot) -> Result<(), StoreError> {
        self.check_import(slot)?;
        let s = self;
        let g = slot.generation;
        let snap = layout::snapshot_path(&s.dir, g);
        let fail = |what: &str, e| {
            StoreError::io("", e).context(format!("cannot install the import ({what})"))
        };
        std::fs::rename(&slot.path, &snap).map_err(|e| fail("rename", e))?;
        // Until the new journal exists, changes would go to the old one, which recovery ignores
        // behind the newer snapshot: take the snapshot back if it cannot be created.
        let journal = match JournalWriter::create(&s.dir, g, s.next_seq) {
            Ok(j) => j,
            Err(e) => {
                let _ = std::fs::remove_file(&snap);
                return Err(fail("journal", e));
            }
        };
        // The same durability rule as a snapshot rotation: the directory is fsynced here under
        // `fsync = "always"`; under "batch" the journal's next fdatasync carries the entries.
        // Old backups are pruned by the next snapshot, off the loop.
        if s.fsync == Fsync::Always {
            if let Err(e) = layout::fsync_dir(&s.dir) {
                log::error!("fsync of {} failed: {e}", s.dir.display());
            }
        }
        if let Some(sy) = &s.syncer {
            match journal.sync_handle() {
                Ok(f) => sy.switch(f),
                Err(e) => log::error!("journal fsync handle: {e}"),
            }
        }
        s.journal = Some(journal);
        s.generation = g;
        s.changes_since_snapshot = 0;
        s.last_save_unix_ms = Some(now_unix_ms());
        s.next_snapshot_at = Instant::now() + s.snapshot_interval;
        Ok(())
    }
}
