//! `int(text)` and `float(text)` as CPython reads them: surrounding whitespace (Unicode for
//! `str`, ASCII for `bytes`), a sign, digit runs with single inner underscores, `inf`/`nan`,
//! and the 4,300-digit limit on integer conversion.

use crate::delta::error::PyErr;
use crate::delta::num::PyInt;
use crate::pickle::value::Value;

/// `str.strip()` whitespace (`unicode` true) or `bytes.strip()` whitespace.
fn is_space(cp: u32, unicode: bool) -> bool {
    match cp {
        0x09..=0x0d | 0x20 => true,
        0x1c..=0x1f
        | 0x85
        | 0xa0
        | 0x1680
        | 0x2000..=0x200a
        | 0x2028
        | 0x2029
        | 0x202f
        | 0x205f
        | 0x3000 => unicode,
        _ => false,
    }
}

fn strip(cps: &[u32], unicode: bool) -> &[u32] {
    let start = cps
        .iter()
        .position(|c| !is_space(*c, unicode))
        .unwrap_or(cps.len());
    let end = cps
        .iter()
        .rposition(|c| !is_space(*c, unicode))
        .map_or(start, |e| e + 1);
    &cps[start..end.max(start)]
}

/// Digits with single underscores between them; returns the ASCII digits.
fn underscored_digits(cps: &[u32]) -> Option<Vec<u8>> {
    if cps.is_empty() || cps[0] == '_' as u32 || cps[cps.len() - 1] == '_' as u32 {
        return None;
    }
    let mut out = Vec::with_capacity(cps.len());
    let mut prev_us = false;
    for &c in cps {
        if c == '_' as u32 {
            if prev_us {
                return None;
            }
            prev_us = true;
        } else if (b'0' as u32..=b'9' as u32).contains(&c) {
            out.push(c as u8);
            prev_us = false;
        } else {
            return None;
        }
    }
    Some(out)
}

pub(super) fn parse_int(cps: &[u32], unicode: bool) -> Result<Value, PyErr> {
    let bad = || PyErr::value("invalid literal for int() with base 10");
    let s = strip(cps, unicode);
    let (neg, body) = match s.first() {
        Some(c) if *c == '-' as u32 => (true, &s[1..]),
        Some(c) if *c == '+' as u32 => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = underscored_digits(body).ok_or_else(bad)?;
    if digits.len() > 4300 {
        return Err(PyErr::value(format!(
            "Exceeds the limit (4300 digits) for integer string conversion: value has {} \
             digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    Ok(PyInt::from_decimal_digits(&digits, neg).to_value())
}

pub(super) fn parse_float(cps: &[u32], unicode: bool) -> Result<Value, PyErr> {
    let bad = || PyErr::value("could not convert string to float");
    let s = strip(cps, unicode);
    if s.iter().any(|c| *c > 0x7f) {
        return Err(bad());
    }
    let text: String = s.iter().map(|c| *c as u8 as char).collect();
    let (sign, body) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, &text[..]),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Ok(Value::Float(sign * f64::INFINITY));
    }
    if lower == "nan" {
        return Ok(Value::Float(if sign < 0.0 { -f64::NAN } else { f64::NAN }));
    }
    // mantissa [e exponent]; each digit run may hold single inner underscores
    let (mant, exp) = match lower.find('e') {
        Some(i) => (&lower[..i], Some(&lower[i + 1..])),
        None => (&lower[..], None),
    };
    let run = |r: &str| -> Option<String> {
        let cps: Vec<u32> = r.chars().map(|c| c as u32).collect();
        underscored_digits(&cps).map(|d| String::from_utf8_lossy(&d).into_owned())
    };
    let (ip, fp) = match mant.find('.') {
        Some(i) => (&mant[..i], Some(&mant[i + 1..])),
        None => (mant, None),
    };
    let ip = if ip.is_empty() {
        Some(String::new())
    } else {
        run(ip)
    }
    .ok_or_else(bad)?;
    let fp = match fp {
        None => None,
        Some("") => Some(String::new()),
        Some(f) => Some(run(f).ok_or_else(bad)?),
    };
    if ip.is_empty() && fp.as_deref().unwrap_or("").is_empty() {
        return Err(bad());
    }
    let mut norm = ip;
    if let Some(f) = fp {
        norm.push('.');
        norm.push_str(&f);
    }
    if let Some(e) = exp {
        let (es, ed) = match e.as_bytes().first() {
            Some(b'-') => ("-", &e[1..]),
            Some(b'+') => ("", &e[1..]),
            _ => ("", e),
        };
        let ed = run(ed).ok_or_else(bad)?;
        norm.push('e');
        norm.push_str(es);
        norm.push_str(&ed);
    }
    let f: f64 = norm.parse().map_err(|_| bad())?;
    Ok(Value::Float(sign * f))
}
