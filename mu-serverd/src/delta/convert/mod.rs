//! `new_type(current)`: the conversions a `type_changes` entry without `new_value` asks for.
//!
//! deepdiff omits `new_value` whenever `new_type(old) == new` held on the sender, so the receiver
//! must reproduce CPython's builtin constructors on the value it holds: `float(1)`, `int(2.7)`,
//! `int(' 1_000 ')`, `str(0.1)`, `bytes(3)`, `tuple([..])`, `set('ab')`, `dict([[1, 2]])` …
//! Type objects are only names here; nothing is ever looked up or called.

mod text;

use super::error::{PyErr, PyExc};
use super::num::PyInt;
use super::pyops::{check_hashable, code_points, dict_find, py_iter, py_len, set_from, truthy};
use super::repr::repr;
use crate::pickle::value::Value;
use std::sync::Arc;
use text::{parse_float, parse_int};

/// `bytes(n)` larger than this is refused instead of allocated (the engine also caps the total
/// per apply, see `apply::CONVERSION_BUDGET`).
pub(crate) const MAX_BYTES_CONVERSION: i128 = 1 << 20;

/// A builtin type named in a delta (`builtins.<name>` or the `<<NoneType>>` persistent id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PyType {
    Int,
    Float,
    Str,
    Bytes,
    Bool,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    NoneType,
    /// Anything else deepdiff's loader would resolve (`builtins.range`, `decimal.Decimal`, …)
    /// or what an unknown persistent id loads as (`None`): kept by name.
    Other(String),
}

impl PyType {
    /// Interprets a `type_changes` `new_type`/`old_type` value.
    pub(crate) fn from_value(v: &Value) -> PyType {
        match v {
            Value::Global(g) => {
                let (m, n) = (g.0.as_str().unwrap_or(""), g.1.as_str().unwrap_or(""));
                if m != "builtins" {
                    return PyType::Other(format!("{m}.{n}"));
                }
                match n {
                    "int" => PyType::Int,
                    "float" => PyType::Float,
                    "str" => PyType::Str,
                    "bytes" => PyType::Bytes,
                    "bool" => PyType::Bool,
                    "list" => PyType::List,
                    "tuple" => PyType::Tuple,
                    "dict" => PyType::Dict,
                    "set" => PyType::Set,
                    "frozenset" => PyType::FrozenSet,
                    other => PyType::Other(format!("builtins.{other}")),
                }
            }
            Value::PersId(p) if p.as_str() == Some("<<NoneType>>") => PyType::NoneType,
            other => PyType::Other(format!("<{}>", other.type_name())),
        }
    }
}

/// `ty(v)` with CPython's rules.
pub(crate) fn convert(ty: &PyType, v: &Value) -> Result<Value, PyErr> {
    match ty {
        PyType::Int => to_int(v),
        PyType::Float => to_float(v),
        PyType::Str => to_str(v),
        PyType::Bytes => to_bytes(v),
        PyType::Bool => Ok(Value::Bool(truthy(v))),
        PyType::List => Ok(Value::list(py_iter(v)?)),
        PyType::Tuple => match v {
            Value::Tuple(_) => Ok(v.clone()),
            _ => Ok(Value::tuple(py_iter(v)?)),
        },
        PyType::Set => Ok(Value::Set(Arc::new(set_from(py_iter(v)?)?))),
        PyType::FrozenSet => match v {
            Value::FrozenSet(_) => Ok(v.clone()),
            _ => Ok(Value::FrozenSet(Arc::new(set_from(py_iter(v)?)?))),
        },
        PyType::Dict => to_dict(v),
        PyType::NoneType => Err(PyErr::type_err("NoneType takes no arguments")),
        PyType::Other(name) if name.starts_with('<') => Err(PyErr::type_err(format!(
            "'{}' object is not callable",
            &name[1..name.len() - 1]
        ))),
        PyType::Other(name) => Err(PyErr::new(
            PyExc::Unsupported,
            format!("conversion to {name} is not supported"),
        )),
    }
}

fn to_int(v: &Value) -> Result<Value, PyErr> {
    match v {
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Int(_) | Value::BigInt(_) => Ok(v.clone()),
        Value::Float(f) => {
            if f.is_nan() {
                return Err(PyErr::value("cannot convert float NaN to integer"));
            }
            PyInt::from_f64_trunc(*f)
                .map(|i| i.to_value())
                .ok_or_else(|| {
                    PyErr::new(
                        PyExc::OverflowError,
                        "cannot convert float infinity to integer",
                    )
                })
        }
        Value::Str(s) => parse_int(&code_points(s.as_bytes()), true),
        Value::Bytes(b) | Value::ByteArray(b) => {
            parse_int(&b.iter().map(|c| *c as u32).collect::<Vec<_>>(), false)
        }
        _ => Err(PyErr::type_err(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            v.type_name()
        ))),
    }
}

fn to_float(v: &Value) -> Result<Value, PyErr> {
    match v {
        Value::Bool(b) => Ok(Value::Float(*b as i64 as f64)),
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::BigInt(b) => PyInt::from_le_twos(&b.0)
            .to_f64()
            .map(Value::Float)
            .ok_or_else(|| PyErr::new(PyExc::OverflowError, "int too large to convert to float")),
        Value::Float(_) => Ok(v.clone()),
        Value::Str(s) => parse_float(&code_points(s.as_bytes()), true),
        Value::Bytes(b) | Value::ByteArray(b) => {
            parse_float(&b.iter().map(|c| *c as u32).collect::<Vec<_>>(), false)
        }
        _ => Err(PyErr::type_err(format!(
            "float() argument must be a string or a real number, not '{}'",
            v.type_name()
        ))),
    }
}

fn to_str(v: &Value) -> Result<Value, PyErr> {
    if let Value::Str(_) = v {
        return Ok(v.clone());
    }
    // CPython raises (an int over 4,300 digits) before anything too long is built.
    if let Some(e) = super::repr::str_raises(v) {
        return Err(e);
    }
    let mut s = String::new();
    repr(v, &mut s).map_err(|e| e.into_py("str()"))?;
    Ok(Value::str(&s))
}

fn byte_of(v: &Value) -> Result<u8, PyErr> {
    let range = || PyErr::value("bytes must be in range(0, 256)");
    match v {
        Value::Bool(b) => Ok(*b as u8),
        Value::Int(i) => u8::try_from(*i).map_err(|_| range()),
        Value::BigInt(_) => Err(range()),
        _ => Err(PyErr::type_err(format!(
            "'{}' object cannot be interpreted as an integer",
            v.type_name()
        ))),
    }
}

fn to_bytes(v: &Value) -> Result<Value, PyErr> {
    match v {
        Value::Bytes(_) => Ok(v.clone()),
        Value::ByteArray(b) => Ok(Value::Bytes(b.clone())),
        // CPython: the count must fit `Py_ssize_t`.
        Value::BigInt(_) => Err(PyErr::new(
            PyExc::OverflowError,
            "cannot fit 'int' into an index-sized integer",
        )),
        Value::Bool(_) | Value::Int(_) => {
            let n = super::num::as_num(v).and_then(|n| match n {
                super::num::Num::Int(i) => i.to_i128(),
                super::num::Num::Float(_) => None,
            });
            match n {
                Some(n) if n < 0 => Err(PyErr::value("negative count")),
                Some(n) if n <= MAX_BYTES_CONVERSION => {
                    Ok(Value::Bytes(Arc::from(vec![0u8; n as usize])))
                }
                _ => Err(PyErr::new(
                    PyExc::Unsupported,
                    "bytes(n) with a huge n is not supported",
                )),
            }
        }
        Value::Str(_) => Err(PyErr::type_err("string argument without an encoding")),
        Value::List(_) | Value::Tuple(_) | Value::Set(_) | Value::FrozenSet(_) | Value::Dict(_) => {
            let items = py_iter(v)?;
            let bytes: Result<Vec<u8>, PyErr> = items.iter().map(byte_of).collect();
            Ok(Value::Bytes(Arc::from(bytes?)))
        }
        _ => Err(PyErr::type_err(format!(
            "cannot convert '{}' object to bytes",
            v.type_name()
        ))),
    }
}

fn to_dict(v: &Value) -> Result<Value, PyErr> {
    if let Value::Dict(_) = v {
        return Ok(v.clone());
    }
    let items = py_iter(v)
        .map_err(|_| PyErr::type_err(format!("'{}' object is not iterable", v.type_name())))?;
    let mut out: Vec<(Value, Value)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let pair = py_iter(it).map_err(|_| {
            PyErr::type_err(format!(
                "cannot convert dictionary update sequence element #{i} to a sequence"
            ))
        })?;
        if pair.len() != 2 {
            return Err(PyErr::value(format!(
                "dictionary update sequence element #{i} has length {}; 2 is required",
                py_len(it).unwrap_or(pair.len())
            )));
        }
        let (k, val) = (pair[0].clone(), pair[1].clone());
        check_hashable(&k)?;
        match dict_find(&out, &k)? {
            Some(idx) => out[idx].1 = val,
            None => out.push((k, val)),
        }
    }
    Ok(Value::dict(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &Value) -> String {
        format!("{v:?}")
    }

    #[test]
    fn int_and_float_parse_strings_like_cpython() {
        assert!(convert(&PyType::Int, &Value::str(" 1_000 "))
            .unwrap()
            .strict_eq(&Value::Int(1000)));
        assert!(convert(&PyType::Int, &Value::str("1__0")).is_err());
        assert!(convert(&PyType::Int, &Value::Float(-2.7))
            .unwrap()
            .strict_eq(&Value::Int(-2)));
        assert!(convert(&PyType::Float, &Value::str("1.5"))
            .unwrap()
            .strict_eq(&Value::Float(1.5)));
        assert!(convert(&PyType::Float, &Value::str("-Infinity"))
            .unwrap()
            .strict_eq(&Value::Float(f64::NEG_INFINITY)));
        assert!(convert(&PyType::Float, &Value::str("1_0.5e1_0"))
            .unwrap()
            .strict_eq(&Value::Float(10.5e10)));
        assert!(convert(&PyType::Float, &Value::str(".")).is_err());
        assert!(convert(&PyType::Int, &Value::bytes(b"12"))
            .unwrap()
            .strict_eq(&Value::Int(12)));
    }

    #[test]
    fn str_of_values_is_python_repr() {
        let v = convert(
            &PyType::Str,
            &Value::list(vec![Value::Int(1), Value::Float(1e16), Value::None]),
        )
        .unwrap();
        assert_eq!(s(&v), s(&Value::str("[1, 1e+16, None]")));
        let v = convert(&PyType::Str, &Value::bytes(b"x")).unwrap();
        assert_eq!(s(&v), s(&Value::str("b'x'")));
    }

    #[test]
    fn containers_convert_like_cpython() {
        let v = convert(
            &PyType::Bytes,
            &Value::list(vec![Value::Int(97), Value::Int(98)]),
        )
        .unwrap();
        assert!(v.strict_eq(&Value::bytes(b"ab")));
        let v = convert(
            &PyType::Dict,
            &Value::list(vec![Value::list(vec![Value::Int(1), Value::Int(2)])]),
        )
        .unwrap();
        assert!(v.strict_eq(&Value::dict(vec![(Value::Int(1), Value::Int(2))])));
        assert!(convert(&PyType::NoneType, &Value::Int(1)).is_err());
        assert!(convert(&PyType::Bytes, &Value::Int(3))
            .unwrap()
            .strict_eq(&Value::bytes(&[0, 0, 0])));
    }
}
