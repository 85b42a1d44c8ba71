//! Which generations the history keeps (`[storage] history`, `history_max_bytes`,
//! `max_backups`), and the pruning that removes the rest.
//!
//! A generation is a snapshot and the journal written after it. Restore points inside
//! generation G need a snapshot G' <= G and every journal G'..=G, so the history is kept as a
//! run of whole generations ending at the live one:
//!
//! 1. the live (newest) generation is never removed;
//! 2. the `max_backups` newest older generations are always kept (the crash fallback of
//!    recovery, unchanged from before the history);
//! 3. older ones are kept while their last change (the journal's mtime) is inside the
//!    `history` window AND the files kept so far fit in `history_max_bytes`: the first limit
//!    reached wins, and everything older goes;
//! 4. thinning: inside the kept run, beyond the `max_backups` newest, the snapshot of a
//!    generation is removed (its journal kept) when the previous kept snapshot is less than
//!    [`SNAPSHOT_EVERY_MS`] older; a restore there replays from that older snapshot. This is
//!    what makes a day of history cost about one snapshot per hour plus the journals, instead
//!    of one snapshot every `snapshot_interval_s`.
//!
//! Times are file modification times (the last write of a journal or a snapshot), so pruning
//! reads no file contents; tests set them to play a fake clock.

use crate::store::layout;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Inside the history, one snapshot per this many milliseconds is kept (see the module doc).
pub(crate) const SNAPSHOT_EVERY_MS: u64 = 3_600_000;

/// The retention policy, from `[storage]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `history`: how far back restore points are kept, in milliseconds.
    pub keep_ms: u64,
    /// `history_max_bytes`: the most the kept generations may take on disk.
    pub max_bytes: u64,
    /// `max_backups`: older generations always kept besides the live one.
    pub min_backups: usize,
    /// Thinning interval ([`SNAPSHOT_EVERY_MS`]; tests lower it).
    pub snapshot_every_ms: u64,
}

impl Policy {
    pub fn from_config(st: &crate::config::Storage) -> Policy {
        Policy {
            keep_ms: st.history_ms,
            max_bytes: st.history_max_bytes,
            min_backups: st.max_backups as usize,
            snapshot_every_ms: SNAPSHOT_EVERY_MS,
        }
    }
}

/// One generation's files as pruning sees them.
#[derive(Clone, Debug, Default)]
struct Gen {
    generation: u64,
    snapshot: Option<(u64, u64)>,
    journal: Option<(u64, u64)>,
}

impl Gen {
    /// (mtime ms, bytes) of its files; the end of the generation is its last write.
    fn end_ms(&self) -> u64 {
        let s = self.snapshot.map(|(t, _)| t).unwrap_or(0);
        let j = self.journal.map(|(t, _)| t).unwrap_or(0);
        s.max(j)
    }
    fn bytes(&self, with_snapshot: bool) -> u64 {
        let s = if with_snapshot {
            self.snapshot.map(|(_, b)| b).unwrap_or(0)
        } else {
            0
        };
        s + self.journal.map(|(_, b)| b).unwrap_or(0)
    }
}

fn stat(path: &Path) -> Option<(u64, u64)> {
    let m = fs::metadata(path).ok()?;
    let t = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Some((t, m.len()))
}

fn generations(dir: &Path) -> io::Result<Vec<Gen>> {
    let l = layout::list(dir)?;
    let mut all: Vec<u64> = l.snapshots.iter().chain(&l.journals).copied().collect();
    all.sort_unstable();
    all.dedup();
    Ok(all
        .into_iter()
        .map(|g| Gen {
            generation: g,
            snapshot: stat(&layout::snapshot_path(dir, g)),
            journal: stat(&layout::journal_path(dir, g)),
        })
        .collect())
}

/// What a pruning run decided: the files to delete, in no particular order.
fn plan(gens: &[Gen], policy: &Policy, now_ms: u64) -> Vec<(u64, bool, bool)> {
    let Some(live) = gens.last() else {
        return Vec::new();
    };
    let cutoff = now_ms.saturating_sub(policy.keep_ms);
    // Newest to oldest: the run of generations kept (rules 1-3); `true` keeps the snapshot.
    let mut kept: Vec<(&Gen, bool)> = vec![(live, true)];
    let mut bytes = live.bytes(true);
    for (i, g) in gens.iter().rev().skip(1).enumerate() {
        let backup = i < policy.min_backups;
        let fits = g.end_ms() >= cutoff && bytes + g.bytes(true) <= policy.max_bytes;
        if !backup && !fits {
            break;
        }
        bytes += g.bytes(true);
        kept.push((g, true));
    }
    // Rule 4, oldest to newest, never touching the live one and the backups.
    let protected = 1 + policy.min_backups;
    let mut last_snapshot: Option<u64> = None;
    for k in (protected..kept.len()).rev() {
        let g = kept[k].0;
        let Some((t, _)) = g.snapshot else { continue };
        match last_snapshot {
            Some(prev) if t.saturating_sub(prev) < policy.snapshot_every_ms => kept[k].1 = false,
            _ => last_snapshot = Some(t),
        }
    }
    // The oldest kept generations must start with a snapshot, or nothing can replay them.
    while kept.len() > 1 {
        match kept.last() {
            Some((g, true)) if g.snapshot.is_some() => break,
            _ => {
                kept.pop();
            }
        }
    }
    let mut out = Vec::new();
    for g in gens {
        match kept.iter().find(|(k, _)| k.generation == g.generation) {
            Some((_, keep_snapshot)) => {
                if !keep_snapshot && g.snapshot.is_some() {
                    out.push((g.generation, true, false));
                }
            }
            None => out.push((g.generation, g.snapshot.is_some(), g.journal.is_some())),
        }
    }
    out
}

/// Removes what the policy does not keep. `now_ms`: wall-clock milliseconds since the epoch
/// (the tests' fake clock). Returns the paths removed.
pub(crate) fn prune(dir: &Path, policy: &Policy, now_ms: u64) -> io::Result<Vec<PathBuf>> {
    let gens = generations(dir)?;
    let mut removed = Vec::new();
    for (g, snapshot, journal) in plan(&gens, policy, now_ms) {
        if snapshot {
            let p = layout::snapshot_path(dir, g);
            fs::remove_file(&p)?;
            removed.push(p);
        }
        if journal {
            let p = layout::journal_path(dir, g);
            fs::remove_file(&p)?;
            removed.push(p);
        }
    }
    if !removed.is_empty() {
        layout::fsync_dir(dir)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::tempdir;
    use std::time::Duration;

    const MIN: u64 = 60_000;

    /// Generation g, written at minute g, with `size` bytes in each file.
    fn make(dir: &Path, g: u64, minute: u64, size: usize) {
        for p in [layout::snapshot_path(dir, g), layout::journal_path(dir, g)] {
            fs::write(&p, vec![0u8; size]).unwrap();
            let f = fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(UNIX_EPOCH + Duration::from_millis(minute * MIN))
                .unwrap();
        }
    }

    fn policy(keep_min: u64, max_bytes: u64, backups: usize) -> Policy {
        Policy {
            keep_ms: keep_min * MIN,
            max_bytes,
            min_backups: backups,
            snapshot_every_ms: 1,
        }
    }

    fn left(dir: &Path) -> (Vec<u64>, Vec<u64>) {
        let l = layout::list(dir).unwrap();
        (l.snapshots, l.journals)
    }

    #[test]
    fn keeps_exactly_the_window_and_never_the_live_generation() {
        let d = tempdir("policy-window");
        for g in 1..=10 {
            make(&d, g, g * 10, 100);
        }
        // now = minute 100, window 25 min: generations ending at >= minute 75 stay (8, 9, 10).
        prune(&d, &policy(25, u64::MAX, 0), 100 * MIN).unwrap();
        assert_eq!(left(&d), (vec![8, 9, 10], vec![8, 9, 10]));
        // A window that has passed entirely still keeps the live generation.
        prune(&d, &policy(1, u64::MAX, 0), 1000 * MIN).unwrap();
        assert_eq!(left(&d), (vec![10], vec![10]));
    }

    #[test]
    fn the_byte_limit_wins_when_it_is_reached_first() {
        let d = tempdir("policy-bytes");
        for g in 1..=10 {
            make(&d, g, g, 100);
        }
        // Each generation is 200 bytes; 700 bytes hold three of them (live included).
        prune(&d, &policy(1000, 700, 0), 10 * MIN).unwrap();
        assert_eq!(left(&d), (vec![8, 9, 10], vec![8, 9, 10]));
        // Even a budget smaller than the live generation keeps it.
        prune(&d, &policy(1000, 10, 0), 10 * MIN).unwrap();
        assert_eq!(left(&d), (vec![10], vec![10]));
    }

    #[test]
    fn max_backups_are_kept_outside_the_window() {
        let d = tempdir("policy-backups");
        for g in 1..=6 {
            make(&d, g, g, 10);
        }
        prune(&d, &policy(0, 0, 2), 1000 * MIN).unwrap();
        assert_eq!(left(&d), (vec![4, 5, 6], vec![4, 5, 6]));
    }

    #[test]
    fn thinning_keeps_one_snapshot_per_interval_and_every_journal() {
        let d = tempdir("policy-thin");
        for g in 1..=8 {
            make(&d, g, g * 10, 10);
        }
        let mut p = policy(1000, u64::MAX, 1);
        p.snapshot_every_ms = 25 * MIN;
        prune(&d, &p, 80 * MIN).unwrap();
        // Oldest snapshot (1) kept, then one at least 25 min later (4: minute 40), then 7 is
        // the backup and 8 the live one.
        let (snaps, journals) = left(&d);
        assert_eq!(snaps, vec![1, 4, 7, 8]);
        assert_eq!(journals, (1..=8).collect::<Vec<_>>());
    }

    #[test]
    fn leading_journals_without_a_snapshot_are_removed() {
        let d = tempdir("policy-orphans");
        for g in 1..=4 {
            make(&d, g, g, 10);
        }
        fs::remove_file(layout::snapshot_path(&d, 1)).unwrap();
        fs::remove_file(layout::snapshot_path(&d, 2)).unwrap();
        prune(&d, &policy(1000, u64::MAX, 0), 5 * MIN).unwrap();
        assert_eq!(left(&d), (vec![3, 4], vec![3, 4]));
    }
}
