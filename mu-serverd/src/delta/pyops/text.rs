//! Python `str` as code points: the pickle keeps a string as `surrogatepass` UTF-8 (what CPython
//! writes, lone surrogates included); indexing, slicing and `literal_eval` work on code points.

use crate::pickle::value::Value;

/// Decodes `surrogatepass` UTF-8 into code points (invalid bytes become U+FFFD: such strings
/// cannot come from CPython).
pub(crate) fn code_points(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (len, init) = match b {
            0x00..=0x7f => (1, b as u32),
            0xc0..=0xdf => (2, (b & 0x1f) as u32),
            0xe0..=0xef => (3, (b & 0x0f) as u32),
            0xf0..=0xf7 => (4, (b & 0x07) as u32),
            _ => (0, 0),
        };
        if len == 0
            || i + len > bytes.len()
            || !bytes[i + 1..i + len].iter().all(|c| c & 0xc0 == 0x80)
        {
            out.push(0xfffd);
            i += 1;
            continue;
        }
        let mut cp = init;
        for c in &bytes[i + 1..i + len] {
            cp = (cp << 6) | (c & 0x3f) as u32;
        }
        out.push(cp);
        i += len;
    }
    out
}

/// Encodes code points back (`surrogatepass`).
pub(crate) fn encode_code_points(cps: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cps.len());
    for &cp in cps {
        push_code_point(&mut out, cp);
    }
    out
}

pub(crate) fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7f => out.push(cp as u8),
        0x80..=0x7ff => {
            out.push(0xc0 | (cp >> 6) as u8);
            out.push(0x80 | (cp & 0x3f) as u8);
        }
        0x800..=0xffff => {
            out.push(0xe0 | (cp >> 12) as u8);
            out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
            out.push(0x80 | (cp & 0x3f) as u8);
        }
        _ => {
            out.push(0xf0 | (cp >> 18) as u8);
            out.push(0x80 | ((cp >> 12) & 0x3f) as u8);
            out.push(0x80 | ((cp >> 6) & 0x3f) as u8);
            out.push(0x80 | (cp & 0x3f) as u8);
        }
    }
}

pub(crate) fn str_from_cps(cps: &[u32]) -> Value {
    Value::Str(crate::pickle::value::PyStr(std::sync::Arc::from(
        encode_code_points(cps),
    )))
}
