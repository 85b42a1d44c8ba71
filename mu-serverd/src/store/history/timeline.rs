//! The restore points on disk: every generation's snapshot and every journaled change, each
//! with its wall-clock moment, in the order they happened; and which point a moment T means.
//!
//! A restore point is `(generation, seq)`: the state after change `seq`, rebuilt from a
//! snapshot of generation <= `generation` and the journals up to it. Its moment is the last
//! [`Meta::Time`] before the change (the time the server journaled the batch it came in). A
//! snapshot that continues the chain adds no point (it holds the state of the change before
//! it); one that starts a chain (the first one, or the first after a hole) is a point at the
//! earliest of its header time and its journal's first time record. Changes in journals of
//! version 1 (written before the history existed) inherit the time before them.
//!
//! "The session as at T" is the last point whose moment is <= T: every change journaled at or
//! before T is in it, none after.

use crate::store::format::{SnapshotHeader, FORMAT_VERSION, SNAPSHOT_MAGIC, SNAPSHOT_VERSION};
use crate::store::journal::{self, Meta};
use crate::store::layout;
use crate::store::record::Damage;
use crate::store::record::Records;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One moment the session can be rebuilt at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub unix_ms: u64,
    pub generation: u64,
    /// The last change included (a snapshot's `last_seq` for a snapshot's point).
    pub seq: u64,
}

/// What the snapshot header of a generation says (the nodes are only read to rebuild).
#[derive(Clone, Debug)]
pub struct SnapInfo {
    pub last_seq: u64,
    pub created_unix_ms: u64,
    pub node_count: u64,
    pub bytes: u64,
}

/// One generation as found on disk.
#[derive(Debug)]
pub struct GenScan {
    pub generation: u64,
    pub snapshot: Option<SnapInfo>,
    pub journal: Option<JournalIndex>,
    pub journal_bytes: u64,
}

/// What the scan keeps of a journal: sequence numbers and meta records, not the changes (a day
/// of journals can be gigabytes; a rebuild reads again only the journals it replays).
#[derive(Debug)]
pub struct JournalIndex {
    pub first_seq: u64,
    /// The sequence number of every whole change, in file order.
    pub seqs: Vec<u64>,
    pub meta: Vec<(u64, Meta)>,
    pub damage: Option<Damage>,
}

/// Everything the history needs from the state directory.
#[derive(Debug)]
pub struct Scan {
    pub dir: PathBuf,
    pub gens: Vec<GenScan>,
    pub points: Vec<Point>,
    /// Stretches of time no restore point can be rebuilt for: (from_ms, to_ms, why).
    pub gaps: Vec<(u64, u64, String)>,
    /// Who was logged in, from each moment on: (unix_ms, names).
    pub users: Vec<(u64, Vec<String>)>,
}

/// Reads the header record of a snapshot file without reading its nodes.
pub fn snapshot_header(path: &Path) -> io::Result<SnapInfo> {
    // Like every state file: no symlink, nothing but a regular file, never a blocking open.
    let (mut f, meta) =
        crate::files::open_regular(path, crate::files::Links::Refuse).map_err(|e| {
            io::Error::new(
                e.io_kind().unwrap_or(io::ErrorKind::InvalidData),
                e.to_string(),
            )
        })?;
    let bytes = meta.len();
    let mut buf = Vec::with_capacity(4096);
    f.by_ref().take(4096).read_to_end(&mut buf)?;
    let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let first = Records::new(&buf)
        .next()
        .ok_or_else(|| bad("no header record".into()))?;
    let (h, _tail): (SnapshotHeader, &[u8]) =
        postcard::take_from_bytes(first).map_err(|e| bad(e.to_string()))?;
    if h.magic != SNAPSHOT_MAGIC || (h.version != FORMAT_VERSION && h.version != SNAPSHOT_VERSION) {
        return Err(bad(format!(
            "not a version 1 or {SNAPSHOT_VERSION} snapshot"
        )));
    }
    Ok(SnapInfo {
        last_seq: h.last_seq,
        created_unix_ms: h.created_unix_ms,
        node_count: h.node_count,
        bytes,
    })
}

/// Scans the state directory (read-only: nothing is truncated or renamed here; the live journal
/// may be growing while it is read, its last record then simply reads as torn).
pub fn scan(dir: &Path) -> io::Result<Scan> {
    let l = layout::list(dir)?;
    let mut all: Vec<u64> = l.snapshots.iter().chain(&l.journals).copied().collect();
    all.sort_unstable();
    all.dedup();
    let mut gens = Vec::new();
    for g in all {
        let sp = layout::snapshot_path(dir, g);
        let snapshot = if l.snapshots.contains(&g) {
            match snapshot_header(&sp) {
                Ok(s) => Some(s),
                Err(e) => {
                    log::warn!(
                        "history: snapshot {} is unusable ({e}); restore points that need it \
                         are rebuilt from an older snapshot, if any",
                        sp.display()
                    );
                    None
                }
            }
        } else {
            None
        };
        let jp = layout::journal_path(dir, g);
        let journal_bytes = std::fs::metadata(&jp).map(|m| m.len()).unwrap_or(0);
        let journal = if l.journals.contains(&g) {
            match journal::read(&jp) {
                Ok(r) => Some(JournalIndex {
                    first_seq: r.first_seq,
                    seqs: r.entries.iter().map(|(s, _)| *s).collect(),
                    meta: r.meta,
                    damage: r.damage,
                }),
                Err(e) => {
                    log::warn!("history: journal {} is unusable ({e})", jp.display());
                    None
                }
            }
        } else {
            None
        };
        gens.push(GenScan {
            generation: g,
            snapshot,
            journal,
            journal_bytes,
        });
    }
    let newest = gens.last().map(|g| g.generation);
    let mut s = Scan {
        dir: dir.to_path_buf(),
        gens,
        points: Vec::new(),
        gaps: Vec::new(),
        users: Vec::new(),
    };
    s.index(newest);
    Ok(s)
}

impl Scan {
    /// Builds `points`, `gaps` and `users` from the generations read.
    fn index(&mut self, newest: Option<u64>) {
        let mut points = Vec::new();
        let mut gaps = Vec::new();
        let mut users = Vec::new();
        // The last sequence number a rebuild can reach so far (None: no base yet).
        let mut reach: Option<u64> = None;
        let mut now = 0u64;
        for g in &self.gens {
            let first_time = g.journal.as_ref().and_then(|j| {
                j.meta.iter().find_map(|(_, m)| match m {
                    Meta::Time(t) => Some(*t),
                    Meta::Users(_) | Meta::Sender(_) => None,
                })
            });
            if let Some(s) = &g.snapshot {
                // A snapshot that continues the chain holds the state of the point before it
                // (the last change of the previous journal): no new moment. One that starts a
                // chain (the first, or after a hole) is a point of its own.
                if reach != Some(s.last_seq) {
                    // After a hole, the snapshot's own moment is unknown (somewhere between
                    // the last readable time and its journal's first): take the later bound,
                    // so no moment inside the hole is answered with a later state.
                    let t = match (first_time, points.is_empty()) {
                        (Some(f), false) => f,
                        (f, _) => f.map_or(s.created_unix_ms, |f| f.min(s.created_unix_ms)),
                    };
                    now = now.max(t);
                    points.push(Point {
                        unix_ms: now,
                        generation: g.generation,
                        seq: s.last_seq,
                    });
                }
                reach = Some(s.last_seq);
            }
            let Some(j) = &g.journal else {
                if g.snapshot.is_none() {
                    reach = None;
                }
                continue;
            };
            let mut meta = j.meta.iter().peekable();
            let mut broken = reach.is_none_or(|r| j.first_seq > r + 1);
            for seq in &j.seqs {
                while let Some((_, m)) = meta.next_if(|(ms, _)| ms <= seq) {
                    match m {
                        Meta::Time(t) => now = now.max(*t),
                        Meta::Users(u) => users.push((now, u.clone())),
                        Meta::Sender(_) => {}
                    }
                }
                if broken {
                    continue;
                }
                match reach {
                    Some(r) if *seq == r + 1 => {
                        reach = Some(*seq);
                        points.push(Point {
                            unix_ms: now,
                            generation: g.generation,
                            seq: *seq,
                        });
                    }
                    Some(r) if *seq <= r => {}
                    _ => broken = true,
                }
            }
            for (_, m) in meta {
                match m {
                    Meta::Time(t) => now = now.max(*t),
                    Meta::Users(u) => users.push((now, u.clone())),
                    Meta::Sender(_) => {}
                }
            }
            if broken {
                reach = None;
                gaps.push((
                    now,
                    u64::MAX,
                    format!(
                        "generation {} cannot be rebuilt (no usable snapshot before it, or a \
                         hole in its journal)",
                        g.generation
                    ),
                ));
            } else if let Some(d) = &j.damage {
                let live = Some(g.generation) == newest;
                if !live || !matches!(d, Damage::Truncated { .. }) {
                    log::warn!(
                        "history: journal of generation {} damaged ({d}); restore points after \
                         sequence {} up to the next snapshot are lost",
                        g.generation,
                        reach.unwrap_or(0)
                    );
                    reach = None;
                    gaps.push((now, u64::MAX, format!("journal {} damaged", g.generation)));
                }
            }
        }
        // A gap ends where the next rebuildable point starts.
        for gap in &mut gaps {
            if let Some(p) = points.iter().find(|p| p.unix_ms > gap.0) {
                gap.1 = p.unix_ms;
            }
        }
        self.points = points;
        self.gaps = gaps;
        self.users = users;
    }

    /// The restore point for moment `t` (see the module doc), or why there is none.
    pub fn resolve(&self, t: u64) -> Result<&Point, String> {
        if let Some((from, to, why)) = self.gaps.iter().find(|(f, to, _)| *f < t && t < *to) {
            return Err(format!(
                "no restore point at that moment: {why} (nothing between {} and {})",
                fmt_ms(*from),
                fmt_ms(*to)
            ));
        }
        match self.points.iter().rposition(|p| p.unix_ms <= t) {
            Some(i) => Ok(&self.points[i]),
            None => Err(match self.points.first() {
                Some(p) => format!(
                    "that moment is before the oldest restore point ({})",
                    fmt_ms(p.unix_ms)
                ),
                None => "the state directory holds no history".into(),
            }),
        }
    }

    pub fn gen(&self, g: u64) -> Option<&GenScan> {
        self.gens.iter().find(|x| x.generation == g)
    }
}

/// `2026-12-07T14:02:30.120Z`-style UTC text for messages (the daemon has no time zone).
pub fn fmt_ms(ms: u64) -> String {
    if ms == u64::MAX {
        return "now".into();
    }
    crate::logging::time::format_utc(ms / 1000, (ms % 1000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO (or a symlink) where a snapshot should be is refused at once: opening a FIFO for
    /// reading would otherwise wait for a writer that never comes.
    #[test]
    fn a_fifo_or_symlink_named_as_a_snapshot_is_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("mu-timeline-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("snapshot-fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let link = dir.join("snapshot-link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        for p in [fifo.clone(), link.clone()] {
            let tx = tx.clone();
            std::thread::spawn(move || tx.send(snapshot_header(&p).map(|_| ())).unwrap());
        }
        for _ in 0..2 {
            let got = rx.recv_timeout(std::time::Duration::from_secs(5));
            assert!(matches!(got, Ok(Err(_))), "not refused at once: {got:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn utc_text() {
        assert_eq!(fmt_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(fmt_ms(1_796_652_150_123), "2026-12-07T14:02:30.123Z");
    }
}
