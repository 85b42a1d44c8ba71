//! The postcard payloads inside the framed records of [`super::record`].
//!
//! These types mirror [`Change`] with borrowed byte slices (`serialize_bytes`), so writing a
//! record never copies a frame into an intermediate `Vec<u8>` of serde elements and reading one
//! borrows straight from the file buffer. They are a durable format: add variants at the end,
//! never reorder or remove (postcard encodes the variant index).

use crate::session::io::{Change, Frame, SessionState};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Format version of journals before the history, still read (and of snapshot headers before
/// issue 17).
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Journal version written since the history (issue 20): version 2 may hold the meta records
/// [`ChangeRec::Time`] and [`ChangeRec::Users`]. Version 1 journals are still read.
pub(crate) const JOURNAL_VERSION: u32 = 2;
/// Format version written in snapshot headers: 2 adds [`SnapshotHeaderTail`] (issue 17).
/// Version 1 snapshots are still read.
pub(crate) const SNAPSHOT_VERSION: u32 = 2;
/// What a version 1 snapshot's clients spoke: mu-serverd admitted only replication 0.9.10
/// before it recorded the version.
pub(crate) const LEGACY_CLIENT_VERSION: &str = "0.9.10";
pub(crate) const SNAPSHOT_MAGIC: &str = "mu-server snapshot";
pub(crate) const JOURNAL_MAGIC: &str = "mu-server journal";

/// The first record of a snapshot file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct SnapshotHeader<'a> {
    pub magic: &'a str,
    pub version: u32,
    pub generation: u64,
    /// Sequence number of the last journaled change this snapshot contains (0: none).
    pub last_seq: u64,
    pub created_unix_ms: u64,
    pub state: SessionState,
    pub node_count: u64,
}

/// Appended to the [`SnapshotHeader`] payload in snapshot version 2. A reader decodes the
/// header (whose layout never changes) first, then this tail if the version says so.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct SnapshotHeaderTail<'a> {
    /// The replication version of the session's clients (`Change::ClientVersion`).
    pub client_version: Option<&'a str>,
}

/// The last record of a snapshot file: without it the snapshot is incomplete.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct SnapshotTrailer {
    pub node_count: u64,
    pub last_seq: u64,
}

/// The first record of a journal file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct JournalHeader<'a> {
    pub magic: &'a str,
    pub version: u32,
    pub generation: u64,
    /// Sequence number the first change of this file will carry.
    pub first_seq: u64,
}

/// One node of the repository, as clients receive it (the pickle frames, untouched).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct NodeRec<'a> {
    pub uuid: &'a str,
    pub owner: &'a str,
    #[serde(serialize_with = "raw_bytes")]
    pub deps: &'a [u8],
    #[serde(serialize_with = "raw_bytes")]
    pub data: &'a [u8],
}

/// A journal entry: one [`Change`] with its sequence number.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Entry<'a> {
    pub seq: u64,
    #[serde(borrow)]
    pub change: ChangeRec<'a>,
}

/// [`Change`] with borrowed fields.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) enum ChangeRec<'a> {
    State(SessionState),
    NodeStored {
        uuid: &'a str,
        owner: &'a str,
        #[serde(serialize_with = "raw_bytes")]
        deps: &'a [u8],
        #[serde(serialize_with = "raw_bytes")]
        data: &'a [u8],
    },
    CommitApplied {
        uuid: &'a str,
        #[serde(serialize_with = "raw_bytes")]
        deps: &'a [u8],
        #[serde(serialize_with = "raw_bytes")]
        delta: &'a [u8],
    },
    NodeDeleted {
        uuid: &'a str,
    },
    OwnersChanged {
        #[serde(borrow)]
        uuids: Vec<&'a str>,
        owner: &'a str,
    },
    Reset,
    /// Appended in snapshot format 2 (issue 17); journals written before it never contain it.
    ClientVersion(Option<&'a str>),
    /// Meta record (journal version 2): the server's wall-clock time, milliseconds since the
    /// Unix epoch, of the changes that follow it. Its `seq` is the sequence number of the next
    /// change; it consumes none.
    Time {
        unix_ms: u64,
    },
    /// Meta record (journal version 2): who is logged in from here on (written when it
    /// changes). Its `seq` is that of the next change, like [`ChangeRec::Time`].
    Users {
        #[serde(borrow)]
        names: Vec<&'a str>,
    },
    /// Meta record (journal version 2, appended by issue 20): who sends the changes that
    /// follow (a client's name; `None`: the server itself), written when it changes. Its `seq`
    /// is that of the next change. Journals written before it never contain it.
    Sender {
        #[serde(borrow)]
        name: Option<&'a str>,
    },
}

impl<'a> ChangeRec<'a> {
    pub(crate) fn from_change(c: &'a Change) -> Self {
        match c {
            Change::State(s) => ChangeRec::State(*s),
            Change::NodeStored {
                uuid,
                owner,
                deps,
                data,
            } => ChangeRec::NodeStored {
                uuid,
                owner,
                deps,
                data,
            },
            Change::CommitApplied { uuid, deps, delta } => {
                ChangeRec::CommitApplied { uuid, deps, delta }
            }
            Change::NodeDeleted { uuid } => ChangeRec::NodeDeleted { uuid },
            Change::OwnersChanged { uuids, owner } => ChangeRec::OwnersChanged {
                uuids: uuids.iter().map(String::as_str).collect(),
                owner,
            },
            Change::Reset => ChangeRec::Reset,
            Change::ClientVersion(v) => ChangeRec::ClientVersion(v.as_deref()),
        }
    }

    /// The change, or `None` for a meta record ([`ChangeRec::Time`], [`ChangeRec::Users`]).
    pub(crate) fn to_change(&self) -> Option<Change> {
        Some(match self {
            ChangeRec::State(s) => Change::State(*s),
            ChangeRec::NodeStored {
                uuid,
                owner,
                deps,
                data,
            } => Change::NodeStored {
                uuid: uuid.to_string(),
                owner: owner.to_string(),
                deps: frame(deps),
                data: frame(data),
            },
            ChangeRec::CommitApplied { uuid, deps, delta } => Change::CommitApplied {
                uuid: uuid.to_string(),
                deps: frame(deps),
                delta: frame(delta),
            },
            ChangeRec::NodeDeleted { uuid } => Change::NodeDeleted {
                uuid: uuid.to_string(),
            },
            ChangeRec::OwnersChanged { uuids, owner } => Change::OwnersChanged {
                uuids: uuids.iter().map(|u| u.to_string()).collect(),
                owner: owner.to_string(),
            },
            ChangeRec::Reset => Change::Reset,
            ChangeRec::ClientVersion(v) => Change::ClientVersion(v.map(str::to_owned)),
            ChangeRec::Time { .. } | ChangeRec::Users { .. } | ChangeRec::Sender { .. } => {
                return None
            }
        })
    }
}

/// serde serializes `&[u8]` as a sequence, element by element (35 us for 64 KiB with postcard);
/// `serialize_bytes` is one copy. Both produce the same postcard bytes (varint length, then the
/// bytes), and `&[u8]` deserializes through `deserialize_bytes`, borrowed.
fn raw_bytes<S: serde::Serializer>(b: &&[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(b)
}

fn frame(b: &[u8]) -> Frame {
    Arc::from(b)
}

/// Encodes a payload with postcard. Our own types always encode; the error path exists only
/// because the serde API has one.
pub(crate) fn encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), postcard::Error> {
    out.clear();
    let taken = std::mem::take(out);
    *out = postcard::to_extend(value, taken)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(b: &[u8]) -> Frame {
        Arc::from(b)
    }

    #[test]
    fn every_change_variant_round_trips() {
        let changes = [
            Change::State(SessionState::Active),
            Change::NodeStored {
                uuid: "u1".into(),
                owner: "alice".into(),
                deps: f(b"\x80\x04N."),
                data: f(&[0u8, 1, 2, 255]),
            },
            Change::CommitApplied {
                uuid: "u1".into(),
                deps: f(b"d"),
                delta: f(&[9; 3000]),
            },
            Change::NodeDeleted { uuid: "u2".into() },
            Change::OwnersChanged {
                uuids: vec!["a".into(), "b".into()],
                owner: "COMMON".into(),
            },
            Change::Reset,
            Change::ClientVersion(Some("0.9.9".into())),
            Change::ClientVersion(None),
        ];
        let mut buf = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            let e = Entry {
                seq: i as u64 + 7,
                change: ChangeRec::from_change(c),
            };
            encode(&e, &mut buf).unwrap();
            let back: Entry = postcard::from_bytes(&buf).unwrap();
            assert_eq!(back, e);
            assert_eq!(
                format!("{:?}", back.change.to_change()),
                format!("{:?}", Some(c))
            );
        }
    }

    #[test]
    fn frames_cost_no_per_element_overhead_on_the_wire() {
        let data = vec![0xABu8; 1000];
        let rec = NodeRec {
            uuid: "u",
            owner: "o",
            deps: b"",
            data: &data,
        };
        let mut buf = Vec::new();
        encode(&rec, &mut buf).unwrap();
        // 1000 bytes + a handful of length prefixes: no per-element overhead.
        assert!(buf.len() < 1010, "{}", buf.len());
        // serialize_bytes and serde's element-wise sequence agree on postcard's wire format, so
        // files written before the switch to serialize_bytes read the same.
        #[derive(Serialize)]
        struct Seq<'a> {
            uuid: &'a str,
            owner: &'a str,
            deps: Vec<u8>,
            data: Vec<u8>,
        }
        let seq = postcard::to_stdvec(&Seq {
            uuid: "u",
            owner: "o",
            deps: vec![],
            data: data.clone(),
        })
        .unwrap();
        assert_eq!(seq, buf);
    }
}
