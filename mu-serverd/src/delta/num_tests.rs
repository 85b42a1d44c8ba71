//! Unit tests of `num.rs`: int bytes round trips, int/float comparison, `float(int)` rounding
//! and the 4,300-digit limit.
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
        assert_eq!(p.to_decimal().unwrap(), v.to_string());
    }
    let big = PyInt::from_decimal_digits(b"123456789012345678901234567890123456789012", true);
    assert_eq!(
        big.to_decimal().unwrap(),
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

/// `float(int)` from the bits agrees with the correctly rounded decimal parse (the old
/// path) on ints around every rounding boundary.
#[test]
fn int_to_float_rounds_like_the_decimal_parse() {
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..3000 {
        let limbs = 3 + (next() % 40) as usize;
        let mut mag: Vec<u32> = (0..limbs).map(|_| next() as u32).collect();
        // Boundary patterns: exact halves, just above/below, all ones.
        match round % 5 {
            0 => {
                let k = limbs - 2;
                mag[..k].iter_mut().for_each(|x| *x = 0);
            }
            1 => mag.iter_mut().for_each(|x| *x = u32::MAX),
            2 => {
                mag[..limbs - 2].iter_mut().for_each(|x| *x = 0);
                mag[limbs - 2] = 1 << 31;
            }
            _ => {}
        }
        let p = PyInt {
            neg: round % 2 == 0,
            mag,
        };
        let mut p = p;
        p.trim();
        let want: Option<f64> = p
            .to_decimal()
            .ok()
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|f| f.is_finite());
        assert_eq!(
            p.to_f64().map(f64::to_bits),
            want.map(f64::to_bits),
            "{p:?}"
        );
    }
    // 2^1024 overflows; the largest float converts back to itself.
    let mut p = PyInt::from_i128(1);
    p.mag = vec![0; 32];
    p.mag.push(1); // 2^1024
    assert_eq!(p.to_f64(), None);
    let max = PyInt::from_f64_trunc(f64::MAX).unwrap();
    assert_eq!(max.to_f64(), Some(f64::MAX));
}

#[test]
fn int_to_str_stops_at_cpython_digit_limit() {
    let nines = |n: usize| PyInt::from_decimal_digits(&vec![b'9'; n], false);
    assert_eq!(nines(4300).to_decimal().unwrap().len(), 4300);
    assert!(nines(4301).to_decimal().is_err());
    let mut huge = PyInt::from_i128(1);
    huge.mag = vec![7; 250_000]; // a 1 MB integer: refused by its length, not converted
    let _meter = crate::pickle::budget::scope_steps(1_000_000, usize::MAX);
    let err = huge.to_decimal().unwrap_err();
    assert_eq!(err.exc, super::super::error::PyExc::ValueError, "{err:?}");
    assert_eq!(crate::pickle::budget::used(), 0);
    assert!(huge.to_f64().is_none());
}
