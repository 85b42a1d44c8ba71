//! The Snapshot `SET` reply a joining client receives once per node, written straight around
//! the stored node frames. A join pulls every node with one GET per round trip, so building a
//! `Value` tree and running the general encoder for each reply was most of the server's work
//! per GET; here the reply pickle is a fixed prefix, one length-prefixed copy of each frame and
//! a fixed suffix.
//!
//! The pickle is what `pickle.loads` turns into `{'STATE': 'SET', 'DATA': [frame, ...]}`, the
//! same value the reference sends (`Snapshot(data={'STATE': 'SET', 'DATA':
//! node.as_raw_chunks()})`); the client passes `DATA` to `ReplicationObject.from_raw_chunks`.

use super::kind::CommandKind;
use super::Frame;
use crate::pickle::opcodes::{
    APPENDS, BINBYTES, BINBYTES8, EMPTY_DICT, EMPTY_LIST, MARK, PROTO, SETITEMS, SHORT_BINBYTES,
    SHORT_BINUNICODE, STOP,
};
use std::sync::Arc;

/// `PROTO 4`, `{`, then the key/value pairs up to the list of frames.
const PREFIX: &[u8] = &[
    PROTO,
    4,
    EMPTY_DICT,
    MARK,
    SHORT_BINUNICODE,
    5,
    b'S',
    b'T',
    b'A',
    b'T',
    b'E',
    SHORT_BINUNICODE,
    3,
    b'S',
    b'E',
    b'T',
    SHORT_BINUNICODE,
    4,
    b'D',
    b'A',
    b'T',
    b'A',
    EMPTY_LIST,
    MARK,
];
/// Closes the list, the dict and the pickle.
const SUFFIX: &[u8] = &[APPENDS, SETITEMS, STOP];

/// Appends one `bytes` object with the opcode CPython picks for its length.
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    if let Ok(n) = u8::try_from(b.len()) {
        out.extend_from_slice(&[SHORT_BINBYTES, n]);
    } else if let Ok(n) = u32::try_from(b.len()) {
        out.push(BINBYTES);
        out.extend_from_slice(&n.to_le_bytes());
    } else {
        out.push(BINBYTES8);
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(b);
}

/// `pickle({'STATE': 'SET', 'DATA': [frame, ...]})` at protocol 4.
pub fn snapshot_set_pickle(node: &[&[u8]]) -> Vec<u8> {
    let size = PREFIX.len() + SUFFIX.len() + node.iter().map(|f| f.len() + 9).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(PREFIX);
    for f in node {
        put_bytes(&mut out, f);
    }
    out.extend_from_slice(SUFFIX);
    out
}

/// The whole Snapshot `SET` command from `owner` carrying one node's frames (`[2, uuid, owner,
/// pickle(deps), pickle(data)]`, see [`build_node`](super::build_node)).
pub fn build_snapshot_set(owner: &str, node: &[&[u8]]) -> Vec<Frame> {
    vec![
        Arc::from(CommandKind::Snapshot.frame0()),
        Arc::from(owner.as_bytes()),
        Arc::from(snapshot_set_pickle(node)),
    ]
}
