//! Python integers and numeric comparison, enough for the Delta engine.
//!
//! The value model keeps ints that fit `i64` as `Int` and the rest as two's-complement bytes.
//! deepdiff relies on Python's exact int/float/bool equality (`1 == 1.0 == True`,
//! `2**70 == 2.0**70`), on ordering of path elements, and on `int()`/`str()` conversions, so this
//! module gives integers a sign-magnitude form with just the arithmetic those need.

use crate::pickle::value::{BigInt, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// A Python int: sign and magnitude as little-endian base-2^32 limbs (no trailing zero limbs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyInt {
    pub neg: bool,
    pub mag: Vec<u32>,
}

impl PyInt {
    pub fn zero() -> Self {
        PyInt {
            neg: false,
            mag: Vec::new(),
        }
    }
    pub fn from_i128(v: i128) -> Self {
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
    pub fn from_le_twos(bytes: &[u8]) -> Self {
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
    pub fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }
    pub fn to_i128(&self) -> Option<i128> {
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
    pub fn to_value(&self) -> Value {
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
    pub fn cmp_int(&self, other: &PyInt) -> Ordering {
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
    pub fn from_decimal_digits(digits: &[u8], neg: bool) -> Self {
        let mut r = PyInt::zero();
        for d in digits {
            r.mul_add(10, (d - b'0') as u32);
        }
        r.neg = neg;
        r.trim();
        r
    }
    pub fn to_decimal(&self) -> String {
        if let Some(v) = self.to_i128() {
            return v.to_string();
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
        if self.neg {
            s.push('-');
        }
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:09}"));
            }
        }
        s
    }
    /// `float(int)`: correctly rounded, `None` on overflow (Python raises `OverflowError`).
    pub fn to_f64(&self) -> Option<f64> {
        if let Some(v) = self.to_i128() {
            return Some(v as f64);
        }
        // Parse the decimal text: Rust's float parser rounds correctly.
        let f: f64 = self.to_decimal().parse().ok()?;
        if f.is_finite() {
            Some(f)
        } else {
            None
        }
    }
    /// `int(f)` for a finite float (truncation toward zero).
    pub fn from_f64_trunc(f: f64) -> Option<Self> {
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
        // value = mant * 2^exp, exp > 0 here
        let mut r = PyInt::from_i128(mant as i128);
        for _ in 0..exp {
            r.mul_add(2, 0);
        }
        r.neg = t < 0.0;
        Some(r)
    }
}

/// A Python number: `bool`, `int` or `float`.
#[derive(Clone, Debug)]
pub enum Num {
    Int(PyInt),
    Float(f64),
}

/// The numeric view of a value, or `None` when it is not a number.
pub fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(PyInt::from_i128(*b as i128))),
        Value::Int(i) => Some(Num::Int(PyInt::from_i128(*i as i128))),
        Value::BigInt(b) => Some(Num::Int(PyInt::from_le_twos(&b.0))),
        Value::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// Python's exact comparison of two numbers; `None` when a NaN is involved.
pub fn num_cmp(a: &Num, b: &Num) -> Option<Ordering> {
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
mod tests {
    use super::*;

    #[test]
    fn bigint_roundtrip_through_value_bytes() {
        for v in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            1 << 63,
            -(1 << 63) - 1,
            1 << 100,
        ] {
            let p = PyInt::from_i128(v);
            let back = match p.to_value() {
                Value::Int(i) => PyInt::from_i128(i as i128),
                Value::BigInt(b) => PyInt::from_le_twos(&b.0),
                _ => unreachable!(),
            };
            assert_eq!(back, p, "{v}");
            assert_eq!(p.to_decimal(), v.to_string());
        }
        let big = PyInt::from_decimal_digits(b"123456789012345678901234567890123456789012", true);
        assert_eq!(
            big.to_decimal(),
            "-123456789012345678901234567890123456789012"
        );
    }

    #[test]
    fn int_equals_float_exactly_like_python() {
        let two70 = PyInt::from_decimal_digits(b"1180591620717411303424", false);
        assert_eq!(
            num_cmp(&Num::Int(two70), &Num::Float(2f64.powi(70))),
            Some(Ordering::Equal)
        );
        assert_eq!(
            num_cmp(&Num::Int(PyInt::from_i128(1)), &Num::Float(1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            num_cmp(&Num::Int(PyInt::from_i128(-2)), &Num::Float(-1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(num_cmp(&Num::Float(f64::NAN), &Num::Float(1.0)), None);
    }
}
