//! Small helpers the handlers share (`parse_deps`, `sdict`, `py_str`, `peer_name`). The
//! messages themselves, their type numbers and kinds, the pickle-level readers of their payloads
//! and the policy on them are [`crate::objects`]' (`Message`, `CommandKind`, `read_deps`,
//! `command_data`, `check_node_data`: see `objects/check.rs`), which the session calls directly.

use crate::objects;
use crate::pickle::{Limits, Value};

/// Dependencies as the client sends them ([`objects::read_deps`]); the error is for a log line.
pub(crate) fn parse_deps(bytes: &[u8], limits: &Limits) -> Result<Option<Vec<String>>, String> {
    objects::read_deps(bytes, limits).map_err(|e| e.to_string())
}

/// `{k: v, ...}` with string keys.
pub(crate) fn sdict(items: Vec<(&str, Value)>) -> Value {
    Value::dict(items.into_iter().map(|(k, v)| (Value::str(k), v)).collect())
}

/// What Python's `str(value)` shows for the simple values a client may send (used in the
/// version refusal message, which quotes what the client sent).
pub(crate) fn py_str(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => format!("<{}>", other.type_name()),
    }
}

/// How many leading bytes of an identity the logs show.
pub(crate) const PEER_NAME_BYTES: usize = 4;

/// A peer identity for logs, abbreviated: its first [`PEER_NAME_BYTES`] bytes in hex, then
/// `...` when there is more (`0x` in front unless it has the 16 bytes clients use). The whole
/// identity is never logged: whoever reads the log could otherwise present it from elsewhere.
pub(crate) fn peer_name(id: &[u8]) -> String {
    // Written digit by digit: this runs for every log line that names a peer, and formatting
    // each byte with `format!` cost ~12,000 instructions per call (callgrind, upload of 10,000
    // nodes: 16 % of the server's instructions).
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * PEER_NAME_BYTES + 5);
    if id.len() != 16 {
        s.push_str("0x");
    }
    for b in id.iter().take(PEER_NAME_BYTES) {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    if id.len() > PEER_NAME_BYTES {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_names_are_abbreviated_never_the_whole_identity() {
        // Python: bytes(range(0x10, 0x20))[:4].hex() and (b"\x00\xab\xff").hex()
        let id: Vec<u8> = (0x10..0x20).collect();
        assert_eq!(peer_name(&id), "10111213...");
        assert_eq!(peer_name(&[0x00, 0xab, 0xff]), "0x00abff");
        assert_eq!(peer_name(&[1, 2, 3, 4, 5]), "0x01020304...");
        assert_eq!(peer_name(&[]), "0x");
    }
}
