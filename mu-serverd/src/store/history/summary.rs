//! `mu-ctl history`: the restore points grouped into one-minute intervals, each with the
//! session's size at its end, who was logged in, and the busiest kinds of change ("alice
//! deleted 312 nodes"), so the moment before an accident is easy to find.
//!
//! "Who" is the client that sent the change, from the journal's [`Meta::Sender`] records
//! ("server" for what the server did itself: a reset, a restore, the locks released when a
//! client leaves). Changes journaled before any such record (journals written before issue
//! 20's fix) fall back to the owner of the node changed ("common" for a node nobody owns).
//!
//! Counting replays the journals over a light map (uuid -> owner, bytes) instead of the real
//! repository: Commits are counted but their deltas not applied, so a committed node counts
//! with its size at its last full upload.

use super::timeline::Scan;
use crate::session::io::Change;
use crate::session::COMMON;
use crate::store::snapshot;
use crate::store::{journal, layout};
use mu_ctl::proto::{Activity, HistoryInfo, HistoryInterval};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Interval length.
pub(crate) const INTERVAL_MS: u64 = 60_000;

#[derive(Default)]
struct Bucket {
    changes: u64,
    users: BTreeSet<String>,
    counts: BTreeMap<(String, &'static str), u64>,
    nodes: u64,
    bytes: u64,
}

/// Summarizes the scan from `since_ms` on.
pub(crate) fn summarize(scan: &Scan, since_ms: Option<u64>) -> HistoryInfo {
    let mut nodes: HashMap<String, (String, u64)> = HashMap::new();
    let mut buckets: BTreeMap<u64, Bucket> = BTreeMap::new();
    let since = since_ms.unwrap_or(0);
    // Start from the oldest snapshot whose nodes can be read.
    let mut started = false;
    let mut points = scan.points.iter().peekable();
    let mut users_at = scan.users.iter().peekable();
    let mut current_users: Vec<String> = Vec::new();
    // Who sends the changes (None: no sender record read yet; Some(None): the server).
    let mut sender: Option<Option<String>> = None;
    for g in &scan.gens {
        if !started {
            let Some(_) = &g.snapshot else { continue };
            match snapshot::read(&layout::snapshot_path(&scan.dir, g.generation)) {
                Ok((_, img)) => {
                    for n in img.nodes {
                        nodes.insert(n.uuid, (n.owner, n.data.len() as u64));
                    }
                    started = true;
                }
                Err(_) => continue,
            }
        }
        if g.journal.is_none() {
            continue;
        }
        // One journal in memory at a time.
        let Ok(j) = journal::read(&layout::journal_path(&scan.dir, g.generation)) else {
            continue;
        };
        let mut meta = j.meta.iter().peekable();
        for (seq, change) in &j.entries {
            while let Some((_, m)) = meta.next_if(|(ms, _)| ms <= seq) {
                if let journal::Meta::Sender(s) = m {
                    sender = Some(s.clone());
                }
            }
            // The moment of this change: its point, when it has one.
            while points
                .peek()
                .is_some_and(|p| (p.generation, p.seq) < (g.generation, *seq))
            {
                points.next();
            }
            let Some(p) = points.peek() else { break };
            if (p.generation, p.seq) != (g.generation, *seq) {
                continue;
            }
            let t = p.unix_ms;
            while let Some((_, u)) = users_at.next_if(|(ut, _)| *ut <= t) {
                current_users.clone_from(u);
            }
            let (mut who, kind, n) = describe(&nodes, change);
            if let Some(s) = &sender {
                if !matches!(change, Change::State(_) | Change::ClientVersion(_)) {
                    who = s.as_deref().unwrap_or("server").to_owned();
                }
            }
            apply(&mut nodes, change);
            if t < since {
                continue;
            }
            let b = buckets.entry(t / INTERVAL_MS * INTERVAL_MS).or_default();
            b.changes += 1;
            b.users.extend(current_users.iter().cloned());
            if !matches!(change, Change::State(_) | Change::ClientVersion(_)) {
                *b.counts.entry((who, kind)).or_default() += n;
            }
            b.nodes = nodes.len() as u64;
            b.bytes = nodes.values().map(|(_, b)| *b).sum();
        }
    }
    // Logins and logouts alone make an interval worth listing too.
    for (t, u) in &scan.users {
        if *t >= since && !u.is_empty() {
            let b = buckets.entry(t / INTERVAL_MS * INTERVAL_MS).or_default();
            b.users.extend(u.iter().cloned());
        }
    }
    let mut last = (0, 0);
    let intervals = buckets
        .into_iter()
        .map(|(from, b)| {
            if b.changes > 0 {
                last = (b.nodes, b.bytes);
            }
            let mut busiest: Vec<Activity> = b
                .counts
                .into_iter()
                .map(|((who, kind), count)| Activity {
                    who,
                    kind: kind.into(),
                    count,
                })
                .collect();
            busiest.sort_by_key(|a| std::cmp::Reverse(a.count));
            busiest.truncate(3);
            HistoryInterval {
                from_unix_ms: from,
                to_unix_ms: from + INTERVAL_MS,
                nodes: last.0,
                bytes: last.1,
                users: b.users.into_iter().collect(),
                changes: b.changes,
                busiest,
            }
        })
        .collect();
    let disk_bytes = scan
        .gens
        .iter()
        .map(|g| g.snapshot.as_ref().map_or(0, |s| s.bytes) + g.journal_bytes)
        .sum();
    HistoryInfo {
        oldest_unix_ms: scan.points.first().map(|p| p.unix_ms),
        newest_unix_ms: scan.points.last().map(|p| p.unix_ms),
        disk_bytes,
        generations: scan.gens.len() as u32,
        intervals,
        gaps: scan
            .gaps
            .iter()
            .map(|(f, t, why)| {
                format!(
                    "{} to {}: {why}",
                    super::timeline::fmt_ms(*f),
                    super::timeline::fmt_ms(*t)
                )
            })
            .collect(),
    }
}

fn who(owner: &str) -> String {
    if owner == COMMON {
        "common".into()
    } else {
        owner.into()
    }
}

/// Who made a change as far as the nodes tell (their owner: the fallback for journals without
/// sender records), what kind, and how many nodes.
fn describe(nodes: &HashMap<String, (String, u64)>, c: &Change) -> (String, &'static str, u64) {
    let owner_of = |u: &str| {
        nodes
            .get(u)
            .map(|(o, _)| who(o))
            .unwrap_or_else(|| "?".into())
    };
    match c {
        Change::NodeStored { uuid, owner, .. } => match nodes.contains_key(uuid) {
            true => (owner_of(uuid), "updated", 1),
            false => (who(owner), "uploaded", 1),
        },
        Change::CommitApplied { uuid, .. } => (owner_of(uuid), "committed", 1),
        Change::NodeDeleted { uuid } => (owner_of(uuid), "deleted", 1),
        Change::OwnersChanged { uuids, owner } if owner == COMMON => {
            let from = uuids.first().map(|u| owner_of(u)).unwrap_or_default();
            (from, "unlocked", uuids.len() as u64)
        }
        Change::OwnersChanged { uuids, owner } => (who(owner), "locked", uuids.len() as u64),
        Change::Reset => ("admin".into(), "reset", 1),
        Change::State(_) | Change::ClientVersion(_) => ("server".into(), "state", 1),
    }
}

fn apply(nodes: &mut HashMap<String, (String, u64)>, c: &Change) {
    match c {
        Change::NodeStored {
            uuid, owner, data, ..
        } => {
            let e = nodes
                .entry(uuid.clone())
                .or_insert_with(|| (owner.clone(), 0));
            e.1 = data.len() as u64;
        }
        Change::NodeDeleted { uuid } => {
            nodes.remove(uuid);
        }
        Change::OwnersChanged { uuids, owner } => {
            for u in uuids {
                if let Some(e) = nodes.get_mut(u) {
                    e.0.clone_from(owner);
                }
            }
        }
        Change::Reset => nodes.clear(),
        Change::CommitApplied { .. } | Change::State(_) | Change::ClientVersion(_) => {}
    }
}
