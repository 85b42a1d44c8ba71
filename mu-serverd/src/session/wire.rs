//! The session's reading of payloads inside replication 0.9.10 messages. The messages
//! themselves, their type numbers and kinds are [`crate::objects`]' (`Message`, `CommandKind`),
//! which the session matches directly: here are command data decoded and checked to be plain
//! data, dependency lists, and the small helpers the handlers share (`sdict`, `peer_name`).

use super::codec;
use super::io::Frame;
use crate::objects::CommandKind;
use crate::pickle::{Limits, Value};

/// The data of a command a peer sent (a [`Message::Command`](crate::objects::Message)),
/// decoded and checked to be plain data. A join's `Snapshot` GETs, one per node, skip the
/// general decoder ([`super::fast_get`]).
pub fn command_data(kind: CommandKind, data: &[u8], limits: &Limits) -> Result<Value, String> {
    if kind == CommandKind::Snapshot {
        if let Some(v) = super::fast_get::read(data, limits) {
            return Ok(v);
        }
    }
    let v = codec::decode(data, limits)?;
    codec::check_plain(&v)?;
    Ok(v)
}

/// Dependencies as the client sends them: `None` or a list of uuid strings. Anything else is
/// refused (a real client never sends it, and clients iterate over it).
pub fn parse_deps(bytes: &[u8], limits: &Limits) -> Result<Option<Vec<String>>, String> {
    match fast_deps(bytes, limits) {
        Some(deps) => Ok(deps),
        None => decoded_deps(bytes, limits),
    }
}

/// The general path of [`parse_deps`]: any pickle, through the decoder.
fn decoded_deps(bytes: &[u8], limits: &Limits) -> Result<Option<Vec<String>>, String> {
    match codec::decode(bytes, limits)? {
        Value::None => Ok(None),
        Value::List(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("dependency is a {}", v.type_name()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(format!("dependencies are a {}", other.type_name())),
    }
}

/// What follows `PROTO 4` and an optional `FRAME` with an honest length (the rest of the input
/// at most, as `decode` checks): the start of every pickle the fast paths read.
pub(super) fn protocol4_body(bytes: &[u8]) -> Option<&[u8]> {
    use crate::pickle::opcodes::{FRAME, PROTO};
    let rest = bytes.strip_prefix(&[PROTO, 4])?;
    let Some(after) = rest.strip_prefix(&[FRAME]) else {
        return Some(rest);
    };
    let (len, after) = after.split_first_chunk::<8>()?;
    usize::try_from(u64::from_le_bytes(*len))
        .ok()
        .filter(|&n| n <= after.len())?;
    Some(after)
}

/// The exact bytes CPython's protocol-4 pickler writes for `None` or a list of short `str`s
/// (`PROTO [FRAME] N .` or `PROTO [FRAME] ] MEMOIZE [( (str MEMOIZE)* e | str MEMOIZE a] .`),
/// read without the general decoder: every relayed Node carries one. Returns `None` for anything
/// else, or anything a limit or an error could apply to; the general path then decides, so the
/// result is always the one `decode` gives.
fn fast_deps(bytes: &[u8], limits: &Limits) -> Option<Option<Vec<String>>> {
    use crate::pickle::opcodes::{
        APPEND, APPENDS, EMPTY_LIST, MARK, MEMOIZE, NONE, SHORT_BINUNICODE, STOP,
    };
    if bytes.len() > limits.max_input || limits.max_depth < 2 {
        return None;
    }
    let mut rest = protocol4_body(bytes)?;
    match take(&mut rest, 1)?[0] {
        NONE => return (take(&mut rest, 1)? == [STOP]).then_some(None),
        EMPTY_LIST => {}
        _ => return None,
    }
    let mut memo = 0usize;
    let mut created = 1usize;
    let mut list = Vec::new();
    // whether the stack has an item above the last mark (what MEMOIZE stores)
    let mut top = true;
    loop {
        match take(&mut rest, 1)?[0] {
            MEMOIZE if top => memo += 1,
            MARK if created == 1 => {
                created += 1;
                top = false;
            }
            SHORT_BINUNICODE => {
                let n = usize::from(take(&mut rest, 1)?[0]);
                list.push(std::str::from_utf8(take(&mut rest, n)?).ok()?.to_owned());
                created += 1;
                top = true;
            }
            APPENDS if created == list.len() + 2 && !list.is_empty() => break,
            APPEND if created == 2 && list.len() == 1 => break,
            STOP if created == 1 => break,
            _ => return None,
        }
    }
    if memo > limits.max_memo || created > limits.max_items {
        return None;
    }
    if !list.is_empty() && take(&mut rest, 1)? != [STOP] {
        return None;
    }
    Some(Some(list))
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if n > rest.len() {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

pub fn encode_deps(deps: &Option<Vec<String>>) -> Frame {
    let v = match deps {
        None => Value::None,
        Some(list) => Value::list(list.iter().map(|s| Value::str(s)).collect()),
    };
    Frame::from(codec::encode(&v))
}

/// `{k: v, ...}` with string keys.
pub fn sdict(items: Vec<(&str, Value)>) -> Value {
    Value::dict(items.into_iter().map(|(k, v)| (Value::str(k), v)).collect())
}

/// What Python's `str(value)` shows for the simple values a client may send (used in the
/// version refusal message, which quotes what the client sent).
pub fn py_str(v: &Value) -> String {
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
pub const PEER_NAME_BYTES: usize = 4;

/// A peer identity for logs, abbreviated: its first [`PEER_NAME_BYTES`] bytes in hex, then
/// `...` when there is more (`0x` in front unless it has the 16 bytes clients use). The whole
/// identity is never logged: whoever reads the log could otherwise present it from elsewhere.
pub fn peer_name(id: &[u8]) -> String {
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
    use crate::session::tests::harness::unhex;

    #[test]
    fn peer_names_are_abbreviated_never_the_whole_identity() {
        // Python: bytes(range(0x10, 0x20))[:4].hex() and (b"\x00\xab\xff").hex()
        let id: Vec<u8> = (0x10..0x20).collect();
        assert_eq!(peer_name(&id), "10111213...");
        assert_eq!(peer_name(&[0x00, 0xab, 0xff]), "0x00abff");
        assert_eq!(peer_name(&[1, 2, 3, 4, 5]), "0x01020304...");
        assert_eq!(peer_name(&[]), "0x");
    }

    /// `pickle.dumps(x, protocol=4)` from CPython 3.11 for `None`, `[]`, one, two and three
    /// uuids, `['é']`, the same uuid twice (a `BINGET`: the general path) and `['']`.
    const CPYTHON: [&str; 8] = [
        "80044e2e",
        "80045d942e",
        "8004952b000000000000005d948c2431323334353637382d393061622d636465662d313233342d35363738393061626364656694612e",
        "80049553000000000000005d94288c2431323334353637382d393061622d636465662d313233342d353637383930616263646566948c2432343638616366312d323135372d396264652d323436382d61636631323135373962646594652e",
        "8004957a000000000000005d94288c2431323334353637382d393061622d636465662d313233342d353637383930616263646566948c2432343638616366312d323135372d396264652d323436382d616366313231353739626465948c2433363964303336392d623230332d363963642d333639642d30333639623230333639636494652e",
        "80049509000000000000005d948c02c3a994612e",
        "8004952e000000000000005d94288c2431323334353637382d393061622d636465662d313233342d353637383930616263646566946801652e",
        "80049507000000000000005d948c0094612e",
    ];

    /// Whenever the fast path answers, the decoder gives the same answer.
    fn agree(b: &[u8], limits: &Limits) -> bool {
        match fast_deps(b, limits) {
            Some(fast) => {
                assert_eq!(Ok(fast), decoded_deps(b, limits), "{b:02x?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn fast_path_takes_cpython_lists_and_agrees_with_the_decoder() {
        let lim = Limits::default();
        let taken: Vec<bool> = CPYTHON.iter().map(|h| agree(&unhex(h), &lim)).collect();
        assert_eq!(
            taken,
            [true, true, true, true, true, true, false, true],
            "which inputs the fast path reads"
        );
        assert_eq!(
            parse_deps(&unhex(CPYTHON[3]), &lim).unwrap().unwrap().len(),
            2
        );
    }

    #[test]
    fn fast_path_agrees_on_every_truncation_and_byte_change() {
        let lim = Limits::default();
        let mut cases = 0;
        for h in CPYTHON {
            let b = unhex(h);
            for n in 0..b.len() {
                agree(&b[..n], &lim);
                for v in [
                    0u8, 1, 0x28, 0x2e, 0x4e, 0x5d, 0x61, 0x65, 0x8c, 0x94, 0x95, 0xff,
                ] {
                    let mut m = b.clone();
                    m[n] = v;
                    agree(&m, &lim);
                    // and with one byte inserted
                    let mut m = b.clone();
                    m.insert(n, v);
                    agree(&m, &lim);
                    cases += 2;
                }
            }
        }
        assert!(cases > 5_000);
    }

    #[test]
    fn fast_path_leaves_limits_to_the_decoder() {
        let b = unhex(CPYTHON[4]);
        for lim in [
            Limits {
                max_memo: 3,
                ..Limits::default()
            },
            Limits {
                max_items: 4,
                ..Limits::default()
            },
            Limits {
                max_input: b.len() - 1,
                ..Limits::default()
            },
            Limits {
                max_depth: 1,
                ..Limits::default()
            },
        ] {
            assert!(fast_deps(&b, &lim).is_none(), "{lim:?}");
        }
        assert!(fast_deps(
            &b,
            &Limits {
                max_memo: 4,
                max_items: 5,
                ..Limits::default()
            }
        )
        .is_some());
    }
}
