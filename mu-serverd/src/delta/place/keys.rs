//! What a path key means on a plain value, as CPython's builtins read it: an index (negative
//! from the end, `IndexError`/`TypeError` as Python words them), a dict key (unhashable keys
//! raise), an attribute name, `getattr` on numbers, and `v[key]` on every subscriptable type.

use crate::delta::error::PyErr;
use crate::delta::literal::Lit;
use crate::delta::num::{as_num, Num};
use crate::delta::pyops::{code_points, dict_find, py_eq, str_from_cps};
use crate::pickle::value::Value;

/// An index as CPython's `PyNumber_AsSsize_t` sees it: `Ok(Some(i))` for ints that fit,
/// `Ok(None)` for huge ints (IndexError "cannot fit"), `Err` for non-integers.
pub(super) fn as_index(key: &Lit, what: &str) -> Result<Option<i64>, PyErr> {
    match key {
        Lit::Val(Value::Bool(b)) => Ok(Some(*b as i64)),
        Lit::Val(Value::Int(i)) => Ok(Some(*i)),
        Lit::Val(Value::BigInt(_)) => Ok(None),
        Lit::Val(v) => Err(PyErr::type_err(format!(
            "{what} indices must be integers or slices, not {}",
            v.type_name()
        ))),
        Lit::Opaque { desc, .. } => Err(PyErr::type_err(format!(
            "{what} indices must be integers or slices, not {desc}"
        ))),
    }
}

pub(super) fn norm_index(i: Option<i64>, len: usize, what: &str) -> Result<usize, PyErr> {
    let i = i.ok_or_else(|| PyErr::index("cannot fit 'int' into an index-sized integer"))?;
    let j = if i < 0 { i + len as i64 } else { i };
    if j < 0 || j >= len as i64 {
        return Err(PyErr::index(format!("{what} index out of range")));
    }
    Ok(j as usize)
}

/// The key as a hashable dict key, or the Python error of using it as one.
pub(super) fn dict_key(key: &Lit) -> Result<&Value, PyErr> {
    match key {
        Lit::Val(v) => Ok(v),
        Lit::Opaque {
            hashable: false,
            desc,
        } => Err(PyErr::type_err(format!("unhashable type: '{desc}'"))),
        Lit::Opaque { .. } => Err(PyErr::key("key not found")),
    }
}

pub(super) fn attr_name(key: &Lit) -> Result<&Value, PyErr> {
    match key {
        Lit::Val(v @ Value::Str(_)) => Ok(v),
        _ => Err(PyErr::type_err("attribute name must be string")),
    }
}

/// `getattr(v, name)` for data values: numbers expose their parts, nothing else is modelled
/// (bound methods are treated as missing attributes).
pub(super) fn data_getattr(v: &Value, key: &Lit) -> Result<Value, PyErr> {
    let name = attr_name(key)?.as_str().unwrap_or("");
    match (as_num(v), name) {
        (Some(Num::Int(_)), "real" | "numerator") => Ok(match v {
            Value::Bool(b) => Value::Int(*b as i64),
            other => other.clone(),
        }),
        (Some(Num::Int(_)), "imag") => Ok(Value::Int(0)),
        (Some(Num::Int(_)), "denominator") => Ok(Value::Int(1)),
        (Some(Num::Float(_)), "real") => Ok(v.clone()),
        (Some(Num::Float(_)), "imag") => Ok(Value::Float(0.0)),
        _ => Err(PyErr::attr(format!(
            "'{}' object has no attribute '{name}'",
            v.type_name()
        ))),
    }
}

/// What `v[key]` finds: a position inside `v`, or a freshly built value (str/bytes items).
pub(super) enum Sub {
    Pos(usize),
    Made(Value),
}

pub(super) fn subscript(v: &Value, key: &Lit) -> Result<Sub, PyErr> {
    match v {
        Value::List(x) => Ok(Sub::Pos(norm_index(
            as_index(key, "list")?,
            x.len(),
            "list",
        )?)),
        Value::Tuple(x) => Ok(Sub::Pos(norm_index(
            as_index(key, "tuple")?,
            x.len(),
            "tuple",
        )?)),
        Value::Str(s) => {
            let cps = code_points(s.as_bytes());
            let i = norm_index(as_index(key, "string")?, cps.len(), "string")?;
            Ok(Sub::Made(str_from_cps(&cps[i..=i])))
        }
        Value::Bytes(b) | Value::ByteArray(b) => {
            let i = norm_index(as_index(key, "byte")?, b.len(), "index")?;
            Ok(Sub::Made(Value::Int(b[i] as i64)))
        }
        Value::Dict(d) => match dict_find(d, dict_key(key)?)? {
            Some(i) => Ok(Sub::Pos(i)),
            None => Err(PyErr::key("key not found")),
        },
        _ => Err(PyErr::type_err(format!(
            "'{}' object is not subscriptable",
            v.type_name()
        ))),
    }
}

/// `elem == len(obj)` in `_simple_set_elem_value`.
pub(crate) fn key_equals_len(key: &Lit, len: usize) -> bool {
    match key {
        Lit::Val(v) => py_eq(v, &Value::Int(len as i64)),
        Lit::Opaque { .. } => false,
    }
}
