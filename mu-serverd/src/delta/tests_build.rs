//! Value and delta builders shared by the Delta engine's unit tests (`tests`, `tests_quirks`,
//! `tests_undo`). They live apart from any one topic's tests so each test file imports its
//! builders from here rather than from a sibling's tests.

use super::Delta;
use crate::pickle::value::{Call, Object, Value};
use std::sync::Arc;

pub(super) fn s(x: &str) -> Value {
    Value::str(x)
}
pub(super) fn i(x: i64) -> Value {
    Value::Int(x)
}
pub(super) fn f(x: f64) -> Value {
    Value::Float(x)
}
pub(super) fn d(items: Vec<(Value, Value)>) -> Value {
    Value::dict(items)
}
pub(super) fn l(items: Vec<Value>) -> Value {
    Value::list(items)
}
pub(super) fn t(items: Vec<Value>) -> Value {
    Value::tuple(items)
}
pub(super) fn set(items: Vec<Value>) -> Value {
    Value::Set(Arc::new(items))
}
pub(super) fn ints(v: &[i64]) -> Vec<Value> {
    v.iter().map(|x| i(*x)).collect()
}
pub(super) fn new_value(v: Value) -> Value {
    d(vec![(s("new_value"), v)])
}
pub(super) fn group(name: &str, entries: Vec<(&str, Value)>) -> (Value, Value) {
    (
        s(name),
        d(entries.into_iter().map(|(p, v)| (s(p), v)).collect()),
    )
}
/// 5.7.0 on Python >= 3.10 wraps groups in `OrderedDictPlus()`.
pub(super) fn odp(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(Arc::new(Object {
        call: Call::Reduce {
            callable: Value::global("deepdiff.helper", "OrderedDictPlus"),
            args: t(vec![]),
        },
        build: vec![],
        list_items: vec![],
        dict_items: entries.into_iter().map(|(p, v)| (s(p), v)).collect(),
        set_items: vec![],
    }))
}
pub(super) fn opcode(tag: &str, a: i64, b: i64, c: i64, e: i64, new_values: Value) -> Value {
    Value::Object(Arc::new(Object {
        call: Call::NewObj {
            cls: Value::global("deepdiff.helper", "Opcode"),
            args: t(vec![
                s(tag),
                i(a),
                i(b),
                i(c),
                i(e),
                Value::None,
                new_values,
            ]),
            kwargs: None,
        },
        build: vec![],
        list_items: vec![],
        dict_items: vec![],
        set_items: vec![],
    }))
}
pub(super) fn type_change(new_type: Value, value: Option<Value>) -> Value {
    let mut e = vec![
        (s("old_type"), Value::global("builtins", "int")),
        (s("new_type"), new_type),
    ];
    if let Some(v) = value {
        e.push((s("new_value"), v));
    }
    d(e)
}
pub(super) fn apply(groups: Vec<(Value, Value)>, old: &Value) -> Result<Value, super::DeltaError> {
    Delta::from_value(&d(groups))?.apply(old).map(|(v, _)| v)
}
pub(super) fn assert_same(got: &Value, want: &Value) {
    assert!(got.strict_eq(want), "got {got:?}\nwant {want:?}");
}
