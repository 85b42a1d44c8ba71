//! Snapshot files: the whole session (state + every node's frames) at one journal sequence
//! number. Written to a temporary file, fsynced, renamed over, and the directory fsynced, so a
//! crash at any point leaves either the old set of snapshots or the new one, never half a file
//! under a final name. Read back with every record's checksum and the trailer checked.

use super::format::{
    self, NodeRec, SnapshotHeader, SnapshotHeaderTail, SnapshotTrailer, LEGACY_CLIENT_VERSION,
    SNAPSHOT_MAGIC, SNAPSHOT_VERSION,
};
use super::layout;
use super::record::{self, Records};
use crate::session::io::SessionState;
use crate::session::Repository;
use crate::wallclock::now_unix_ms;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;
use std::sync::Arc;

/// One node as clients receive it: the pickle frames exactly as stored (the wire's node shape).
pub use crate::objects::Node as NodeImage;

/// The session as a snapshot holds it. Cloning the node list is cheap: frames are `Arc`s.
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub state: SessionState,
    pub nodes: Vec<NodeImage>,
    /// The last journaled change this image includes.
    pub last_seq: u64,
    /// The replication version of the session's clients, when known.
    pub client_version: Option<String>,
}

impl Image {
    pub fn empty() -> Self {
        Image {
            state: SessionState::Waiting,
            nodes: Vec::new(),
            last_seq: 0,
            client_version: None,
        }
    }

    /// A repository as an image (`last_seq` 0: the caller knows the journal). Its nodes' bytes
    /// are taken as they are: re-encode nodes a Commit made stale first.
    pub fn of_repository(repo: &Repository) -> Self {
        Image {
            state: repo.state(),
            nodes: repo
                .iter()
                .map(|n| NodeImage {
                    uuid: n.uuid.to_owned(),
                    owner: n.owner.to_owned(),
                    deps: n.deps,
                    data: n.data,
                })
                .collect(),
            last_seq: 0,
            client_version: repo.client_version().map(str::to_owned),
        }
    }
}

/// Why a snapshot file cannot be used.
#[derive(Debug)]
pub(crate) enum SnapshotError {
    Io(io::Error),
    /// Checksums, framing or structure are wrong; the text says where.
    Corrupt(String),
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Io(e) => write!(f, "cannot read: {e}"),
            SnapshotError::Corrupt(why) => write!(f, "corrupt: {why}"),
        }
    }
}

/// Reads a file of the state directory (snapshot or journal): regular, not a symbolic link,
/// at most its `fstat` size. Errors are I/O errors whose text says what is wrong.
pub(crate) fn read_state_file(path: &Path) -> io::Result<Vec<u8>> {
    use crate::files::{FileError, Links};
    crate::files::read(path, Links::Refuse, u64::MAX).map_err(|e| match e {
        FileError::Open(e) | FileError::Read(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    })
}

fn io_other(e: postcard::Error) -> io::Error {
    io::Error::other(format!("postcard: {e}"))
}

/// Writes `image` as generation `generation` into `dir` durably. Returns the file size.
/// On error the temporary file is removed and no final-named file is touched.
pub(crate) fn write(dir: &Path, generation: u64, image: &Image) -> io::Result<u64> {
    let tmp = layout::snapshot_tmp_path(dir, generation);
    let result = write_tmp(&tmp, generation, image).and_then(|size| {
        fs::rename(&tmp, layout::snapshot_path(dir, generation))?;
        layout::fsync_dir(dir)?;
        Ok(size)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `image` as generation `generation` into `path` and syncs it, without giving it a
/// snapshot's name (`mu-ctl import` does that when it installs the import). On error the file
/// is removed.
pub(crate) fn write_aside(path: &Path, generation: u64, image: &Image) -> io::Result<u64> {
    let result = write_tmp(path, generation, image);
    if result.is_err() {
        let _ = fs::remove_file(path);
    }
    result
}

fn write_tmp(tmp: &Path, generation: u64, image: &Image) -> io::Result<u64> {
    let file = File::create(tmp)?;
    let mut w = BufWriter::with_capacity(256 * 1024, file);
    let mut payload = Vec::new();
    let mut size = 0u64;
    let header = SnapshotHeader {
        magic: SNAPSHOT_MAGIC,
        version: SNAPSHOT_VERSION,
        generation,
        last_seq: image.last_seq,
        created_unix_ms: now_unix_ms(),
        state: image.state,
        node_count: image.nodes.len() as u64,
    };
    format::encode(&header, &mut payload).map_err(io_other)?;
    let tail = SnapshotHeaderTail {
        client_version: image.client_version.as_deref(),
    };
    payload = postcard::to_extend(&tail, payload).map_err(io_other)?;
    size += record::write_record(&mut w, &payload)? as u64;
    for n in &image.nodes {
        let rec = NodeRec {
            uuid: &n.uuid,
            owner: &n.owner,
            deps: &n.deps,
            data: &n.data,
        };
        format::encode(&rec, &mut payload).map_err(io_other)?;
        size += record::write_record(&mut w, &payload)? as u64;
    }
    let trailer = SnapshotTrailer {
        node_count: image.nodes.len() as u64,
        last_seq: image.last_seq,
    };
    format::encode(&trailer, &mut payload).map_err(io_other)?;
    size += record::write_record(&mut w, &payload)? as u64;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(size)
}

/// Reads and fully checks a snapshot file. The daemon wrote it: a symbolic link, FIFO or device
/// in its place is refused without reading, and no more than its recorded size is read.
pub(crate) fn read(path: &Path) -> Result<(u64, Image), SnapshotError> {
    let buf = read_state_file(path).map_err(SnapshotError::Io)?;
    parse(&buf)
}

/// Checks and decodes a snapshot held in memory. Returns (generation, image).
pub(crate) fn parse(buf: &[u8]) -> Result<(u64, Image), SnapshotError> {
    let corrupt = |s: String| SnapshotError::Corrupt(s);
    let mut recs = Records::new(buf);
    let first = recs.next().ok_or_else(|| {
        corrupt(match recs.damage() {
            Some(d) => format!("no header ({d})"),
            None => "empty file".into(),
        })
    })?;
    let (header, rest): (SnapshotHeader, &[u8]) =
        postcard::take_from_bytes(first).map_err(|e| corrupt(format!("header: {e}")))?;
    let client_version = match header.version {
        _ if header.magic != SNAPSHOT_MAGIC => None,
        1 => Some(Some(LEGACY_CLIENT_VERSION.to_owned())),
        SNAPSHOT_VERSION => {
            let tail: SnapshotHeaderTail =
                postcard::from_bytes(rest).map_err(|e| corrupt(format!("header: {e}")))?;
            Some(tail.client_version.map(str::to_owned))
        }
        _ => None,
    };
    let Some(client_version) = client_version else {
        return Err(corrupt(format!(
            "not a version 1 or {SNAPSHOT_VERSION} snapshot (magic {:?}, version {})",
            header.magic, header.version
        )));
    };
    // The count comes from the file: cap the pre-allocation, the records must be there anyway.
    let mut nodes = Vec::with_capacity(header.node_count.min(1 << 16) as usize);
    for i in 0..header.node_count {
        let payload = recs.next().ok_or_else(|| match recs.damage() {
            Some(d) => corrupt(format!("node {i} of {}: {d}", header.node_count)),
            None => corrupt(format!(
                "file ends after {i} of {} nodes",
                header.node_count
            )),
        })?;
        let n: NodeRec =
            postcard::from_bytes(payload).map_err(|e| corrupt(format!("node {i}: {e}")))?;
        nodes.push(NodeImage {
            uuid: n.uuid.to_string(),
            owner: n.owner.to_string(),
            deps: Arc::from(n.deps),
            data: Arc::from(n.data),
        });
    }
    let last = recs.next().ok_or_else(|| match recs.damage() {
        Some(d) => corrupt(format!("trailer: {d}")),
        None => corrupt("no trailer (file incomplete)".into()),
    })?;
    let trailer: SnapshotTrailer =
        postcard::from_bytes(last).map_err(|e| corrupt(format!("trailer: {e}")))?;
    if trailer.node_count != header.node_count || trailer.last_seq != header.last_seq {
        return Err(corrupt("trailer does not match header".into()));
    }
    if recs.good_len() != buf.len() {
        return Err(corrupt(format!(
            "{} unexpected bytes after the trailer",
            buf.len() - recs.good_len()
        )));
    }
    Ok((
        header.generation,
        Image {
            state: header.state,
            nodes,
            last_seq: header.last_seq,
            client_version,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::tempdir;

    fn node(i: usize) -> NodeImage {
        NodeImage {
            uuid: format!("uuid-{i}"),
            owner: if i % 2 == 0 {
                "COMMON".into()
            } else {
                "alice".into()
            },
            deps: Arc::from(&b"\x80\x04N."[..]),
            data: Arc::from(vec![i as u8; i * 10]),
        }
    }

    fn image(n: usize) -> Image {
        Image {
            state: SessionState::Active,
            nodes: (0..n).map(node).collect(),
            last_seq: 42,
            client_version: Some("0.9.9".into()),
        }
    }

    #[test]
    fn write_then_read_is_identical_and_leaves_no_temporary() {
        let d = tempdir("snap-rt");
        let img = image(50);
        write(&d, 3, &img).unwrap();
        let (g, back) = read(&layout::snapshot_path(&d, 3)).unwrap();
        assert_eq!(g, 3);
        assert_eq!(back, img);
        let l = layout::list(&d).unwrap();
        assert_eq!(l.snapshots, vec![3]);
        assert!(l.temporaries.is_empty());
    }

    #[test]
    fn any_flipped_byte_or_truncation_is_refused() {
        let d = tempdir("snap-flip");
        write(&d, 1, &image(3)).unwrap();
        let good = fs::read(layout::snapshot_path(&d, 1)).unwrap();
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x20;
            assert!(parse(&b).is_err(), "flip at {i} accepted");
        }
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut} accepted");
        }
    }

    #[test]
    fn the_client_version_round_trips_known_or_not() {
        let d = tempdir("snap-version");
        for (g, v) in [(1, Some("0.9.9".to_string())), (2, None)] {
            let img = Image {
                client_version: v,
                ..image(2)
            };
            write(&d, g, &img).unwrap();
            let (_, back) = read(&layout::snapshot_path(&d, g)).unwrap();
            assert_eq!(back, img);
        }
    }

    /// A snapshot as mu-serverd wrote it before issue 17: format 1, no header tail.
    fn version_1_bytes(img: &Image) -> Vec<u8> {
        let mut out = Vec::new();
        let mut payload = Vec::new();
        let header = SnapshotHeader {
            magic: SNAPSHOT_MAGIC,
            version: 1,
            generation: 7,
            last_seq: img.last_seq,
            created_unix_ms: 1,
            state: img.state,
            node_count: img.nodes.len() as u64,
        };
        format::encode(&header, &mut payload).unwrap();
        record::write_record(&mut out, &payload).unwrap();
        for n in &img.nodes {
            let rec = NodeRec {
                uuid: &n.uuid,
                owner: &n.owner,
                deps: &n.deps,
                data: &n.data,
            };
            format::encode(&rec, &mut payload).unwrap();
            record::write_record(&mut out, &payload).unwrap();
        }
        let trailer = SnapshotTrailer {
            node_count: img.nodes.len() as u64,
            last_seq: img.last_seq,
        };
        format::encode(&trailer, &mut payload).unwrap();
        record::write_record(&mut out, &payload).unwrap();
        out
    }

    #[test]
    fn a_version_1_snapshot_loads_as_made_by_0_9_10_clients() {
        let img = image(3);
        let (g, back) = parse(&version_1_bytes(&img)).unwrap();
        assert_eq!(g, 7);
        assert_eq!(back.nodes, img.nodes);
        assert_eq!(back.state, img.state);
        assert_eq!(back.last_seq, img.last_seq);
        assert_eq!(back.client_version.as_deref(), Some("0.9.10"));
    }

    #[test]
    fn an_unknown_snapshot_version_is_refused() {
        let mut bytes = Vec::new();
        let mut payload = Vec::new();
        let header = SnapshotHeader {
            magic: SNAPSHOT_MAGIC,
            version: 3,
            generation: 1,
            last_seq: 0,
            created_unix_ms: 1,
            state: SessionState::Waiting,
            node_count: 0,
        };
        format::encode(&header, &mut payload).unwrap();
        record::write_record(&mut bytes, &payload).unwrap();
        match parse(&bytes) {
            Err(SnapshotError::Corrupt(why)) => assert!(why.contains("version 3"), "{why}"),
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn empty_session_round_trips() {
        let d = tempdir("snap-empty");
        write(&d, 1, &Image::empty()).unwrap();
        let (_, back) = read(&layout::snapshot_path(&d, 1)).unwrap();
        assert_eq!(back, Image::empty());
    }
}
