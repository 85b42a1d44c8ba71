//! No panic on hostile deltas: random (old, delta) pairs with paths into nothing, wrong types,
//! huge and negative indexes, opcodes with bad ranges, mixed-type paths, non-dict groups and
//! entries, both dialects. `apply` may return `Ok` or `Err`; it must return. Bounded case count;
//! the `delta_apply` fuzz target explores the same space for longer runs. Applied in place, a
//! hostile delta must give what the copying apply gives, and leave the value exactly as it was
//! (type-exactly, as encoded bytes, and for another holder of it) wherever it fails.

use mu_serverd::delta::Delta;
use mu_serverd::pickle::{encode, Call, Object, Value};
use proptest::prelude::*;
use std::sync::Arc;

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![-3i64..12, Just(i64::MAX), Just(i64::MIN)].prop_map(Value::Int),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1.5),
            Just(f64::NAN),
            Just(f64::INFINITY)
        ]
        .prop_map(Value::Float),
        "[a-c'\"\\\\ 0-9\\[\\]._]{0,6}".prop_map(|s| Value::str(&s)),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(|b| Value::bytes(&b)),
        Just(Value::BigInt(mu_serverd::pickle::BigInt(Arc::from(vec![
            0u8, 0, 0, 0, 0, 0, 0, 0, 1
        ])))),
    ]
}

fn data() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::list),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::tuple),
            prop::collection::vec((scalar(), inner.clone()), 0..4).prop_map(Value::dict),
            prop::collection::vec(scalar(), 0..3).prop_map(|v| Value::Set(Arc::new(v))),
            prop::collection::vec(scalar(), 0..3).prop_map(|v| Value::FrozenSet(Arc::new(v))),
        ]
    })
}

/// Paths: mostly well formed (`root['a'][1]`), some garbage, some non-strings.
fn path() -> impl Strategy<Value = Value> {
    let elem = prop_oneof![
        "[a-c]{1,2}".prop_map(|s| format!("['{s}']")),
        prop_oneof![-3i64..5, Just(1i64 << 40)].prop_map(|i| format!("[{i}]")),
        Just("[None]".to_string()),
        Just("[True]".to_string()),
        Just("[1.5]".to_string()),
        Just("[99999999999999999999999]".to_string()),
        Just(".real".to_string()),
        Just("['__x']".to_string()),
        "[\\[\\]'\"\\\\.a0 ]{0,5}".prop_map(|s| s),
    ];
    prop_oneof![
        8 => prop::collection::vec(elem, 0..4).prop_map(|v| Value::str(&format!("root{}", v.concat()))),
        1 => Just(Value::None),
        1 => Just(Value::Int(3)),
        1 => Just(Value::bytes(b"ro")),
    ]
}

fn global(name: &'static str) -> Value {
    Value::global("builtins", name)
}

fn object(call: Call, dict_items: Vec<(Value, Value)>) -> Value {
    Value::Object(Arc::new(Object {
        call,
        build: vec![],
        list_items: vec![],
        dict_items,
        set_items: vec![],
    }))
}

fn opcode() -> impl Strategy<Value = Value> {
    let idx = prop_oneof![
        Just(Value::None),
        (-3i64..20).prop_map(Value::Int),
        Just(Value::Float(1.0)),
        Just(Value::str("x"))
    ];
    (
        prop_oneof![
            Just("equal"),
            Just("replace"),
            Just("insert"),
            Just("delete"),
            Just("bogus")
        ],
        idx.clone(),
        idx,
        prop_oneof![Just(Value::None), data()],
    )
        .prop_map(|(tag, a, b, nv)| {
            object(
                Call::NewObj {
                    cls: Value::global("deepdiff.helper", "Opcode"),
                    args: Value::tuple(vec![
                        Value::str(tag),
                        a,
                        b,
                        Value::Int(0),
                        Value::Int(0),
                        Value::None,
                        nv,
                    ]),
                    kwargs: None,
                },
                vec![],
            )
        })
}

fn entry_value() -> impl Strategy<Value = Value> {
    let ty = prop_oneof![
        Just(global("int")),
        Just(global("float")),
        Just(global("str")),
        Just(global("bytes")),
        Just(global("tuple")),
        Just(global("dict")),
        Just(global("set")),
        Just(global("range")),
        Just(Value::PersId(Arc::new(Value::str("<<NoneType>>")))),
    ];
    prop_oneof![
        data().prop_map(|v| Value::dict(vec![(Value::str("new_value"), v)])),
        ty.clone()
            .prop_map(|t| Value::dict(vec![(Value::str("new_type"), t)])),
        (ty, data()).prop_map(|(t, v)| Value::dict(vec![
            (Value::str("new_type"), t),
            (Value::str("new_value"), v)
        ])),
        (path(), data()).prop_map(|(p, v)| Value::dict(vec![
            (Value::str("new_path"), p),
            (Value::str("value"), v)
        ])),
        prop::collection::vec(opcode(), 0..4).prop_map(Value::list),
        data(),
    ]
}

const GROUPS: [&str; 13] = [
    "values_changed",
    "type_changes",
    "dictionary_item_added",
    "dictionary_item_removed",
    "iterable_item_added",
    "iterable_item_removed",
    "iterable_item_moved",
    "set_item_added",
    "set_item_removed",
    "attribute_added",
    "attribute_removed",
    "_iterable_opcodes",
    "_iterable_compare_func_was_used",
];

fn delta() -> impl Strategy<Value = Value> {
    let group = (
        0..GROUPS.len(),
        prop_oneof![9 => prop::collection::vec((path(), entry_value()), 0..5), 1 => prop::collection::vec((path(), entry_value()), 60..80)],
        0u8..10,
    );
    (prop::collection::vec(group, 0..5), any::<bool>()).prop_map(|(groups, odp)| {
        let items = groups
            .into_iter()
            .map(|(g, entries, shape)| {
                let v = match shape {
                    0 => Value::Int(1),
                    1 if odp => object(
                        Call::Reduce {
                            callable: Value::global("deepdiff.helper", "OrderedDictPlus"),
                            args: Value::tuple(vec![]),
                        },
                        entries,
                    ),
                    _ => Value::dict(entries),
                };
                (Value::str(GROUPS[g]), v)
            })
            .collect();
        Value::dict(items)
    })
}

/// The same value with every container and string in its own allocation (no holder shared with
/// `v`, no memo sharing inside).
fn deep_copy(v: &Value) -> Value {
    let all = |x: &[Value]| x.iter().map(deep_copy).collect::<Vec<_>>();
    match v {
        Value::Str(s) => Value::Str(mu_serverd::pickle::PyStr(Arc::from(s.as_bytes()))),
        Value::Bytes(b) => Value::Bytes(Arc::from(&b[..])),
        Value::List(x) => Value::list(all(x)),
        Value::Tuple(x) => Value::tuple(all(x)),
        Value::Set(x) => Value::Set(Arc::new(all(x))),
        Value::FrozenSet(x) => Value::FrozenSet(Arc::new(all(x))),
        Value::Dict(d) => Value::dict(
            d.iter()
                .map(|(k, x)| (deep_copy(k), deep_copy(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether two values are the same allocation all the way down where they are containers (a
/// copy-on-write that was not undone shows up as a different `Arc`).
fn same_arcs(a: &Value, b: &Value) -> bool {
    let seq = |x: &Arc<Vec<Value>>, y: &Arc<Vec<Value>>| {
        Arc::ptr_eq(x, y) && x.iter().zip(y.iter()).all(|(p, q)| same_arcs(p, q))
    };
    match (a, b) {
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => seq(x, y),
        (Value::Set(x), Value::Set(y)) | (Value::FrozenSet(x), Value::FrozenSet(y)) => seq(x, y),
        (Value::Dict(x), Value::Dict(y)) => {
            Arc::ptr_eq(x, y)
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, p), (l, q))| same_arcs(k, l) && same_arcs(p, q))
        }
        (x, y) => x.strict_eq(y),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn hostile_deltas_never_panic(old in data(), d in delta()) {
        if let Ok(delta) = Delta::from_value(&d) {
            let _ = delta.apply(&old);
        }
    }

    #[test]
    fn hostile_encoded_deltas_never_panic(old in data(), d in delta()) {
        // through the real entry point: pickle bytes, policy, parse, apply (both ways)
        let limits = mu_serverd::pickle::Limits::default();
        let bytes = mu_serverd::pickle::encode(&d);
        if let Ok(delta) = Delta::from_bytes(&bytes, &limits) {
            let shared = delta.apply(&old);
            let owned = delta.apply_owned(old.clone());
            prop_assert_eq!(shared.is_ok(), owned.is_ok());
            if let (Ok((a, _)), Ok((b, _))) = (shared, owned) {
                prop_assert!(a.strict_eq(&b));
            }
        }
    }

    #[test]
    fn hostile_deltas_in_place_match_and_roll_back_exactly(old in data(), d in delta()) {
        if let Ok(delta) = Delta::from_value(&d) {
            let copied = delta.apply(&old);
            let before = encode(&deep_copy(&old));
            // the only holder: edited in place, restored on error
            let mut alone = deep_copy(&old);
            match (&copied, delta.apply_in_place(&mut alone)) {
                (Ok((want, _)), Ok(_)) => prop_assert!(alone.strict_eq(want)),
                (Err(_), Err(_)) => {
                    prop_assert!(alone.strict_eq(&old));
                    prop_assert!(encode(&alone) == before);
                }
                (a, b) => prop_assert!(false, "copying {:?} vs in place {:?}", a.is_ok(), b),
            }
            // shared with `old`: copied on write, `old` never changes, identity restored
            let mut shared = old.clone();
            let in_place = delta.apply_in_place(&mut shared);
            prop_assert_eq!(in_place.is_ok(), copied.is_ok());
            prop_assert!(encode(&deep_copy(&old)) == before);
            if in_place.is_err() {
                prop_assert!(encode(&shared) == encode(&old), "shared holders encode alike");
                prop_assert!(shared.strict_eq(&old));
                prop_assert!(same_arcs(&shared, &old), "copied containers were not put back");
            }
        }
    }

    #[test]
    fn hostile_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let limits = mu_serverd::pickle::Limits::default();
        if let Ok(delta) = Delta::from_bytes(&bytes, &limits) {
            let _ = delta.apply(&Value::dict(vec![]));
        }
    }
}
