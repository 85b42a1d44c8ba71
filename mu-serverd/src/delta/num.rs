//! Python integers and numeric comparison, enough for the Delta engine.
//!
//! The value model keeps ints that fit `i64` as `Int` and the rest as two's-complement bytes.
//! deepdiff relies on Python's exact int/float/bool equality (`1 == 1.0 == True`,
//! `2**70 == 2.0**70`), on ordering of path elements, and on `int()`/`str()` conversions, so this
//! module gives integers a sign-magnitude form with just the arithmetic those need.

use super::error::PyErr;
use crate::pickle::value::{BigInt, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// Most decimal digits CPython 3.11 converts between `int` and `str` (`sys.get_int_max_str_digits()`).
pub(crate) const MAX_STR_DIGITS: usize = 4300;

/// CPython's `ValueError` for `str()` of an int over [`MAX_STR_DIGITS`] digits.
pub(crate) fn str_digits_error() -> PyErr {
    PyErr::value(format!(
        "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion; use \
         sys.set_int_max_str_digits() to increase the limit"
    ))
}

/// A Python int: sign and magnitude as little-endian base-2^32 limbs (no trailing zero limbs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PyInt {
    pub neg: bool,
    pub mag: Vec<u32>,
}

impl PyInt {
    pub(crate) fn zero() -> Self {
        PyInt {
            neg: false,
            mag: Vec::new(),
        }
    }
    pub(crate) fn from_i128(v: i128) -> Self {
        let neg = v < 0;
        let mut m = v.unsigned_abs();
        let mut mag = Vec::new();
        while m != 0 {
            mag.push(m as u32);
            m >>= 32;
        }
        PyInt { neg, mag }
    }
    /// From `LONG1`/`LONG4` payload bytes (little-endian two's complement).
    pub(crate) fn from_le_twos(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::zero();
        }
        let neg = bytes[bytes.len() - 1] & 0x80 != 0;
        let mut b: Vec<u8> = bytes.to_vec();
        if neg {
            // magnitude = two's complement negation
            let mut carry = 1u16;
            for x in b.iter_mut() {
                let v = (!*x) as u16 + carry;
                *x = v as u8;
                carry = v >> 8;
            }
        }
        let mut mag = Vec::with_capacity(b.len() / 4 + 1);
        for chunk in b.chunks(4) {
            let mut w = [0u8; 4];
            w[..chunk.len()].copy_from_slice(chunk);
            mag.push(u32::from_le_bytes(w));
        }
        let mut r = PyInt { neg, mag };
        r.trim();
        r
    }
    fn trim(&mut self) {
        while self.mag.last() == Some(&0) {
            self.mag.pop();
        }
        if self.mag.is_empty() {
            self.neg = false;
        }
    }
    pub(crate) fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }
    pub(crate) fn to_i128(&self) -> Option<i128> {
        if self.mag.len() > 4 {
            return None;
        }
        let mut m: u128 = 0;
        for (i, l) in self.mag.iter().enumerate() {
            m |= (*l as u128) << (32 * i);
        }
        if self.neg {
            if m <= (i128::MAX as u128) + 1 {
                Some((m as i128).wrapping_neg())
            } else {
                None
            }
        } else if m <= i128::MAX as u128 {
            Some(m as i128)
        } else {
            None
        }
    }
    /// Back into the value model (`Int` when it fits `i64`).
    pub(crate) fn to_value(&self) -> Value {
        if let Some(v) = self.to_i128() {
            if let Ok(small) = i64::try_from(v) {
                return Value::Int(small);
            }
        }
        // two's complement little-endian, minimal length
        let mut bytes: Vec<u8> = self.mag.iter().flat_map(|l| l.to_le_bytes()).collect();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        if self.neg {
            let mut carry = 1u16;
            for x in bytes.iter_mut() {
                let v = (!*x) as u16 + carry;
                *x = v as u8;
                carry = v >> 8;
            }
            // needs a sign bit set
            if bytes.last().is_none_or(|b| b & 0x80 == 0) {
                bytes.push(0xff);
            }
            while bytes.len() > 1
                && bytes[bytes.len() - 1] == 0xff
                && bytes[bytes.len() - 2] & 0x80 != 0
            {
                bytes.pop();
            }
        } else if bytes.last().is_some_and(|b| b & 0x80 != 0) {
            bytes.push(0);
        }
        Value::BigInt(BigInt(Arc::from(bytes)))
    }
    fn cmp_mag(a: &[u32], b: &[u32]) -> Ordering {
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }
    pub(crate) fn cmp_int(&self, other: &PyInt) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => Self::cmp_mag(&self.mag, &other.mag),
            (true, true) => Self::cmp_mag(&other.mag, &self.mag),
        }
    }
    /// `self * m + a` on the magnitude.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = a as u64;
        for l in self.mag.iter_mut() {
            let v = (*l as u64) * (m as u64) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.mag.push(carry as u32);
        }
    }
    fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem: u64 = 0;
        for l in self.mag.iter_mut().rev() {
            let cur = (rem << 32) | *l as u64;
            *l = (cur / d as u64) as u32;
            rem = cur % d as u64;
        }
        self.trim();
        rem as u32
    }
    /// From ASCII decimal digits (no sign, no underscores).
    pub(crate) fn from_decimal_digits(digits: &[u8], neg: bool) -> Self {
        let mut r = PyInt::zero();
        for d in digits {
            r.mul_add(10, (d - b'0') as u32);
        }
        r.neg = neg;
        r.trim();
        r
    }
    /// Bits in the magnitude (`int.bit_length()`).
    pub(crate) fn bit_length(&self) -> u64 {
        match self.mag.last() {
            None => 0,
            Some(top) => 32 * (self.mag.len() as u64 - 1) + u64::from(32 - top.leading_zeros()),
        }
    }

    /// `str(int)`, with CPython 3.11's limit: more than [`MAX_STR_DIGITS`] decimal digits
    /// raise `ValueError` (so a 1 MB integer costs a length check, not a quadratic division).
    pub(crate) fn to_decimal(&self) -> Result<String, PyErr> {
        if let Some(v) = self.to_i128() {
            return Ok(v.to_string());
        }
        // 2^14300 > 10^4304: above that many bits the digits surely exceed the limit; below,
        // the conversion is at most ~450 limbs squared.
        if self.bit_length() > 14_300 {
            return Err(str_digits_error());
        }
        if !crate::pickle::budget::charge((self.mag.len() * self.mag.len() / 16) as u64) {
            return Err(PyErr::new(
                super::error::PyExc::Unsupported,
                "int to str conversion refused: the message's work budget is spent",
            ));
        }
        let mut m = PyInt {
            neg: false,
            mag: self.mag.clone(),
        };
        let mut chunks = Vec::new();
        while !m.is_zero() {
            chunks.push(m.divmod_small(1_000_000_000));
        }
        let mut s = String::new();
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:09}"));
            }
        }
        if s.len() > MAX_STR_DIGITS {
            return Err(str_digits_error());
        }
        if self.neg {
            s.insert(0, '-');
        }
        Ok(s)
    }

    /// Would `str(self)` pass [`MAX_STR_DIGITS`]? Decided by the bit length except in the
    /// 20 bits where the digit count is ambiguous.
    pub(crate) fn too_many_digits(&self) -> bool {
        match self.bit_length() {
            0..=14_280 => false, // < 2^14280, which has 4,299 digits
            14_301.. => true,
            _ => self.to_decimal().is_err(),
        }
    }

    /// `float(int)`: correctly rounded (half to even) straight from the bits, `None` on
    /// overflow (Python raises `OverflowError`).
    pub(crate) fn to_f64(&self) -> Option<f64> {
        if let Some(v) = self.to_i128() {
            return Some(v as f64);
        }
        // Keep 54 bits (53 and a rounding bit) and whether anything below them is set.
        let n = self.bit_length();
        let shift = n - 54;
        let (w, b) = ((shift / 32) as usize, (shift % 32) as u32);
        let mut acc: u128 = 0;
        for i in 0..3 {
            acc |= u128::from(self.mag.get(w + i).copied().unwrap_or(0)) << (32 * i);
        }
        let top = ((acc >> b) as u64) & ((1u64 << 54) - 1);
        let sticky = self.mag[..w].iter().any(|x| *x != 0)
            || (b > 0 && self.mag[w] & ((1u32 << b) - 1) != 0);
        let mut m = top >> 1;
        if top & 1 == 1 && (sticky || m & 1 == 1) {
            m += 1;
        }
        // value = m * 2^(shift + 1), m <= 2^53: exact when the power is representable.
        let e = shift + 1;
        if e > 1023 {
            return None;
        }
        let f = (m as f64) * f64::from_bits((1023 + e) << 52);
        if !f.is_finite() {
            return None;
        }
        Some(if self.neg { -f } else { f })
    }
    /// `int(f)` for a finite float (truncation toward zero).
    pub(crate) fn from_f64_trunc(f: f64) -> Option<Self> {
        if !f.is_finite() {
            return None;
        }
        let t = f.trunc();
        if t.abs() < 1e38 {
            return Some(Self::from_i128(t as i128));
        }
        let bits = t.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
        let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        // value = mant * 2^exp, exp > 0 here: a shift, not exp doublings.
        let (words, bits) = ((exp / 32) as usize, (exp % 32) as u32);
        let shifted = (mant as u128) << bits;
        let mut mag = vec![0u32; words];
        mag.extend([
            shifted as u32,
            (shifted >> 32) as u32,
            (shifted >> 64) as u32,
        ]);
        let mut r = PyInt { neg: t < 0.0, mag };
        r.trim();
        Some(r)
    }
}

/// A Python number: `bool`, `int` or `float`.
#[derive(Clone, Debug)]
pub(crate) enum Num {
    Int(PyInt),
    Float(f64),
}

/// The numeric view of a value, or `None` when it is not a number.
pub(crate) fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(PyInt::from_i128(*b as i128))),
        Value::Int(i) => Some(Num::Int(PyInt::from_i128(*i as i128))),
        Value::BigInt(b) => Some(Num::Int(PyInt::from_le_twos(&b.0))),
        Value::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// Python's exact comparison of two numbers; `None` when a NaN is involved.
pub(crate) fn num_cmp(a: &Num, b: &Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp_int(y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(y),
        (Num::Int(x), Num::Float(y)) => int_float_cmp(x, *y),
        (Num::Float(x), Num::Int(y)) => int_float_cmp(y, *x).map(Ordering::reverse),
    }
}

fn int_float_cmp(i: &PyInt, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f == f64::INFINITY {
        return Some(Ordering::Less);
    }
    if f == f64::NEG_INFINITY {
        return Some(Ordering::Greater);
    }
    let t = PyInt::from_f64_trunc(f)?;
    match i.cmp_int(&t) {
        Ordering::Equal => {
            let frac = f - f.trunc();
            if frac > 0.0 {
                Some(Ordering::Less)
            } else if frac < 0.0 {
                Some(Ordering::Greater)
            } else {
                Some(Ordering::Equal)
            }
        }
        o => Some(o),
    }
}

#[cfg(test)]
#[path = "num_tests.rs"]
mod tests;
