//! The dependencies of a Node or Commit (`pickle(None)` or `pickle([uuid, ...])`): the reader
//! every relayed Node goes through, its writer, and [`protocol4_body`], the start of every
//! pickle the fast readers here and in [`super::snapshot_get`] take.

use super::Frame;
use crate::pickle::{self, DecodeError, Limits, Value};
use std::fmt;

/// Why dependencies are refused (a real client never sends any of these, and clients iterate
/// over the list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepsError {
    /// Not a pickle the decoder reads.
    Decode(DecodeError),
    /// Neither `None` nor a list: the Python type name.
    NotAList(&'static str),
    /// A list item that is not a `str`: its Python type name.
    Item(&'static str),
}

impl fmt::Display for DepsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepsError::Decode(e) => write!(f, "{e}"),
            DepsError::NotAList(t) => write!(f, "dependencies are a {t}"),
            DepsError::Item(t) => write!(f, "dependency is a {t}"),
        }
    }
}

impl std::error::Error for DepsError {}

impl From<DecodeError> for DepsError {
    fn from(e: DecodeError) -> Self {
        DepsError::Decode(e)
    }
}

/// Dependencies as the client sends them: `None` or a list of uuid strings. Anything else is
/// refused (a real client never sends it, and clients iterate over it).
pub fn read_deps(bytes: &[u8], limits: &Limits) -> Result<Option<Vec<String>>, DepsError> {
    match fast_deps(bytes, limits) {
        Some(deps) => Ok(deps),
        None => decoded_deps(bytes, limits),
    }
}

/// The general path of [`read_deps`]: any pickle, through the decoder.
fn decoded_deps(bytes: &[u8], limits: &Limits) -> Result<Option<Vec<String>>, DepsError> {
    match pickle::decode(bytes, limits)? {
        Value::None => Ok(None),
        Value::List(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or(DepsError::Item(v.type_name()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(DepsError::NotAList(other.type_name())),
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

/// `pickle(dependencies)` as a Node carries it: the writer [`read_deps`] mirrors.
pub fn write_deps(deps: &Option<Vec<String>>) -> Frame {
    let v = match deps {
        None => Value::None,
        Some(list) => Value::list(list.iter().map(|s| Value::str(s)).collect()),
    };
    Frame::from(pickle::encode(&v))
}

#[cfg(test)]
mod tests {
    use super::super::tests::unhex;
    use super::*;

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
            read_deps(&unhex(CPYTHON[3]), &lim).unwrap().unwrap().len(),
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
