//! Start-up recovery: pick the newest snapshot that passes its checks, then collect the journal
//! changes made after it, in sequence order, stopping at the first gap.
//!
//! - A torn last record (the daemon died mid-`write(2)`, or power was lost) is cut off, with a
//!   log line saying how many bytes.
//! - A snapshot that fails its checks is renamed `*.corrupt` (kept for the admin), logged loudly,
//!   and the next older one is used; the journals after that older one still hold the changes
//!   since, so nothing is lost as long as they are whole.
//! - If snapshots exist but none is readable, or the directory itself cannot be read, the caller
//!   gets an error and the daemon refuses to start: starting empty would silently throw the
//!   session away. [`discard`] moves the old files aside when the admin asks for it.

use super::journal::{self, JournalError};
use super::layout;
use super::record::Damage;
use super::snapshot::{self, Image, SnapshotError};
use crate::session::io::Change;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What start-up found, ready to be applied to a fresh repository.
#[derive(Debug)]
pub struct Recovered {
    /// The snapshot the replay starts from.
    pub base: Image,
    pub base_generation: u64,
    /// Changes after the snapshot, in order, sequence numbers `base.last_seq + 1 ..`.
    pub changes: Vec<Change>,
    /// Sequence number of the last change recovered (snapshot or journal).
    pub last_seq: u64,
    /// Highest generation number present on disk; the next one written must be larger.
    pub newest_generation: u64,
    /// True when anything had to be repaired, skipped or fallen back from.
    pub repaired: bool,
}

/// Why the daemon must not start.
#[derive(Debug)]
pub enum RecoverError {
    /// The state directory cannot be created, listed or read.
    Unreadable { dir: PathBuf, source: io::Error },
    /// State exists but nothing of it can be used.
    NothingReadable { dir: PathBuf, details: Vec<String> },
    /// A state file is not a regular file (a symbolic link, FIFO, device, directory): the
    /// daemon never writes one, so someone put it there; nothing is read or replaced.
    Foreign { path: PathBuf, kind: &'static str },
}

impl std::fmt::Display for RecoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecoverError::Unreadable { dir, source } => write!(
                f,
                "state directory {} is unreadable: {source}; it must be readable and writable by \
                 the user the daemon runs as",
                dir.display()
            ),
            RecoverError::NothingReadable { dir, details } => write!(
                f,
                "no usable session state in {} ({}); refusing to start empty. Start once with \
                 --reset-state to move the old files aside and begin a new empty session",
                dir.display(),
                details.join("; ")
            ),
            RecoverError::Foreign { path, kind } => write!(
                f,
                "{} is a {kind}, not a file mu-serverd wrote; refusing to read it. Remove it \
                 (or start once with --reset-state to move the state files aside)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for RecoverError {}

/// Reads the state directory. `Ok(None)`: the directory holds no state (first start).
pub fn recover(dir: &Path) -> Result<Option<Recovered>, RecoverError> {
    let unreadable = |source| RecoverError::Unreadable {
        dir: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(unreadable)?;
    let listing = layout::list(dir).map_err(unreadable)?;
    for tmp in &listing.temporaries {
        log::info!("removing unfinished snapshot {}", tmp.display());
        let _ = fs::remove_file(tmp);
    }
    if listing.is_empty() {
        return Ok(None);
    }
    check_regular_files(dir, &listing)?;
    let mut repaired = false;
    let mut details = Vec::new();
    let mut base = None;
    for &g in listing.snapshots.iter().rev() {
        let path = layout::snapshot_path(dir, g);
        match snapshot::read(&path) {
            Ok((_, image)) => {
                base = Some((g, image));
                break;
            }
            Err(SnapshotError::Io(e)) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(unreadable(e));
            }
            Err(e) => {
                repaired = true;
                log::error!(
                    "SNAPSHOT {} IS UNUSABLE ({e}); falling back to the next older snapshot",
                    path.display()
                );
                details.push(format!("{}: {e}", path.display()));
                if let SnapshotError::Corrupt(_) = e {
                    let aside = path.with_extension("corrupt");
                    if fs::rename(&path, &aside).is_ok() {
                        log::error!("kept the corrupt snapshot as {}", aside.display());
                    }
                }
            }
        }
    }
    let Some((base_generation, base)) = base else {
        if listing.snapshots.is_empty() {
            details.push(format!(
                "{} journal file(s) but no snapshot",
                listing.journals.len()
            ));
        }
        return Err(RecoverError::NothingReadable {
            dir: dir.to_path_buf(),
            details,
        });
    };
    if repaired {
        log::error!(
            "RECOVERED FROM BACKUP snapshot generation {base_generation}; replaying the journals after it"
        );
    }
    let journals: Vec<u64> = listing
        .journals
        .iter()
        .copied()
        .filter(|g| *g >= base_generation)
        .collect();
    let mut changes = Vec::new();
    let mut expected = base.last_seq + 1;
    for (i, &g) in journals.iter().enumerate() {
        let is_last = i + 1 == journals.len();
        let path = layout::journal_path(dir, g);
        let read = match journal::read(&path) {
            Ok(r) => r,
            Err(JournalError::BadHeader(why)) if is_last => {
                // Created but its header never fully written: nothing in it.
                log::warn!(
                    "journal {} has no valid header ({why}); ignoring it",
                    path.display()
                );
                repaired = true;
                continue;
            }
            Err(e) => {
                log::error!(
                    "JOURNAL {} IS UNUSABLE ({e}); changes after sequence {} are lost",
                    path.display(),
                    expected - 1
                );
                repaired = true;
                break;
            }
        };
        let mut gap = false;
        for (seq, change) in read.entries {
            if seq < expected {
                continue;
            }
            if seq > expected {
                log::error!(
                    "journal {} jumps from sequence {} to {seq}; changes after {} are lost",
                    path.display(),
                    expected - 1,
                    expected - 1
                );
                gap = true;
                break;
            }
            changes.push(change);
            expected += 1;
        }
        if let Some(d) = &read.damage {
            repaired = true;
            report_damage(&path, d, read.good_len, read.file_len, is_last);
            if let Err(e) = journal::truncate(&path, read.good_len) {
                log::error!("cannot truncate {}: {e}", path.display());
            }
            if !is_last {
                // Later journals continue after the lost records; replaying them would apply
                // changes to the wrong base. The sequence check below would refuse them too.
                log::error!("stopping replay at sequence {}", expected - 1);
                break;
            }
        }
        if gap {
            repaired = true;
            break;
        }
    }
    Ok(Some(Recovered {
        base,
        base_generation,
        changes,
        last_seq: expected - 1,
        newest_generation: listing.newest_generation(),
        repaired,
    }))
}

/// Refuses to start on a snapshot or journal that is not a regular file (a symbolic link to
/// `/dev/zero` would otherwise be read until memory runs out). `lstat` only: nothing is opened.
/// The readers open with `O_NOFOLLOW` and check again, for a file swapped after this.
fn check_regular_files(dir: &Path, listing: &layout::Listing) -> Result<(), RecoverError> {
    let snapshots = listing
        .snapshots
        .iter()
        .map(|g| layout::snapshot_path(dir, *g));
    let journals = listing
        .journals
        .iter()
        .map(|g| layout::journal_path(dir, *g));
    for path in snapshots.chain(journals) {
        let meta = fs::symlink_metadata(&path).map_err(|source| RecoverError::Unreadable {
            dir: dir.to_path_buf(),
            source,
        })?;
        if !meta.file_type().is_file() {
            return Err(RecoverError::Foreign {
                kind: crate::files::kind(&meta),
                path,
            });
        }
    }
    Ok(())
}

fn report_damage(path: &Path, d: &Damage, good: u64, total: u64, is_last: bool) {
    let dropped = total - good;
    match d {
        Damage::Truncated { .. } if is_last => log::warn!(
            "journal {}: torn last record (crash during a write), truncated {dropped} byte(s) at byte {good}",
            path.display()
        ),
        _ => {
            // Keep a copy of the damaged bytes for the admin before cutting them off.
            let aside = path.with_extension(format!("damaged-at-{good}"));
            let _ = fs::copy(path, &aside);
            log::error!(
                "JOURNAL {} DAMAGED ({d}): dropped {dropped} byte(s) after byte {good}; original kept as {}",
                path.display(),
                aside.display()
            );
        }
    }
}

/// Moves every state file into `discarded-<unix seconds>/` inside the state directory, so the
/// next start begins a new empty session while the old files stay available to the admin.
pub(crate) fn discard(dir: &Path) -> io::Result<Option<PathBuf>> {
    let listing = match layout::list(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut names: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let p = entry?.path();
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if n.starts_with("snapshot-") || n.starts_with("journal-") {
            names.push(p);
        }
    }
    if names.is_empty() && listing.temporaries.is_empty() {
        return Ok(None);
    }
    let secs = crate::wallclock::now_unix_ms() / 1000;
    let aside = dir.join(format!("discarded-{secs}"));
    fs::create_dir_all(&aside)?;
    for p in names {
        if let Some(name) = p.file_name() {
            fs::rename(&p, aside.join(name))?;
        }
    }
    layout::fsync_dir(dir)?;
    Ok(Some(aside))
}
