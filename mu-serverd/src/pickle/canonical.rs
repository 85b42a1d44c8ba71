//! Protocols 0-3 cannot write bytes, bytearray, set or frozenset directly, so CPython writes a
//! call that rebuilds them (`_codecs.encode(s, 'latin1')`, `builtins.set([...])`, ...). The
//! decoder keeps those calls inert like any other; this module recognises exactly these
//! builtin reductions and rewrites them into the plain values they denote, for differential
//! tests and tools. The policy never sees through calls: the server refuses such pickles.

use super::value::{Call, Value};
use std::sync::Arc;

fn global_name(v: &Value) -> Option<(&[u8], &[u8])> {
    match v {
        Value::Global(g) => Some((g.0.as_bytes(), g.1.as_bytes())),
        _ => None,
    }
}

fn builtin(v: &Value, name: &str) -> bool {
    matches!(global_name(v), Some((m, n)) if (m == b"builtins" || m == b"__builtin__") && n == name.as_bytes())
}

/// Latin-1 encoding of a `str` whose code points are all below 256.
fn latin1(s: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(s).ok()?;
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

fn rewrite_one(v: &Value) -> Option<Value> {
    let Value::Object(o) = v else { return None };
    if !(o.build.is_empty()
        && o.list_items.is_empty()
        && o.dict_items.is_empty()
        && o.set_items.is_empty())
    {
        return None;
    }
    let Call::Reduce { callable, args } = &o.call else {
        return None;
    };
    let Value::Tuple(args) = args else {
        return None;
    };
    let args = args.as_slice();
    let (m, n) = global_name(callable)?;
    if m == b"_codecs" && n == b"encode" {
        if let [Value::Str(s), Value::Str(enc)] = args {
            if enc.as_bytes() == b"latin1" || enc.as_bytes() == b"latin-1" {
                return Some(Value::Bytes(Arc::from(latin1(s.as_bytes())?)));
            }
        }
        return None;
    }
    if builtin(callable, "bytes") && args.is_empty() {
        return Some(Value::Bytes(Arc::from(&b""[..])));
    }
    if builtin(callable, "bytearray") {
        return match args {
            [] => Some(Value::ByteArray(Arc::from(&b""[..]))),
            [Value::Bytes(b)] => Some(Value::ByteArray(b.clone())),
            [Value::Str(s), Value::Str(enc)]
                if enc.as_bytes() == b"latin-1" || enc.as_bytes() == b"latin1" =>
            {
                Some(Value::ByteArray(Arc::from(latin1(s.as_bytes())?)))
            }
            _ => None,
        };
    }
    for (name, make) in [
        ("set", Value::Set as fn(_) -> Value),
        ("frozenset", Value::FrozenSet),
    ] {
        if builtin(callable, name) {
            return match args {
                [] => Some(make(Arc::new(Vec::new()))),
                // The decoder's shared stand-in for empty lists must not make two sets one.
                [Value::List(items)] if super::value::is_distinct_empty_list(items) => {
                    Some(make(Arc::new(Vec::new())))
                }
                [Value::List(items)] => Some(make(items.clone())),
                _ => None,
            };
        }
    }
    None
}

/// Rewrites every recognised builtin reduction inside `v`, bottom-up. Values shared through
/// one `Arc` are rewritten once and stay shared.
pub fn builtin_reductions(v: &Value) -> Value {
    let mut memo = std::collections::HashMap::new();
    rewrite(v, &mut memo, 0)
}

fn rewrite(v: &Value, memo: &mut std::collections::HashMap<usize, Value>, depth: u32) -> Value {
    // Recursive: decoded values are at most `Limits::max_depth` (default 256) deep; anything
    // deeper than 1000 is returned unchanged rather than risk the stack.
    if depth > 1_000 {
        return v.clone();
    }
    if let Value::List(a) = v {
        if super::value::is_distinct_empty_list(a) {
            // Not one object: caching it would alias every empty list of the value.
            return v.clone();
        }
    }
    let key = match v {
        Value::Tuple(a) | Value::List(a) | Value::Set(a) | Value::FrozenSet(a) => {
            Some(Arc::as_ptr(a) as usize)
        }
        Value::Dict(a) => Some(Arc::as_ptr(a) as usize),
        Value::Object(a) => Some(Arc::as_ptr(a) as usize),
        _ => None,
    };
    if let Some(k) = key {
        if let Some(done) = memo.get(&k) {
            return done.clone();
        }
    }
    let seq = |items: &[Value], memo: &mut _| -> Vec<Value> {
        items.iter().map(|x| rewrite(x, memo, depth + 1)).collect()
    };
    let out = match v {
        Value::Tuple(a) => Value::Tuple(Arc::new(seq(a, memo))),
        Value::List(a) => Value::List(Arc::new(seq(a, memo))),
        Value::Set(a) => Value::Set(Arc::new(seq(a, memo))),
        Value::FrozenSet(a) => Value::FrozenSet(Arc::new(seq(a, memo))),
        Value::Dict(a) => Value::Dict(Arc::new(
            a.iter()
                .map(|(k, x)| (rewrite(k, memo, depth + 1), rewrite(x, memo, depth + 1)))
                .collect(),
        )),
        Value::Object(o) => {
            let call = match &o.call {
                Call::Reduce { callable, args } => Call::Reduce {
                    callable: rewrite(callable, memo, depth + 1),
                    args: rewrite(args, memo, depth + 1),
                },
                other => other.clone(),
            };
            let o2 = Value::Object(Arc::new(super::value::Object {
                call,
                build: seq(&o.build, memo),
                list_items: seq(&o.list_items, memo),
                dict_items: o
                    .dict_items
                    .iter()
                    .map(|(k, x)| (rewrite(k, memo, depth + 1), rewrite(x, memo, depth + 1)))
                    .collect(),
                set_items: seq(&o.set_items, memo),
            }));
            rewrite_one(&o2).unwrap_or(o2)
        }
        other => other.clone(),
    };
    if let Some(k) = key {
        memo.insert(k, out.clone());
    }
    out
}
