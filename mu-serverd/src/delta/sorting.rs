//! The order in which deepdiff applies `iterable_item_added/removed`, `dictionary_item_removed`
//! and attribute entries: `sorted(items, key=path elements)`, and in 8.1.1, when that raises
//! `TypeError` (mixed key types), `cmp_to_key(_sort_comparison)`, whose own fallback raises
//! for two same-typed incomparable elements (`type(x) in None`). 5.7.0 has no fallback.

use super::error::PyErr;
use super::literal::Lit;
use super::path::{Dialect, Elem};
use super::pyops::{py_eq, py_lt};
use super::read::Entry;
use super::sort::py_sort;
use crate::pickle::value::Value;

fn lit_eq(a: &Lit, b: &Lit) -> bool {
    match (a, b) {
        (Lit::Val(x), Lit::Val(y)) => py_eq(x, y),
        _ => false,
    }
}

fn lit_lt(a: &Lit, b: &Lit) -> Result<bool, PyErr> {
    match (a, b) {
        (Lit::Val(x), Lit::Val(y)) => py_lt(x, y),
        _ => Err(PyErr::type_err("'<' not supported")),
    }
}

/// Python list `<` over path element values.
fn keys_lt(a: &[Elem], b: &[Elem]) -> Result<bool, PyErr> {
    for (x, y) in a.iter().zip(b) {
        if !lit_eq(&x.key, &y.key) {
            return lit_lt(&x.key, &y.key);
        }
    }
    Ok(a.len() < b.len())
}

fn type_of(l: &Lit) -> &'static str {
    match l {
        Lit::Val(v) => v.type_name(),
        Lit::Opaque { desc, .. } => desc,
    }
}

fn str_of(l: &Lit) -> String {
    match l {
        Lit::Val(Value::Str(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        Lit::Val(v) => super::repr::repr_lossy(v),
        Lit::Opaque { desc, .. } => desc.to_string(),
    }
}

/// `Delta._sort_comparison` (paths without the root element); returns -1, 0 or 1.
fn sort_comparison(l: &[Elem], r: &[Elem]) -> Result<i32, PyErr> {
    let direct = keys_lt(l, r).and_then(|lt| {
        if lt {
            Ok(-1)
        } else {
            keys_lt(r, l).map(|gt| if gt { 1 } else { 0 })
        }
    });
    if let Ok(c) = direct {
        return Ok(c);
    }
    for (a, b) in l.iter().zip(r) {
        if type_of(&a.key) == type_of(&b.key) {
            return Err(PyErr::type_err(
                "argument of type 'NoneType' is not iterable",
            ));
        }
        let (sa, sb) = (str_of(&a.key), str_of(&b.key));
        if sa < sb {
            return Ok(-1);
        }
        if sa > sb {
            return Ok(1);
        }
    }
    Ok(0)
}

/// The entries in deepdiff's application order.
pub(super) fn sorted_entries(
    entries: &[Entry],
    reverse: bool,
    dialect: Dialect,
) -> Result<Vec<&Entry>, PyErr> {
    let mut order: Vec<&Entry> = entries.iter().collect();
    let mut key_failed = None;
    for e in entries {
        if let Err(err) = &e.elems {
            if err.exc != super::error::PyExc::TypeError {
                return Err(err.clone());
            }
            key_failed = Some(err.clone());
        }
    }
    let first = match key_failed {
        Some(e) => Err(e),
        None => py_sort(&mut order, reverse, |a, b| match (&a.elems, &b.elems) {
            (Ok(x), Ok(y)) => keys_lt(x, y),
            _ => Err(PyErr::type_err("unparsable path")),
        }),
    };
    match first {
        Ok(()) => Ok(order),
        Err(e) if dialect == Dialect::V5_7_0 => Err(e),
        Err(_) => {
            let mut order: Vec<&Entry> = entries.iter().collect();
            py_sort(&mut order, reverse, |a, b| match (&a.elems, &b.elems) {
                (Ok(x), Ok(y)) => Ok(sort_comparison(&x[1..], &y[1..])? < 0),
                (Err(e), _) | (_, Err(e)) => Err(e.clone()),
            })?;
            Ok(order)
        }
    }
}
