//! Reading a decoded Delta pickle (a dict of groups) into parsed groups, in either dialect.
//!
//! 8.1.1 pickles plain dicts and `deepdiff.helper.Opcode` objects; 5.7.0 on Python ≥ 3.10 wraps
//! every group and every `type_changes` entry in `deepdiff.helper.OrderedDictPlus` (an
//! `OrderedDict`, built by `REDUCE` and filled by `SETITEM(S)`), which selects 5.7.0's rules.
//! Paths are parsed once here (deepdiff caches them too); anything deepdiff would only trip over
//! while applying is kept as is and raises at apply time, in deepdiff's order.

use super::error::{DeltaError, PyErr};
use super::path::{parse, Dialect, Elem};
use crate::pickle::value::{Call, Value};

/// One `path: value` entry of a group, with the path already parsed.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub path: Value,
    pub elems: Result<Vec<Elem>, PyErr>,
    pub value: Value,
}

/// A group as found in the delta dict.
#[derive(Clone, Debug)]
pub(super) enum Group {
    Absent,
    /// A dict (or `OrderedDictPlus`) of entries, in pickle order.
    Entries(Vec<Entry>),
    /// Something else: deepdiff calls `.items()` on it and raises if it is truthy.
    Other(Value),
}

/// The items of a dict or of an `OrderedDictPlus`/`OrderedDict` object.
pub(super) fn dict_items(v: &Value) -> Option<Vec<(Value, Value)>> {
    match v {
        Value::Dict(d) => Some(d.to_vec()),
        Value::Object(o) if is_ordered_dict(v) => Some(o.dict_items.clone()),
        _ => None,
    }
}

fn global_is(v: &Value, module: &str, name: &str) -> bool {
    matches!(v, Value::Global(g) if g.0.as_bytes() == module.as_bytes() && g.1.as_bytes() == name.as_bytes())
}

/// `deepdiff.helper.OrderedDictPlus()` / `collections.OrderedDict()` built by `REDUCE`.
pub(super) fn is_ordered_dict(v: &Value) -> bool {
    match v {
        Value::Object(o) => match &o.call {
            Call::Reduce { callable, .. } => {
                global_is(callable, "deepdiff.helper", "OrderedDictPlus")
                    || global_is(callable, "collections", "OrderedDict")
            }
            _ => false,
        },
        _ => false,
    }
}

fn is_odp(v: &Value) -> bool {
    matches!(v, Value::Object(o) if matches!(&o.call, Call::Reduce { callable, .. } if global_is(callable, "deepdiff.helper", "OrderedDictPlus")))
}

/// Which dialect a decoded delta is in.
pub(super) fn detect_dialect(top: &[(Value, Value)]) -> Dialect {
    if top.iter().any(|(_, v)| is_odp(v)) {
        Dialect::V5_7_0
    } else {
        Dialect::V8_1_1
    }
}

pub(super) fn read_group(top: &[(Value, Value)], name: &str, dialect: Dialect) -> Group {
    let Some((_, v)) = top.iter().find(|(k, _)| k.as_str() == Some(name)) else {
        return Group::Absent;
    };
    match dict_items(v) {
        Some(items) => Group::Entries(
            items
                .into_iter()
                .map(|(path, value)| Entry {
                    elems: parse(&path, dialect),
                    path,
                    value,
                })
                .collect(),
        ),
        None => Group::Other(v.clone()),
    }
}

/// An `Opcode` of `_iterable_opcodes`, or what stood in its place.
#[derive(Clone, Debug)]
pub(super) enum Op {
    Opcode {
        tag: Value,
        t1_from: Value,
        t1_to: Value,
        new_values: Value,
    },
    /// Not an Opcode: `opcode.tag` raises AttributeError when reached.
    NotOpcode,
}

pub(super) fn read_opcode(v: &Value) -> Result<Op, DeltaError> {
    let Value::Object(o) = v else {
        return Ok(Op::NotOpcode);
    };
    let Call::NewObj { cls, args, .. } = &o.call else {
        return Ok(Op::NotOpcode);
    };
    if !global_is(cls, "deepdiff.helper", "Opcode") {
        return Ok(Op::NotOpcode);
    }
    let Value::Tuple(a) = args else {
        return Err(DeltaError::format("Opcode arguments are not a tuple"));
    };
    if a.len() < 5 || a.len() > 7 {
        return Err(DeltaError::format(format!(
            "Opcode takes 5 to 7 fields, got {}",
            a.len()
        )));
    }
    Ok(Op::Opcode {
        tag: a[0].clone(),
        t1_from: a[1].clone(),
        t1_to: a[2].clone(),
        new_values: a.get(6).cloned().unwrap_or(Value::None),
    })
}

/// True when the value holds a `deepdiff.helper.Opcode` anywhere (5.7.0 cannot load those).
pub(super) fn contains_opcode(v: &Value) -> bool {
    match v {
        Value::Object(o) => {
            matches!(&o.call, Call::NewObj { cls, .. } if global_is(cls, "deepdiff.helper", "Opcode"))
                || o.dict_items
                    .iter()
                    .any(|(k, x)| contains_opcode(k) || contains_opcode(x))
                || o.list_items.iter().any(contains_opcode)
        }
        Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => {
            x.iter().any(contains_opcode)
        }
        Value::Dict(d) => d
            .iter()
            .any(|(k, x)| contains_opcode(k) || contains_opcode(x)),
        _ => false,
    }
}
