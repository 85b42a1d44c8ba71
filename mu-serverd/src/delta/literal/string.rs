//! The body of one string literal, from its opening quote to its closing one: Python's escapes
//! (`\\x41`, `\\n`, octal, `\\u`...), raw strings, bytes limited to ASCII, triple quotes. Escapes
//! CPython's tokenizer does not know are kept as written (`'\\q'` is backslash, q).

use super::lit::LitErr;
use crate::delta::error::{PyErr, PyExc};

fn ch(c: char) -> u32 {
    c as u32
}

/// Reads the string that starts at `s[*i]` (its quote `q`, prefixes already read) into `out`,
/// leaving `*i` after the closing quote. `Fallback` where CPython's tokenizer fails.
pub(super) fn one_string(
    s: &[u32],
    i: &mut usize,
    q: u32,
    is_bytes: bool,
    raw: bool,
    out: &mut Vec<u32>,
) -> Result<(), LitErr> {
    let triple = s[*i..].starts_with(&[q, q, q]);
    *i += if triple { 3 } else { 1 };
    loop {
        let c = s.get(*i).copied().ok_or(LitErr::Fallback)?;
        if c == q && (!triple || s[*i..].starts_with(&[q, q, q])) {
            *i += if triple { 3 } else { 1 };
            return Ok(());
        }
        if (c == ch('\n') || c == ch('\r')) && !triple {
            return Err(LitErr::Fallback);
        }
        if is_bytes && c >= 0x80 {
            return Err(LitErr::Fallback);
        }
        *i += 1;
        if c != ch('\\') {
            out.push(if c == ch('\r') { ch('\n') } else { c });
            continue;
        }
        let e = s.get(*i).copied().ok_or(LitErr::Fallback)?;
        if raw {
            out.push(c);
            out.push(e);
            *i += 1;
            continue;
        }
        *i += 1;
        let simple = match char::from_u32(e).unwrap_or('\0') {
            '\n' => Some(None),
            '\\' => Some(Some(ch('\\'))),
            '\'' => Some(Some(ch('\''))),
            '"' => Some(Some(ch('"'))),
            'a' => Some(Some(7)),
            'b' => Some(Some(8)),
            'f' => Some(Some(12)),
            'n' => Some(Some(10)),
            'r' => Some(Some(13)),
            't' => Some(Some(9)),
            'v' => Some(Some(11)),
            _ => None,
        };
        if let Some(esc) = simple {
            if let Some(v) = esc {
                out.push(v);
            }
            continue;
        }
        if (ch('0')..=ch('7')).contains(&e) {
            let mut v = e - ch('0');
            for _ in 0..2 {
                match s.get(*i).copied() {
                    Some(d) if (ch('0')..=ch('7')).contains(&d) => {
                        v = v * 8 + (d - ch('0'));
                        *i += 1;
                    }
                    _ => break,
                }
            }
            if is_bytes {
                v &= 0xff;
            }
            out.push(v);
            continue;
        }
        let hex_len = match char::from_u32(e).unwrap_or('\0') {
            'x' => 2,
            'u' if !is_bytes => 4,
            'U' if !is_bytes => 8,
            'N' if !is_bytes => {
                return Err(LitErr::Raise(PyErr::new(
                    PyExc::Unsupported,
                    "\\N{...} escapes in paths are not supported",
                )))
            }
            _ => 0,
        };
        if hex_len == 0 {
            out.push(c);
            out.push(e);
            continue;
        }
        let mut v: u32 = 0;
        for _ in 0..hex_len {
            let d = s
                .get(*i)
                .copied()
                .and_then(char::from_u32)
                .and_then(|d| d.to_digit(16))
                .ok_or(LitErr::Fallback)?;
            v = v * 16 + d;
            *i += 1;
        }
        if v > 0x10ffff {
            return Err(LitErr::Fallback);
        }
        out.push(v);
    }
}
