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
    APPEND, APPENDS, BINBYTES, BINBYTES8, BINUNICODE, BINUNICODE8, EMPTY_DICT, EMPTY_LIST, MARK,
    PROTO, SETITEMS, SHORT_BINBYTES, SHORT_BINUNICODE, STOP,
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

/// Appends one `str` (valid UTF-8) with the opcode CPython picks for its length.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if let Ok(n) = u8::try_from(b.len()) {
        out.extend_from_slice(&[SHORT_BINUNICODE, n]);
    } else if let Ok(n) = u32::try_from(b.len()) {
        out.push(BINUNICODE);
        out.extend_from_slice(&n.to_le_bytes());
    } else {
        out.push(BINUNICODE8);
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(b);
}

/// Items per `APPENDS` batch, as CPython (and `pickle::encode`) writes them.
const BATCH: usize = 1000;

/// `pickle({'STATE': 'INIT', 'CATALOG': [uuid, ...]})` at protocol 4, byte for byte what
/// `pickle::encode` writes for that value, written straight from the uuids: a join of N nodes
/// builds no tree of N `Value`s (issue 16: the catalog is paid by every join, once per joiner).
pub fn snapshot_init_pickle<'a>(uuids: impl ExactSizeIterator<Item = &'a str> + Clone) -> Vec<u8> {
    let n = uuids.len();
    let size = 32 + uuids.clone().map(|u| u.len() + 9).sum::<usize>() + 2 * n.div_ceil(BATCH);
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&[PROTO, 4, EMPTY_DICT, MARK]);
    put_str(&mut out, "STATE");
    put_str(&mut out, "INIT");
    put_str(&mut out, "CATALOG");
    out.push(EMPTY_LIST);
    // `MARK items APPENDS` per batch; a list of one item is `item APPEND` (as the encoder).
    let mut left = n;
    let mut uuids = uuids;
    while left > 0 {
        let batch = left.min(BATCH);
        left -= batch;
        if n > 1 {
            out.push(MARK);
        }
        for u in uuids.by_ref().take(batch) {
            put_str(&mut out, u);
        }
        out.push(if n > 1 { APPENDS } else { APPEND });
    }
    out.extend_from_slice(&[SETITEMS, STOP]);
    out
}

/// The whole Snapshot `INIT` command from `owner` listing `uuids`.
pub fn build_snapshot_init<'a>(
    owner: &str,
    uuids: impl ExactSizeIterator<Item = &'a str> + Clone,
) -> Vec<Frame> {
    vec![
        Arc::from(CommandKind::Snapshot.frame0()),
        Arc::from(owner.as_bytes()),
        Arc::from(snapshot_init_pickle(uuids)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{encode, Value};

    fn via_value(uuids: &[String]) -> Vec<u8> {
        let list = Value::list(uuids.iter().map(|u| Value::str(u)).collect());
        encode(&Value::dict(vec![
            (Value::str("STATE"), Value::str("INIT")),
            (Value::str("CATALOG"), list),
        ]))
    }

    #[test]
    fn the_init_pickle_is_what_the_general_encoder_writes() {
        // Empty, one batch, a batch boundary, several batches; a uuid past 255 bytes.
        for n in [0, 1, 999, 1000, 1001, 2500] {
            let mut uuids: Vec<String> = (0..n).map(|i| format!("{i:08x}-uuid")).collect();
            if n == 999 {
                uuids[3] = "x".repeat(300);
            }
            let direct = snapshot_init_pickle(uuids.iter().map(String::as_str));
            assert!(direct == via_value(&uuids), "{n} uuids");
        }
    }
}
