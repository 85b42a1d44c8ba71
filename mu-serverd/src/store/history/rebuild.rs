//! The session exactly as at one restore point: the newest usable snapshot at or before it,
//! then the journaled changes up to the point, applied with the same
//! `Repository::apply_change` the live session uses.
//!
//! A snapshot that fails its checks is skipped with a log line and an older one is tried (the
//! journals in between still hold its changes); only when no snapshot and no chain of whole
//! journals reaches the point is it refused. Nothing on disk is modified.

use super::timeline::{Point, Scan};
use crate::pickle::Limits;
use crate::session::io::{Change, EncodedChanges};
use crate::session::Repository;
use crate::store::snapshot::{self, Image};
use crate::store::{journal, layout};

/// Rebuilds the repository as at `point`.
pub fn repository_at(scan: &Scan, point: &Point, limits: Limits) -> Result<Repository, String> {
    let mut last_err = String::from("no snapshot at or before it");
    // A later snapshot whose last change is the point holds exactly its state; then every
    // snapshot at or before the point, newest first.
    let exact = scan.gens.iter().filter(|g| {
        g.generation > point.generation
            && g.snapshot.as_ref().is_some_and(|s| s.last_seq == point.seq)
    });
    let before = scan
        .gens
        .iter()
        .filter(|g| g.generation <= point.generation)
        .filter(|g| g.snapshot.as_ref().is_some_and(|s| s.last_seq <= point.seq))
        .rev();
    let bases: Vec<u64> = exact.chain(before).map(|g| g.generation).collect();
    for base in bases {
        let path = layout::snapshot_path(&scan.dir, base);
        let image = match snapshot::read(&path) {
            Ok((_, image)) => image,
            Err(e) => {
                log::warn!(
                    "history: snapshot {} unusable ({e}); trying an older one",
                    path.display()
                );
                last_err = format!("snapshot {base}: {e}");
                continue;
            }
        };
        match replay(scan, base, image, point, limits) {
            Ok(repo) => return Ok(repo),
            Err(e) if base > point.generation => last_err = e,
            Err(e) => {
                last_err = e;
                // Older snapshots need the same journals: no point trying them.
                break;
            }
        }
    }
    Err(format!(
        "the restore point (generation {}, change {}) cannot be rebuilt: {last_err}",
        point.generation, point.seq
    ))
}

fn replay(
    scan: &Scan,
    base: u64,
    image: Image,
    point: &Point,
    limits: Limits,
) -> Result<Repository, String> {
    let mut repo = Repository::new(limits);
    let state = image.state;
    let mut expected = image.last_seq + 1;
    for n in image.nodes {
        repo.apply_change(&Change::NodeStored {
            uuid: n.uuid,
            owner: n.owner,
            deps: n.deps,
            data: n.data,
        })
        .map_err(|e| format!("snapshot {base}: {e}"))?;
    }
    // As `store::open` rebuilds an image: the version, then the state.
    let _ = repo.apply_change(&Change::ClientVersion(image.client_version));
    let _ = repo.apply_change(&Change::State(state));
    for g in scan
        .gens
        .iter()
        .filter(|g| g.generation >= base && g.generation <= point.generation.max(base))
    {
        if expected > point.seq {
            break;
        }
        let unusable = || format!("journal {} is missing or unreadable", g.generation);
        if g.journal.is_none() {
            return Err(unusable());
        }
        let path = layout::journal_path(&scan.dir, g.generation);
        let j = journal::read(&path).map_err(|e| format!("{}: {e}", unusable()))?;
        for (seq, change) in &j.entries {
            if *seq < expected {
                continue;
            }
            if *seq > point.seq {
                break;
            }
            if *seq > expected {
                return Err(format!(
                    "journal {} jumps from change {} to {seq}",
                    g.generation,
                    expected - 1
                ));
            }
            if let Err(e) = repo.apply_change(change) {
                log::warn!("history: change {seq} could not be applied again ({e}); skipped");
            }
            expected += 1;
        }
    }
    if expected <= point.seq {
        return Err(format!(
            "the journals end at change {} (damaged or removed)",
            expected - 1
        ));
    }
    Ok(repo)
}

/// The repository as an [`Image`] (stale nodes encoded), for an export.
pub fn image_of(repo: &mut Repository) -> Image {
    repo.refresh();
    Image::of_repository(repo)
}

/// The changes that make an image the new head (every node, the client version, the state, as
/// the store rebuilds an image), encoded as journal payloads without their sequence numbers: a
/// restore builds this on its thread, so the event loop only frames and writes it
/// ([`crate::session::io::SceneRecord::Changes`]).
pub fn encode(image: &Image) -> EncodedChanges {
    use crate::store::format::{self, ChangeRec};
    let mut out = EncodedChanges {
        bytes: Vec::with_capacity(image.nodes.iter().map(|n| n.data.len() + 64).sum()),
        ends: Vec::with_capacity(image.nodes.len() + 1),
        nodes: image.nodes.len(),
    };
    let mut payload = Vec::new();
    let mut push = |rec: ChangeRec<'_>, out: &mut EncodedChanges| {
        // Our own types always encode (see format::encode).
        if format::encode(&rec, &mut payload).is_ok() {
            out.bytes.extend_from_slice(&payload);
            out.ends.push(out.bytes.len());
        }
    };
    for n in &image.nodes {
        let rec = ChangeRec::NodeStored {
            uuid: &n.uuid,
            owner: &n.owner,
            deps: &n.deps,
            data: &n.data,
        };
        push(rec, &mut out);
    }
    push(
        ChangeRec::ClientVersion(image.client_version.as_deref()),
        &mut out,
    );
    push(ChangeRec::State(image.state), &mut out);
    out
}
