//! Python number tokens for the parser ([`super::parse`]): ints in every radix with PEP 515
//! underscores, floats, and imaginary literals (classified only), with CPython's rejections
//! (`01`, `1__0`).

use crate::delta::num::PyInt;
use crate::pickle::value::Value;

/// Digits with optional single underscores between them (after a radix prefix one may lead).
fn clean_digits(s: &str, radix: u32, lead_us: bool) -> Option<String> {
    let body = if lead_us {
        s.strip_prefix('_').unwrap_or(s)
    } else {
        s
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let out: String = body.chars().filter(|c| *c != '_').collect();
    if out.chars().all(|c| c.is_digit(radix)) {
        Some(out)
    } else {
        None
    }
}

/// A Python number token (int with radix prefixes, float, imaginary `j`).
pub(super) fn parse_number(tok: &str) -> Option<(Value, bool)> {
    let lower = tok.to_ascii_lowercase();
    if let Some(rest) = lower.strip_suffix('j') {
        return parse_float_tok(rest)
            .map(|_| (Value::None, true))
            .or_else(|| clean_digits(rest, 10, false).map(|_| (Value::None, true)));
    }
    for (p, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(p) {
            let d = clean_digits(rest, radix, true)?;
            let mut r = PyInt::zero();
            for c in d.chars() {
                let mut t = PyInt::from_i128(0);
                // r = r * radix + digit, done through decimal-free limb arithmetic
                t.mag = r.mag.clone();
                r = mul_add(&t, radix, c.to_digit(radix)?);
            }
            return Some((r.to_value(), false));
        }
    }
    if lower.contains('.') || lower.contains('e') {
        return parse_float_tok(&lower).map(|f| (Value::Float(f), false));
    }
    let d = clean_digits(&lower, 10, false)?;
    if d.len() > 1 && d.starts_with('0') && d.chars().any(|c| c != '0') {
        return None;
    }
    if d.len() > 4300 {
        return None;
    }
    Some((
        PyInt::from_decimal_digits(d.as_bytes(), false).to_value(),
        false,
    ))
}

fn mul_add(a: &PyInt, m: u32, add: u32) -> PyInt {
    let mut mag = a.mag.clone();
    let mut carry = add as u64;
    for l in mag.iter_mut() {
        let v = (*l as u64) * m as u64 + carry;
        *l = v as u32;
        carry = v >> 32;
    }
    if carry != 0 {
        mag.push(carry as u32);
    }
    PyInt { neg: false, mag }
}

fn parse_float_tok(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find('e') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (ip, fp) = match mant.find('.') {
        Some(i) => (&mant[..i], Some(&mant[i + 1..])),
        None => (mant, None),
    };
    let ip = if ip.is_empty() {
        String::new()
    } else {
        clean_digits(ip, 10, false)?
    };
    let fp = match fp {
        None => None,
        Some("") => Some(String::new()),
        Some(f) => Some(clean_digits(f, 10, false)?),
    };
    if ip.is_empty() && fp.as_deref().unwrap_or("").is_empty() {
        return None;
    }
    if fp.is_none() && exp.is_none() {
        return None;
    }
    let mut norm = if ip.is_empty() { "0".to_string() } else { ip };
    if let Some(f) = fp {
        norm.push('.');
        norm.push_str(&f);
    }
    if let Some(e) = exp {
        let (sign, digits) = match e.as_bytes().first() {
            Some(b'-') => ("-", &e[1..]),
            Some(b'+') => ("", &e[1..]),
            _ => ("", e),
        };
        norm.push('e');
        norm.push_str(sign);
        norm.push_str(&clean_digits(digits, 10, false)?);
    }
    norm.parse().ok()
}
