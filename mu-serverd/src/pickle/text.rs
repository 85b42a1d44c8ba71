//! Number and string conversions the opcodes need: two's-complement integers of any size,
//! decimal text (protocol 0/1 `INT`/`LONG`), `raw-unicode-escape` (`UNICODE`), Python 2 string
//! literals (`STRING`), and CPython's `surrogatepass` UTF-8.

use super::error::DecodeErrorKind;

/// An integer as the decoder produces it: `i64` when it fits, else minimal little-endian two's
/// complement bytes (the payload format of `LONG1`/`LONG4`).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum IntRepr {
    Small(i64),
    Big(Vec<u8>),
}

/// Interprets little-endian two's complement bytes (a `LONG1`/`LONG4` payload).
pub(super) fn int_from_le(bytes: &[u8]) -> IntRepr {
    let mut n = bytes.len();
    // Drop redundant sign-extension bytes.
    while n > 1 {
        let last = bytes[n - 1];
        let prev_neg = bytes[n - 2] & 0x80 != 0;
        if (last == 0 && !prev_neg) || (last == 0xff && prev_neg) {
            n -= 1;
        } else {
            break;
        }
    }
    let bytes = &bytes[..n];
    if n <= 8 {
        let fill = if n > 0 && bytes[n - 1] & 0x80 != 0 {
            0xff
        } else {
            0
        };
        let mut buf = [fill; 8];
        buf[..n].copy_from_slice(bytes);
        IntRepr::Small(i64::from_le_bytes(buf))
    } else {
        IntRepr::Big(bytes.to_vec())
    }
}

/// CPython 3.11 refuses to convert decimal strings longer than this (`sys.int_info`), which
/// also keeps the quadratic conversion below cheap.
const MAX_DECIMAL_DIGITS: usize = 4300;

/// Parses an optionally signed decimal integer (the argument of text `INT`/`LONG`).
pub(super) fn int_from_decimal(text: &[u8]) -> Result<IntRepr, DecodeErrorKind> {
    let bad = DecodeErrorKind::BadText("integer");
    let (neg, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad);
    }
    if digits.len() > MAX_DECIMAL_DIGITS {
        return Err(DecodeErrorKind::BadText("integer has too many digits"));
    }
    if digits.len() <= 18 {
        let mut v: i64 = 0;
        for d in digits {
            v = v * 10 + i64::from(d - b'0');
        }
        return Ok(IntRepr::Small(if neg { -v } else { v }));
    }
    // Magnitude in base 2^32 limbs, little-endian.
    let mut limbs: Vec<u32> = Vec::with_capacity(digits.len() / 9 + 1);
    for chunk in digits.chunks(9) {
        let mut c: u64 = 0;
        for d in chunk {
            c = c * 10 + u64::from(d - b'0');
        }
        let mul = 10u64.pow(chunk.len() as u32);
        let mut carry = c;
        for limb in limbs.iter_mut() {
            let t = u64::from(*limb) * mul + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
    }
    let mut bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    bytes.push(0); // room for the sign bit
    if neg {
        let mut carry = true;
        for b in bytes.iter_mut() {
            let (v, c) = (!*b).overflowing_add(u8::from(carry));
            *b = v;
            carry = c;
        }
    }
    Ok(int_from_le(&bytes))
}

/// Appends code point `cp` as UTF-8, writing surrogates the way `surrogatepass` does.
pub(super) fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7f => out.push(cp as u8),
        0x80..=0x7ff => out.extend_from_slice(&[0xc0 | (cp >> 6) as u8, 0x80 | (cp & 0x3f) as u8]),
        0x800..=0xffff => out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xf0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3f) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
    }
}

/// True when `bytes` is what CPython's UTF-8 decoder accepts with `surrogatepass`: UTF-8 in
/// which the three-byte encodings of U+D800..U+DFFF are also allowed.
#[inline]
pub(super) fn is_surrogatepass_utf8(bytes: &[u8]) -> bool {
    // Most strings in a node are short ASCII names (~22 per 1 KiB Blender node): checked here,
    // inlined into the scanners (std's `is_ascii` reads them a word at a time), for a fraction
    // of the call and `from_utf8`'s set-up.
    (bytes.len() <= 32 && bytes.is_ascii()) || is_surrogatepass_utf8_slow(bytes)
}

#[inline(never)]
fn is_surrogatepass_utf8_slow(mut bytes: &[u8]) -> bool {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return true,
            Err(e) => {
                let at = e.valid_up_to();
                match bytes.get(at..at + 3) {
                    Some([0xed, b1, b2])
                        if (0xa0..=0xbf).contains(b1) && (0x80..=0xbf).contains(b2) =>
                    {
                        bytes = &bytes[at + 3..];
                    }
                    _ => return false,
                }
            }
        }
    }
}

fn hex_value(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// Decodes CPython's `raw-unicode-escape` (the argument of protocol 0 `UNICODE`): bytes are
/// Latin-1 code points except `\uXXXX` and `\UXXXXXXXX`. Output is `surrogatepass` UTF-8.
pub(super) fn raw_unicode_escape(text: &[u8]) -> Result<Vec<u8>, DecodeErrorKind> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        i += 1;
        if c != b'\\' || i >= text.len() {
            push_code_point(&mut out, u32::from(c));
            continue;
        }
        let count = match text[i] {
            b'u' => 4,
            b'U' => 8,
            other => {
                // A backslash before anything else is literal, and so is what follows it.
                out.push(b'\\');
                push_code_point(&mut out, u32::from(other));
                i += 1;
                continue;
            }
        };
        i += 1;
        let digits = text
            .get(i..i + count)
            .ok_or(DecodeErrorKind::BadText("truncated \\u escape"))?;
        let mut cp: u32 = 0;
        for &d in digits {
            cp = cp * 16 + hex_value(d).ok_or(DecodeErrorKind::BadText("bad \\u escape"))?;
        }
        if cp > 0x10ffff {
            return Err(DecodeErrorKind::BadText("\\U escape out of range"));
        }
        push_code_point(&mut out, cp);
        i += count;
    }
    Ok(out)
}

/// Decodes the argument of protocol 0 `STRING`: a quoted Python 2 string literal, unescaped
/// like `codecs.escape_decode`. Python 3 then decodes it as ASCII (the default `encoding`), so a
/// non-ASCII result is an error, as in CPython.
pub(super) fn string_literal(text: &[u8]) -> Result<Vec<u8>, DecodeErrorKind> {
    let bad = DecodeErrorKind::BadText("STRING argument");
    let inner = match text {
        [q, inner @ .., q2] if q == q2 && (*q == b'\'' || *q == b'"') => inner,
        _ => return Err(DecodeErrorKind::BadText("STRING argument is not quoted")),
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *inner.get(i).ok_or(bad.clone())?;
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match inner.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let hi = inner
                    .get(i)
                    .and_then(|&d| hex_value(d))
                    .ok_or(bad.clone())?;
                let lo = inner
                    .get(i + 1)
                    .and_then(|&d| hex_value(d))
                    .ok_or(bad.clone())?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    if !out.is_ascii() {
        return Err(DecodeErrorKind::BadText("STRING is not ASCII"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_ints_normalise() {
        assert_eq!(int_from_le(&[]), IntRepr::Small(0));
        assert_eq!(int_from_le(&[0xff]), IntRepr::Small(-1));
        assert_eq!(int_from_le(&[0x80, 0x00]), IntRepr::Small(128));
        assert_eq!(
            int_from_le(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xff]),
            IntRepr::Small(i64::MIN)
        );
        assert_eq!(
            int_from_le(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0]),
            IntRepr::Big(vec![0, 0, 0, 0, 0, 0, 0, 0x80, 0])
        );
    }

    #[test]
    fn decimal_ints() {
        assert_eq!(int_from_decimal(b"-42"), Ok(IntRepr::Small(-42)));
        // 2**70 = 0x40_0000_0000_0000_0000
        let mut two70 = vec![0u8; 8];
        two70.push(0x40);
        assert_eq!(
            int_from_decimal(b"1180591620717411303424"),
            Ok(IntRepr::Big(two70))
        );
        assert_eq!(
            int_from_decimal(b"-9223372036854775808"),
            Ok(IntRepr::Small(i64::MIN))
        );
        assert!(int_from_decimal(b"12a").is_err());
        assert!(int_from_decimal(b"").is_err());
    }

    #[test]
    fn surrogates() {
        assert!(is_surrogatepass_utf8(b"a\xed\xb3\xbfb"));
        assert!(!is_surrogatepass_utf8(b"a\xffb"));
        assert_eq!(
            raw_unicode_escape(b"a\\udcff\\u005cu").unwrap(),
            b"a\xed\xb3\xbf\\u".to_vec()
        );
        assert_eq!(
            raw_unicode_escape(b"\xe9").unwrap(),
            "é".as_bytes().to_vec()
        );
        assert_eq!(
            string_literal(b"'a\\n\\x41\\101'").unwrap(),
            b"a\nAA".to_vec()
        );
    }

    /// The short-string shortcut sees a non-ASCII byte at every position of every length it
    /// handles (and just past it): a lone 0x80 or 0xff is refused, a whole 'é' accepted.
    #[test]
    fn short_strings_are_checked_at_every_position() {
        for len in 1..=40 {
            for at in 0..len {
                let mut b = vec![b'a'; len];
                for bad in [0x80u8, 0xff] {
                    b[at] = bad;
                    assert!(!is_surrogatepass_utf8(&b), "len {len}, {bad:#x} at {at}");
                }
                let mut ok = vec![b'a'; len];
                ok.splice(at..at + 1, "é".bytes());
                assert!(is_surrogatepass_utf8(&ok), "len {len}, é at {at}");
            }
            assert!(is_surrogatepass_utf8(&vec![b'z'; len]));
        }
    }
}
