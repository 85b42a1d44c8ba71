//! Names of the files in the state directory and the fsync helpers every writer shares.
//!
//! ```text
//! snapshot-00000000000000000007.snap   generation 7: the whole session at some sequence number
//! journal-00000000000000000007.log     changes made after snapshot 7 was taken
//! snapshot-00000000000000000008.tmp    a snapshot being written (never read; removed at start)
//! import-00000000000000000008.tmp      `mu-ctl import` writing snapshot 8 (the same)
//! snapshot-00000000000000000006.corrupt  a snapshot that failed its checks (kept for the admin)
//! ```
//! Journals are kept as long as the snapshot of their generation is kept, so a corrupt newest
//! snapshot can be rebuilt from an older one plus the journals after it.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

pub fn snapshot_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("snapshot-{generation:020}.snap"))
}

pub fn snapshot_tmp_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("snapshot-{generation:020}.tmp"))
}

/// A snapshot of an imported session being written off the loop (`mu-ctl import`); renamed to
/// the snapshot of `generation` when the import is installed, removed at start if left over.
pub fn import_tmp_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("import-{generation:020}.tmp"))
}

pub fn journal_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("journal-{generation:020}.log"))
}

/// What the state directory holds, generations sorted ascending.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listing {
    pub snapshots: Vec<u64>,
    pub journals: Vec<u64>,
    pub temporaries: Vec<PathBuf>,
}

impl Listing {
    pub fn is_empty(&self) -> bool {
        self.snapshots.is_empty() && self.journals.is_empty()
    }
    pub fn newest_generation(&self) -> u64 {
        let s = self.snapshots.last().copied().unwrap_or(0);
        let j = self.journals.last().copied().unwrap_or(0);
        s.max(j)
    }
}

fn parse_gen(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Lists the state directory. Unknown files are ignored (an admin may keep notes there).
pub fn list(dir: &Path) -> io::Result<Listing> {
    let mut l = Listing::default();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(g) = parse_gen(name, "snapshot-", ".snap") {
            l.snapshots.push(g);
        } else if let Some(g) = parse_gen(name, "journal-", ".log") {
            l.journals.push(g);
        } else if parse_gen(name, "snapshot-", ".tmp").is_some()
            || parse_gen(name, "import-", ".tmp").is_some()
        {
            l.temporaries.push(entry.path());
        }
    }
    l.snapshots.sort_unstable();
    l.journals.sort_unstable();
    Ok(l)
}

/// Makes a directory entry change (create, rename, unlink) durable.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Deletes the snapshots beyond the newest `keep`, and every journal older than the oldest
/// snapshot kept (nothing could ever replay it). Returns the paths removed.
pub fn prune(dir: &Path, keep: usize) -> io::Result<Vec<PathBuf>> {
    let l = list(dir)?;
    let keep = keep.max(1);
    let mut removed = Vec::new();
    if l.snapshots.len() <= keep {
        return Ok(removed);
    }
    let cut = l.snapshots.len() - keep;
    let oldest_kept = l.snapshots[cut];
    for g in &l.snapshots[..cut] {
        let p = snapshot_path(dir, *g);
        fs::remove_file(&p)?;
        removed.push(p);
    }
    for g in l.journals.iter().filter(|g| **g < oldest_kept) {
        let p = journal_path(dir, *g);
        fs::remove_file(&p)?;
        removed.push(p);
    }
    if !removed.is_empty() {
        fsync_dir(dir)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::tempdir;

    fn touch(p: &Path) {
        fs::write(p, b"x").unwrap();
    }

    #[test]
    fn lists_by_generation_and_ignores_strangers() {
        let d = tempdir("layout-list");
        for g in [3, 1, 2] {
            touch(&snapshot_path(&d, g));
            touch(&journal_path(&d, g));
        }
        touch(&snapshot_tmp_path(&d, 4));
        touch(&import_tmp_path(&d, 5));
        touch(&d.join("notes.txt"));
        touch(&d.join("snapshot-12.snap"));
        let l = list(&d).unwrap();
        assert_eq!(l.snapshots, vec![1, 2, 3]);
        assert_eq!(l.journals, vec![1, 2, 3]);
        let mut tmps = l.temporaries.clone();
        tmps.sort();
        assert_eq!(tmps, vec![import_tmp_path(&d, 5), snapshot_tmp_path(&d, 4)]);
        assert_eq!(l.newest_generation(), 3);
    }

    #[test]
    fn prune_keeps_newest_snapshots_and_their_journals() {
        let d = tempdir("layout-prune");
        for g in 1..=6 {
            touch(&snapshot_path(&d, g));
            touch(&journal_path(&d, g));
        }
        let removed = prune(&d, 3).unwrap();
        assert_eq!(removed.len(), 6);
        let l = list(&d).unwrap();
        assert_eq!(l.snapshots, vec![4, 5, 6]);
        assert_eq!(l.journals, vec![4, 5, 6]);
        assert!(prune(&d, 3).unwrap().is_empty());
    }
}
