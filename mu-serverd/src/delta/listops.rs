//! The list and set manipulations deepdiff performs with whole containers: the nearest-equal
//! search of `iterable_item_removed` (8.1.1), `set.union`/`set.difference`, and the opcode list
//! rebuild of `_iterable_opcodes`.

use super::error::PyErr;
use super::literal::Lit;
use super::num::PyInt;
use super::pyops::{check_hashable, py_eq, py_iter, set_from};
use super::read::{read_opcode, Op};
use crate::pickle::value::Value;
use std::cmp::Ordering;
use std::sync::Arc;

/// `abs(index - elem)` for the element kinds Python can subtract from an int.
enum Target {
    Int(i128),
    Float(f64),
    /// Beyond i128: only the direction matters for every list that fits in memory.
    Huge {
        positive: bool,
    },
}

fn dist_cmp(t: &Target, i: usize, j: usize) -> Option<Ordering> {
    // compares abs(i - elem) with abs(j - elem)
    match t {
        Target::Int(e) => Some((i as i128 - e).abs().cmp(&(j as i128 - e).abs())),
        Target::Float(f) => (i as f64 - f).abs().partial_cmp(&(j as f64 - f).abs()),
        Target::Huge { positive: true } => Some(j.cmp(&i)),
        Target::Huge { positive: false } => Some(i.cmp(&j)),
    }
}

/// `_find_closest_iterable_element_for_index(obj, elem, expected)`.
pub(super) fn closest_index(
    list: Option<&Value>,
    elem: &Lit,
    expected: &Value,
) -> Result<Option<usize>, PyErr> {
    let Some(Value::List(items)) = list else {
        return Ok(None);
    };
    if items.is_empty() {
        // `abs(index - elem)` is only evaluated inside the loop
        return Ok(None);
    }
    let target = match elem {
        Lit::Val(Value::Bool(b)) => Target::Int(*b as i128),
        Lit::Val(Value::Int(i)) => Target::Int(*i as i128),
        Lit::Val(Value::BigInt(b)) => {
            let p = PyInt::from_le_twos(&b.0);
            match p.to_i128() {
                Some(v) => Target::Int(v),
                None => Target::Huge { positive: !p.neg },
            }
        }
        Lit::Val(Value::Float(f)) => Target::Float(*f),
        Lit::Val(v) => {
            return Err(PyErr::type_err(format!(
                "unsupported operand type(s) for -: 'int' and '{}'",
                v.type_name()
            )))
        }
        Lit::Opaque { desc, .. } => {
            return Err(PyErr::type_err(format!("'>' not supported with {desc}")))
        }
    };
    let mut closest: Option<usize> = None; // None = distance infinity
    for (index, value) in items.iter().enumerate() {
        if let Some(c) = closest {
            if dist_cmp(&target, index, c) == Some(Ordering::Greater) {
                break;
            }
        } else if let Target::Float(f) = target {
            if f.is_infinite() {
                // abs(index - inf) == inf: never smaller than the initial infinity
                continue;
            }
        }
        if py_eq(value, expected) {
            let better = match closest {
                None => !matches!(target, Target::Float(f) if f.is_nan()),
                Some(c) => dist_cmp(&target, index, c) == Some(Ordering::Less),
            };
            if better {
                closest = Some(index);
            }
        }
    }
    Ok(closest)
}

/// `current.union(items)` / `current.difference(items)`.
pub(super) fn set_op(current: &Value, items: &Value, union: bool) -> Result<Value, PyErr> {
    let (base, frozen) = match current {
        Value::Set(x) => (x, false),
        Value::FrozenSet(x) => (x, true),
        other => {
            let f = if union { "union" } else { "difference" };
            return Err(PyErr::attr(format!(
                "'{}' object has no attribute '{f}'",
                other.type_name()
            )));
        }
    };
    let incoming = py_iter(items)?;
    let out = if union {
        let mut all = base.to_vec();
        all.extend(incoming);
        set_from(all)?
    } else {
        for it in &incoming {
            check_hashable(it)?;
        }
        base.iter()
            .filter(|e| !incoming.iter().any(|x| py_eq(e, x)))
            .cloned()
            .collect()
    };
    Ok(if frozen {
        Value::FrozenSet(Arc::new(out))
    } else {
        Value::Set(Arc::new(out))
    })
}

/// A slice bound: `None` or an index-like int (huge ints clamp).
fn bound(v: &Value, len: usize, default: usize) -> Result<usize, PyErr> {
    let i: i128 = match v {
        Value::None => return Ok(default),
        Value::Bool(b) => *b as i128,
        Value::Int(i) => *i as i128,
        Value::BigInt(b) => {
            if b.0.last().is_some_and(|x| x & 0x80 != 0) {
                i128::MIN / 2
            } else {
                i128::MAX / 2
            }
        }
        other => {
            return Err(PyErr::type_err(format!(
                "slice indices must be integers or None or have an __index__ method, not {}",
                other.type_name()
            )))
        }
    };
    let len = len as i128;
    let j = if i < 0 { (i + len).max(0) } else { i.min(len) };
    Ok(j as usize)
}

/// `obj[a:b]` appended to `out`, as `list.extend(obj[a:b])` does.
fn extend_slice(out: &mut Vec<Value>, obj: &Value, from: &Value, to: &Value) -> Result<(), PyErr> {
    let owned;
    let items: &[Value] = match obj {
        Value::List(x) | Value::Tuple(x) => x,
        Value::Str(_) | Value::Bytes(_) | Value::ByteArray(_) => {
            owned = py_iter(obj)?;
            &owned
        }
        Value::Dict(_) => return Err(PyErr::type_err("unhashable type: 'slice'")),
        other => {
            return Err(PyErr::type_err(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            )))
        }
    };
    let a = bound(from, items.len(), 0)?;
    let b = bound(to, items.len(), items.len())?;
    if a < b {
        out.extend_from_slice(&items[a..b]);
    }
    Ok(())
}

/// A rebuilt list longer than this is refused (a hostile delta can repeat `equal` opcodes to
/// multiply a list; deepdiff would try to build it).
pub(super) const MAX_REBUILD_ITEMS: usize = 4_000_000;

/// The list `_do_iterable_opcodes` builds from `current` and the opcodes of one path.
pub(super) fn rebuild(current: &Value, opcodes: &Value) -> Result<Vec<Value>, PyErr> {
    let mut out: Vec<Value> = Vec::new();
    for op in py_iter(opcodes)? {
        let op = read_opcode(&op).map_err(|e| PyErr::type_err(e.message))?;
        let Op::Opcode {
            tag,
            t1_from,
            t1_to,
            new_values,
        } = op
        else {
            return Err(PyErr::attr(format!(
                "'{}' object has no attribute 'tag'",
                "object"
            )));
        };
        let is = |s: &str| py_eq(&tag, &Value::str(s));
        if is("replace") || is("insert") {
            out.extend(py_iter(&new_values)?);
        } else if is("equal") {
            extend_slice(&mut out, current, &t1_from, &t1_to)?;
        }
        if out.len() > MAX_REBUILD_ITEMS {
            return Err(PyErr::new(
                super::error::PyExc::Unsupported,
                format!("opcodes rebuild more than {MAX_REBUILD_ITEMS} items"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Value {
        Value::list(v.iter().map(|i| Value::Int(*i)).collect())
    }

    #[test]
    fn nearest_equal_value_is_removed_like_8_1_1() {
        let l = ints(&[5, 1, 5, 9, 5]);
        let at =
            |i: i64| closest_index(Some(&l), &Lit::Val(Value::Int(i)), &Value::Int(5)).unwrap();
        assert_eq!(at(1), Some(0));
        assert_eq!(at(3), Some(2));
        assert_eq!(at(100), Some(4));
        assert_eq!(
            closest_index(Some(&l), &Lit::Val(Value::Int(0)), &Value::Int(7)).unwrap(),
            None
        );
        assert!(closest_index(Some(&l), &Lit::Val(Value::str("x")), &Value::Int(5)).is_err());
    }

    #[test]
    fn set_union_keeps_existing_equal_elements() {
        let s = Value::Set(Arc::new(vec![Value::Int(1)]));
        let u = set_op(
            &s,
            &Value::Set(Arc::new(vec![Value::Float(1.0), Value::Int(2)])),
            true,
        )
        .unwrap();
        assert!(u.strict_eq(&Value::Set(Arc::new(vec![Value::Int(1), Value::Int(2)]))));
        let f = Value::FrozenSet(Arc::new(vec![Value::Int(1), Value::Int(2)]));
        let d = set_op(&f, &Value::Set(Arc::new(vec![Value::Bool(true)])), false).unwrap();
        assert!(d.strict_eq(&Value::FrozenSet(Arc::new(vec![Value::Int(2)]))));
    }
}
