//! Python `repr()`/`str()` of data values, for `type_changes` whose target type is `str`
//! (deepdiff omits `new_value` when `str(old) == new`, so the receiver must compute `str(old)`
//! exactly as CPython does: `str(0.1) == '0.1'`, `str(1e16) == '1e+16'`, `str([1, 'a'])`).
//!
//! Limits (documented in docs/delta.md): printability of non-ASCII characters uses a fixed
//! table instead of the Unicode database, and sets are written in stored order, while CPython
//! writes them in hash order (which for strings changes with every process).

use super::error::{PyErr, PyExc};
use super::num::PyInt;
use super::pyops::code_points;
use crate::pickle::budget;
use crate::pickle::value::{charge_bytes, charge_items, Value};
use std::sync::Arc;

/// CPython's `repr(float)`: shortest round-trip digits, scientific below 1e-4 or from 1e16.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-7".
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    let decpt = exp + 1; // position of the decimal point relative to the digits
    let out = if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if (decpt as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(decpt as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{a}.{b}")
        }
    } else {
        let (a, b) = digits.split_at(1);
        let m = if b.is_empty() {
            a.to_string()
        } else {
            format!("{a}.{b}")
        };
        let e = decpt - 1;
        let esign = if e < 0 { '-' } else { '+' };
        format!("{m}e{esign}{:02}", e.abs())
    };
    format!("{sign}{out}")
}

/// Approximation of `str.isprintable()` for one code point (see the module limits).
fn printable(cp: u32) -> bool {
    !matches!(cp,
        0..=0x1f | 0x7f..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e
        | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000
        | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0xfffe | 0xffff
        | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a | 0xe0000..=0xe0fff | 0xf0000..)
}

/// `repr(str)`.
pub(crate) fn str_repr(bytes: &[u8], out: &mut String) {
    let cps = code_points(bytes);
    let has_sq = cps.contains(&('\'' as u32));
    let has_dq = cps.contains(&('"' as u32));
    let quote = if has_sq && !has_dq { '"' } else { '\'' };
    out.push(quote);
    for cp in cps {
        let c = char::from_u32(cp);
        match c {
            Some(ch) if ch == quote || ch == '\\' => {
                out.push('\\');
                out.push(ch);
            }
            Some('\t') => out.push_str("\\t"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some(ch) if (0x20..0x7f).contains(&cp) => out.push(ch),
            Some(ch) if cp >= 0x7f && printable(cp) => out.push(ch),
            _ => {
                if cp <= 0xff {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp <= 0xffff {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
        }
    }
    out.push(quote);
}

/// `repr(bytes)`.
pub(crate) fn bytes_repr(b: &[u8], out: &mut String) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            _ if c == quote || c == b'\\' => {
                out.push('\\');
                out.push(c as char);
            }
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
}

/// Why `repr(v)` was not produced.
#[derive(Debug)]
pub(crate) enum ReprError {
    /// Objects and globals: their repr is not modelled.
    NotModelled(&'static str),
    /// What CPython raises (`ValueError` for an int over 4,300 digits).
    Raised(PyErr),
    /// The output would pass the cap or the work meter ran out (`pickle::budget`): a memo
    /// DAG can describe a repr of terabytes in a few hundred bytes.
    TooCostly,
}

impl ReprError {
    /// As the engine reports it: Python's own exception, or a refusal.
    pub(crate) fn into_py(self, what: &str) -> PyErr {
        match self {
            ReprError::Raised(e) => e,
            ReprError::NotModelled(t) => {
                PyErr::new(PyExc::Unsupported, format!("{what} of {t} is not modelled"))
            }
            ReprError::TooCostly => PyErr::new(
                PyExc::Unsupported,
                format!("{what} refused: its output passes the message's size or work budget"),
            ),
        }
    }
}

/// `repr(v)` appended to `out`. Every container and every output byte is charged to the work
/// meter, and `out` never grows past `pickle::budget::output_cap()` bytes.
pub(crate) fn repr(v: &Value, out: &mut String) -> Result<(), ReprError> {
    let cap = budget::output_cap();
    let r = repr_at(v, out, cap);
    if r.is_err() && out.len() > cap {
        out.truncate(0);
    }
    r
}

/// `repr(v)` as a new string, or `None` when it fails (for messages about path elements).
pub(crate) fn repr_lossy(v: &Value) -> String {
    let mut s = String::new();
    match repr(v, &mut s) {
        Ok(()) => s,
        Err(_) => format!("<{}>", v.type_name()),
    }
}

fn charge_out(out: &str, before: usize, cap: usize) -> Result<(), ReprError> {
    if out.len() > cap || !budget::charge((out.len() - before) as u64) {
        budget::exhaust();
        return Err(ReprError::TooCostly);
    }
    Ok(())
}

fn repr_at(v: &Value, out: &mut String, cap: usize) -> Result<(), ReprError> {
    budget::visit();
    let before = out.len();
    match v {
        Value::None => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(b) => {
            if !charge_bytes(b.0.len()) {
                return Err(ReprError::TooCostly);
            }
            let text = PyInt::from_le_twos(&b.0).to_decimal();
            out.push_str(&text.map_err(|e| match e.exc {
                PyExc::Unsupported => ReprError::TooCostly,
                _ => ReprError::Raised(e),
            })?)
        }
        Value::Float(f) => out.push_str(&float_repr(*f)),
        Value::Str(s) => {
            if s.0.len() > cap {
                return Err(ReprError::TooCostly);
            }
            str_repr(s.as_bytes(), out)
        }
        Value::Bytes(b) => {
            if b.len() > cap {
                return Err(ReprError::TooCostly);
            }
            bytes_repr(b, out)
        }
        Value::ByteArray(b) => {
            if b.len() > cap {
                return Err(ReprError::TooCostly);
            }
            out.push_str("bytearray(");
            bytes_repr(b, out);
            out.push(')');
        }
        Value::List(items) => seq_repr(items, '[', ']', false, out, cap)?,
        Value::Tuple(items) => seq_repr(items, '(', ')', items.len() == 1, out, cap)?,
        Value::Set(items) => {
            if items.is_empty() {
                out.push_str("set()");
            } else {
                seq_repr(items, '{', '}', false, out, cap)?
            }
        }
        Value::FrozenSet(items) => {
            out.push_str("frozenset(");
            if !items.is_empty() {
                seq_repr(items, '{', '}', false, out, cap)?;
            }
            out.push(')');
        }
        Value::Dict(d) => {
            if !charge_items(d.len()) {
                return Err(ReprError::TooCostly);
            }
            out.push('{');
            for (i, (k, val)) in d.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_at(k, out, cap)?;
                out.push_str(": ");
                repr_at(val, out, cap)?;
            }
            out.push('}');
        }
        Value::Global(_) | Value::PersId(_) | Value::Object(_) => {
            return Err(ReprError::NotModelled(v.type_name()))
        }
    }
    // Containers were charged item by item below; a leaf pays for the bytes it wrote.
    if !matches!(
        v,
        Value::List(_) | Value::Tuple(_) | Value::Set(_) | Value::FrozenSet(_) | Value::Dict(_)
    ) {
        charge_out(out, before, cap)?;
    } else if out.len() > cap {
        budget::exhaust();
        return Err(ReprError::TooCostly);
    }
    Ok(())
}

fn seq_repr(
    items: &[Value],
    open: char,
    close: char,
    trailing_comma: bool,
    out: &mut String,
    cap: usize,
) -> Result<(), ReprError> {
    if !charge_items(items.len()) {
        return Err(ReprError::TooCostly);
    }
    out.push(open);
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        repr_at(it, out, cap)?;
    }
    if trailing_comma {
        out.push(',');
    }
    out.push(close);
    Ok(())
}

/// What `str(v)` raises in CPython whatever the size of its output: `ValueError` when an int
/// of more than 4,300 digits is inside. Each shared container is visited once (its `Arc`), so
/// this is linear in the decoded value however many memo references it holds.
pub(crate) fn str_raises(v: &Value) -> Option<PyErr> {
    let mut seen = std::collections::HashSet::new();
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        budget::visit();
        let items: &[Value] = match v {
            Value::BigInt(b) => {
                // The magnitude has between 8 * len - 9 and 8 * len bits.
                let bits = 8 * b.0.len();
                let over = if bits <= 14_280 {
                    false
                } else if bits > 14_310 {
                    true
                } else {
                    PyInt::from_le_twos(&b.0).too_many_digits()
                };
                if over {
                    return Some(super::num::str_digits_error());
                }
                continue;
            }
            Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => {
                if !seen.insert(Arc::as_ptr(x) as usize) {
                    continue;
                }
                x
            }
            Value::Dict(d) => {
                if seen.insert(Arc::as_ptr(d) as usize) {
                    for (k, x) in d.iter() {
                        work.push(k);
                        work.push(x);
                    }
                }
                continue;
            }
            _ => continue,
        };
        work.extend(items.iter());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_cpython() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (123456789.125, "123456789.125"),
            (1e-5, "1e-05"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (f, s) in cases {
            assert_eq!(float_repr(f), s);
        }
    }

    #[test]
    fn str_repr_picks_quotes_like_cpython() {
        let mut s = String::new();
        let _ = repr(
            &Value::list(vec![
                Value::str("it's"),
                Value::str("a\"b'c"),
                Value::str("t\u{7}"),
            ]),
            &mut s,
        );
        assert_eq!(s, r#"["it's", 'a"b\'c', 't\x07']"#);
    }
}
