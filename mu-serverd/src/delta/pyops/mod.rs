//! Python semantics of the builtin operations deepdiff's Delta performs on data values:
//! `==` (where `1 == 1.0 == True`), hashability, `<` for sorting paths, `len`, truthiness,
//! iteration, and dict/set membership by equality.
//!
//! Identity is modelled for containers only: two containers that are one `Arc` (memo sharing)
//! are equal without a walk, which is what Python's `x is y or x == y` item comparison gives.
//! Float NaN identity is not modelled: floats are not shared objects here.
//!
//! Every walk charges its containers to the work meter (`pickle::budget`): a value whose memo
//! references make it a DAG of 2^40 leaves costs its callers a refusal, not hours. Once the
//! meter is exhausted the answers are meaningless and the engine refuses the delta.

mod text;

pub(crate) use text::{code_points, str_from_cps};

use super::error::PyErr;
use super::num::{as_num, num_cmp};
use crate::pickle::value::{charge_bytes, charge_items, Value};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Python `a == b` for data values.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    crate::pickle::budget::visit();
    use Value::*;
    // allocation-free fast paths for the common pairs
    match (a, b) {
        (Str(x), Str(y)) => return charge_bytes(x.0.len()) && x == y,
        (Int(x), Int(y)) => return x == y,
        (Float(x), Float(y)) => return x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) if x.unsigned_abs() < (1u64 << 53) => {
            return *x as f64 == *y
        }
        _ => {}
    }
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return num_charge(a) && num_charge(b) && num_cmp(&x, &y) == Some(Ordering::Equal);
    }
    match (a, b) {
        (None, None) => true,
        (Str(x), Str(y)) => charge_bytes(x.0.len()) && x == y,
        (Bytes(x), Bytes(y))
        | (ByteArray(x), ByteArray(y))
        | (Bytes(x), ByteArray(y))
        | (ByteArray(x), Bytes(y)) => charge_bytes(x.len()) && x == y,
        (List(x), List(y)) | (Tuple(x), Tuple(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && charge_items(x.len())
                    && x.iter().zip(y.iter()).all(|(p, q)| py_eq(p, q)))
        }
        (Dict(x), Dict(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter().all(|(k, v)| {
                        charge_items(y.len())
                            && y.iter().any(|(k2, v2)| py_eq(k, k2) && py_eq(v, v2))
                    }))
        }
        (Set(x) | FrozenSet(x), Set(y) | FrozenSet(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .all(|e| charge_items(y.len()) && y.iter().any(|f| py_eq(e, f))))
        }
        (Global(_), _) | (PersId(_), _) | (Object(_), _) => a.strict_eq(b),
        _ => false,
    }
}

/// Charges the conversion of a big int to a number (it copies its bytes).
fn num_charge(v: &Value) -> bool {
    match v {
        Value::BigInt(b) => charge_bytes(b.0.len()),
        _ => true,
    }
}

/// `hash(v)` would succeed.
pub(crate) fn is_hashable(v: &Value) -> bool {
    crate::pickle::budget::visit();
    match v {
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) => false,
        Value::Tuple(items) => charge_items(items.len()) && items.iter().all(is_hashable),
        Value::Object(_) => false,
        _ => true,
    }
}

pub(crate) fn check_hashable(v: &Value) -> Result<(), PyErr> {
    if is_hashable(v) {
        Ok(())
    } else {
        Err(PyErr::type_err(format!(
            "unhashable type: '{}'",
            v.type_name()
        )))
    }
}

fn unorderable(a: &Value, b: &Value) -> PyErr {
    PyErr::type_err(format!(
        "'<' not supported between instances of '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}

/// Python `a < b` for the values that can appear as path elements.
pub(crate) fn py_lt(a: &Value, b: &Value) -> Result<bool, PyErr> {
    crate::pickle::budget::visit();
    use Value::*;
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return Ok(num_cmp(&x, &y) == Some(Ordering::Less));
    }
    match (a, b) {
        (Str(x), Str(y)) => Ok(x.as_bytes() < y.as_bytes()),
        (Bytes(x), Bytes(y)) => Ok(x[..] < y[..]),
        (Tuple(x), Tuple(y)) | (List(x), List(y)) => {
            if !charge_items(x.len()) {
                return Ok(false);
            }
            seq_lt(x, y)
        }
        _ => Err(unorderable(a, b)),
    }
}

/// Python's list/tuple `<`: first unequal pair decides, else the shorter is smaller.
pub(crate) fn seq_lt(x: &[Value], y: &[Value]) -> Result<bool, PyErr> {
    for (p, q) in x.iter().zip(y.iter()) {
        if !py_eq(p, q) {
            return py_lt(p, q);
        }
    }
    Ok(x.len() < y.len())
}

/// `len(v)`.
pub(crate) fn py_len(v: &Value) -> Result<usize, PyErr> {
    match v {
        Value::Str(s) => Ok(code_points(s.as_bytes()).len()),
        Value::Bytes(b) | Value::ByteArray(b) => Ok(b.len()),
        Value::Tuple(x) | Value::List(x) | Value::Set(x) | Value::FrozenSet(x) => Ok(x.len()),
        Value::Dict(d) => Ok(d.len()),
        _ => Err(PyErr::type_err(format!(
            "object of type '{}' has no len()",
            v.type_name()
        ))),
    }
}

/// `bool(v)`.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::BigInt(_) => true,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.as_bytes().is_empty(),
        Value::Bytes(b) | Value::ByteArray(b) => !b.is_empty(),
        Value::Tuple(x) | Value::List(x) | Value::Set(x) | Value::FrozenSet(x) => !x.is_empty(),
        Value::Dict(d) => !d.is_empty(),
        Value::Object(o) => !o.dict_items.is_empty() || !o.list_items.is_empty(),
        Value::Global(_) | Value::PersId(_) => true,
    }
}

/// `iter(v)` materialized: what `list(v)`, `set.union(v)`, `bytes(v)` etc. see.
pub(crate) fn py_iter(v: &Value) -> Result<Vec<Value>, PyErr> {
    match v {
        Value::Tuple(x) | Value::List(x) | Value::Set(x) | Value::FrozenSet(x) => Ok(x.to_vec()),
        Value::Dict(d) => Ok(d.iter().map(|(k, _)| k.clone()).collect()),
        Value::Str(s) => Ok(code_points(s.as_bytes())
            .iter()
            .map(|c| str_from_cps(&[*c]))
            .collect()),
        Value::Bytes(b) | Value::ByteArray(b) => {
            Ok(b.iter().map(|x| Value::Int(*x as i64)).collect())
        }
        _ => Err(PyErr::type_err(format!(
            "'{}' object is not iterable",
            v.type_name()
        ))),
    }
}

/// Index of the dict entry whose key equals `key` (after the hashability check).
pub(crate) fn dict_find(items: &[(Value, Value)], key: &Value) -> Result<Option<usize>, PyErr> {
    check_hashable(key)?;
    let found = items.iter().position(|(k, _)| py_eq(k, key));
    add_work(found.map_or(items.len(), |i| i + 1));
    Ok(found)
}

thread_local! {
    /// Linear work (dict entries scanned or shifted) done by the current apply. Dicts are
    /// insertion-ordered vectors here, so a lookup or removal costs O(len) where CPython's costs
    /// O(1); the engine refuses a delta once this passes [`WORK_BUDGET`], so a hostile commit
    /// (a million keys added to a million-key dict) cannot stall the server.
    static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Entries scanned/shifted per apply before the delta is refused (about a second of work).
pub(crate) const WORK_BUDGET: u64 = 64_000_000;

pub(crate) fn add_work(n: usize) {
    WORK.with(|w| w.set(w.get().saturating_add(n as u64)));
}

pub(crate) fn reset_work() {
    WORK.with(|w| w.set(0));
}

pub(crate) fn work_exceeded() -> bool {
    WORK.with(|w| w.get() > WORK_BUDGET)
}

/// Builds a set's items from an iterable, keeping the first of equal elements.
pub(crate) fn set_from(items: Vec<Value>) -> Result<Vec<Value>, PyErr> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    for it in items {
        check_hashable(&it)?;
        let h = py_hash(&it);
        let bucket = index.entry(h).or_default();
        if !bucket.iter().any(|&j| py_eq(&out[j], &it)) {
            bucket.push(out.len());
            out.push(it);
        }
    }
    Ok(out)
}

/// A hash consistent with [`py_eq`] (equal values hash equal; `1`, `1.0`, `True` collide), so
/// set and dict operations stay linear on large inputs.
pub(crate) fn py_hash(v: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_into(v, &mut h);
    h.finish()
}

fn hash_into(v: &Value, h: &mut impl Hasher) {
    crate::pickle::budget::visit();
    if let Some(n) = as_num(v) {
        num_charge(v);
        let int = match n {
            super::num::Num::Int(i) => Some(i),
            super::num::Num::Float(f) if f.is_finite() && f.fract() == 0.0 => {
                super::num::PyInt::from_f64_trunc(f)
            }
            super::num::Num::Float(f) => {
                f.to_bits().hash(h);
                None
            }
        };
        if let Some(i) = int {
            match i.to_i128() {
                Some(x) => x.hash(h),
                None => (i.neg, &i.mag).hash(h),
            }
        }
        return;
    }
    match v {
        Value::Str(s) => {
            charge_bytes(s.0.len());
            (1u8, s.as_bytes()).hash(h)
        }
        Value::Bytes(b) | Value::ByteArray(b) => {
            charge_bytes(b.len());
            (2u8, &b[..]).hash(h)
        }
        Value::Tuple(x) | Value::List(x) => {
            3u8.hash(h);
            if !charge_items(x.len()) {
                return;
            }
            for e in x.iter() {
                hash_into(e, h);
            }
        }
        Value::Set(x) | Value::FrozenSet(x) => {
            let mut acc: u64 = 0;
            if charge_items(x.len()) {
                for e in x.iter() {
                    acc ^= py_hash(e);
                }
            }
            (4u8, acc).hash(h)
        }
        _ => 5u8.hash(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_equality_crosses_numeric_types() {
        assert!(py_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(py_eq(&Value::Bool(true), &Value::Int(1)));
        assert!(!py_eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        assert!(!py_eq(&Value::str("1"), &Value::Int(1)));
        assert!(py_eq(
            &Value::tuple(vec![Value::Int(1)]),
            &Value::tuple(vec![Value::Float(1.0)])
        ));
        assert!(!py_eq(&Value::tuple(vec![]), &Value::list(vec![])));
    }

    #[test]
    fn ordering_refuses_mixed_types_like_python() {
        assert!(py_lt(&Value::Int(1), &Value::Float(1.5)).unwrap());
        assert!(py_lt(&Value::str("a"), &Value::Int(1)).is_err());
        assert!(py_lt(&Value::None, &Value::None).is_err());
    }
}
