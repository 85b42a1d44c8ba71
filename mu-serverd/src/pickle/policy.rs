//! What may travel through the server. `plain`: the data types a Python peer can load without
//! importing or calling anything (node data, dependencies, command data). `delta`: additionally
//! the few names deepdiff itself writes into a `Delta.dumps()` pickle (see
//! `shared/notes/deepdiff-delta.md` §1.4). Both also refuse what CPython cannot load at all: an
//! unhashable dict key or set item would raise `TypeError` inside every client.
//!
//! `bytearray` is refused by both: CPython pickles it as a call of `builtins.bytearray`, and
//! deepdiff's restricted loader forbids that name, so a Python peer could not load a Delta that
//! touches one. Blender data never contains it.

use super::error::PolicyError;
use super::value::{Call, Object, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// The `builtins` type names deepdiff writes as `old_type`/`new_type` of `type_changes`.
pub(crate) const DELTA_BUILTINS: [&str; 10] = [
    "int",
    "float",
    "str",
    "bytes",
    "bool",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Delta,
}

/// Only plain data: None, bool, int, float, str, bytes, tuple, list, dict, set, frozenset.
pub fn check_plain(v: &Value) -> Result<(), PolicyError> {
    walk(v, Mode::Plain)
}

/// Plain data plus deepdiff's own vocabulary: `builtins.{int,float,str,bytes,bool,list,tuple,
/// dict,set,frozenset}` globals, the persistent id `'<<NoneType>>'`, `deepdiff.helper.Opcode`
/// built with `NEWOBJ` from a 7-tuple, and `deepdiff.helper.OrderedDictPlus` built with
/// `REDUCE` of `()` and filled with `SETITEM(S)`.
pub fn check_delta(v: &Value) -> Result<(), PolicyError> {
    walk(v, Mode::Delta)
}

fn refuse<T>(what: String) -> Result<T, PolicyError> {
    Err(PolicyError { refused: what })
}

fn lossy(s: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(s)
}

fn global_is(v: &Value, module: &str, name: &str) -> bool {
    matches!(v, Value::Global(g) if g.0.as_bytes() == module.as_bytes() && g.1.as_bytes() == name.as_bytes())
}

/// Names a value for a refusal message.
fn describe(v: &Value) -> String {
    match v {
        Value::Global(g) => format!("global {}.{}", lossy(g.0.as_bytes()), lossy(g.1.as_bytes())),
        Value::PersId(p) => match &**p {
            Value::Str(s) => format!("persistent id {:?}", lossy(s.as_bytes())),
            other => format!("persistent id of a {}", other.type_name()),
        },
        Value::Object(o) => {
            let (what, callee) = match &o.call {
                Call::Reduce { callable, .. } => ("call", callable),
                Call::NewObj { cls, .. } => ("instance", cls),
                Call::Inst { cls, .. } => ("instance", cls),
            };
            format!("{what} of {}", describe(callee))
        }
        other => other.type_name().to_string(),
    }
}

/// Is this deepdiff object allowed, and which parts must be checked further?
fn delta_object<'a>(o: &'a Object, out: &mut Vec<(&'a Value, bool)>) -> bool {
    match &o.call {
        Call::NewObj {
            cls,
            args,
            kwargs: None,
        } if global_is(cls, "deepdiff.helper", "Opcode") => {
            let ok = matches!(args, Value::Tuple(t) if t.len() == 7)
                && o.build.is_empty()
                && o.list_items.is_empty()
                && o.dict_items.is_empty()
                && o.set_items.is_empty();
            if ok {
                out.push((args, false));
            }
            ok
        }
        Call::Reduce { callable, args }
            if global_is(callable, "deepdiff.helper", "OrderedDictPlus") =>
        {
            let ok = matches!(args, Value::Tuple(t) if t.is_empty())
                && o.build.is_empty()
                && o.list_items.is_empty()
                && o.set_items.is_empty();
            if ok {
                for (k, v) in &o.dict_items {
                    out.push((k, true));
                    out.push((v, false));
                }
            }
            ok
        }
        _ => false,
    }
}

/// Iterative walk; `bool` = the value must be hashable (a dict key, set or frozenset item, or
/// inside a tuple that must be). Containers shared through one `Arc` are visited once per
/// context, so aliasing cannot make the walk exponential.
fn walk(root: &Value, mode: Mode) -> Result<(), PolicyError> {
    let mut work: Vec<(&Value, bool)> = vec![(root, false)];
    let mut seen: HashSet<(usize, bool)> = HashSet::new();
    while let Some((v, need_hash)) = work.pop() {
        super::budget::visit();
        let unhashable = |v: &Value| {
            refuse(format!(
                "unhashable {} as a dict key or set item",
                v.type_name()
            ))
        };
        let first_visit = |seen: &mut HashSet<(usize, bool)>, ptr: usize, count: usize| {
            count <= 1 || seen.insert((ptr, need_hash))
        };
        match v {
            Value::None | Value::Bool(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_) => {}
            Value::Str(_) | Value::Bytes(_) => {}
            Value::ByteArray(_) => return refuse("bytearray".to_string()),
            Value::Tuple(t) => {
                if first_visit(&mut seen, Arc::as_ptr(t) as usize, Arc::strong_count(t)) {
                    work.extend(t.iter().map(|x| (x, need_hash)));
                }
            }
            Value::FrozenSet(s) => {
                if first_visit(&mut seen, Arc::as_ptr(s) as usize, Arc::strong_count(s)) {
                    work.extend(s.iter().map(|x| (x, true)));
                }
            }
            Value::List(l) => {
                if need_hash {
                    return unhashable(v);
                }
                if first_visit(&mut seen, Arc::as_ptr(l) as usize, Arc::strong_count(l)) {
                    work.extend(l.iter().map(|x| (x, false)));
                }
            }
            Value::Set(s) => {
                if need_hash {
                    return unhashable(v);
                }
                if first_visit(&mut seen, Arc::as_ptr(s) as usize, Arc::strong_count(s)) {
                    work.extend(s.iter().map(|x| (x, true)));
                }
            }
            Value::Dict(d) => {
                if need_hash {
                    return unhashable(v);
                }
                if first_visit(&mut seen, Arc::as_ptr(d) as usize, Arc::strong_count(d)) {
                    for (k, x) in d.iter() {
                        work.push((k, true));
                        work.push((x, false));
                    }
                }
            }
            Value::Global(g) => {
                let allowed = mode == Mode::Delta
                    && g.0.as_bytes() == b"builtins"
                    && DELTA_BUILTINS
                        .iter()
                        .any(|n| n.as_bytes() == g.1.as_bytes());
                if !allowed {
                    return refuse(describe(v));
                }
            }
            Value::PersId(p) => {
                let allowed = mode == Mode::Delta
                    && matches!(&**p, Value::Str(s) if s.as_bytes() == b"<<NoneType>>");
                if !allowed {
                    return refuse(describe(v));
                }
            }
            Value::Object(o) => {
                if mode == Mode::Plain || need_hash || !delta_object(o, &mut work) {
                    return refuse(describe(v));
                }
            }
        }
    }
    Ok(())
}
