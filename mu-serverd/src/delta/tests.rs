//! Unit tests of the Delta engine, one per group and per reproduced deepdiff quirk. Expected
//! values come from running deepdiff 8.1.1 / 5.7.0 on the same input (shared notes §3) and are
//! written out by hand here; the live differential test covers random cases.

use super::{Delta, DeltaErrorKind, Dialect};
use crate::pickle::value::{Call, Object, Value};
use std::sync::Arc;

fn s(x: &str) -> Value {
    Value::str(x)
}
fn i(x: i64) -> Value {
    Value::Int(x)
}
fn f(x: f64) -> Value {
    Value::Float(x)
}
fn d(items: Vec<(Value, Value)>) -> Value {
    Value::dict(items)
}
fn l(items: Vec<Value>) -> Value {
    Value::list(items)
}
fn t(items: Vec<Value>) -> Value {
    Value::tuple(items)
}
fn set(items: Vec<Value>) -> Value {
    Value::Set(Arc::new(items))
}
fn ints(v: &[i64]) -> Vec<Value> {
    v.iter().map(|x| i(*x)).collect()
}
fn new_value(v: Value) -> Value {
    d(vec![(s("new_value"), v)])
}
fn group(name: &str, entries: Vec<(&str, Value)>) -> (Value, Value) {
    (
        s(name),
        d(entries.into_iter().map(|(p, v)| (s(p), v)).collect()),
    )
}
/// 5.7.0 on Python >= 3.10 wraps groups in `OrderedDictPlus()`.
fn odp(entries: Vec<(&str, Value)>) -> Value {
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
fn opcode(tag: &str, a: i64, b: i64, c: i64, e: i64, new_values: Value) -> Value {
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
fn type_change(new_type: Value, value: Option<Value>) -> Value {
    let mut e = vec![
        (s("old_type"), Value::global("builtins", "int")),
        (s("new_type"), new_type),
    ];
    if let Some(v) = value {
        e.push((s("new_value"), v));
    }
    d(e)
}
fn apply(groups: Vec<(Value, Value)>, old: &Value) -> Result<Value, super::DeltaError> {
    Delta::from_value(&d(groups))?.apply(old).map(|(v, _)| v)
}
fn assert_same(got: &Value, want: &Value) {
    assert!(got.strict_eq(want), "got {got:?}\nwant {want:?}");
}

#[test]
fn values_changed_sets_nested_value() {
    let old = d(vec![(
        s("m"),
        l(vec![l(vec![f(0.0), f(1.0)]), l(vec![f(2.0), f(3.0)])]),
    )]);
    let got = apply(
        vec![group(
            "values_changed",
            vec![("root['m'][1][1]", new_value(f(5.5)))],
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![(
            s("m"),
            l(vec![l(vec![f(0.0), f(1.0)]), l(vec![f(2.0), f(5.5)])]),
        )]),
    );
}

#[test]
fn values_changed_on_missing_path_is_logged_and_skipped() {
    let old = d(vec![(s("a"), l(ints(&[1])))]);
    let delta = Delta::from_value(&d(vec![group(
        "values_changed",
        vec![
            ("root['b']", new_value(i(2))),
            ("root['a'][1]", new_value(i(2))),
        ],
    )]))
    .unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &old);
    assert_eq!(logs.len(), 2, "{logs:?}");
}

#[test]
fn values_changed_without_new_value_raises_key_error() {
    let old = d(vec![(s("a"), i(1))]);
    let err = apply(
        vec![group("values_changed", vec![("root['a']", d(vec![]))])],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
}

#[test]
fn type_changes_without_new_value_convert_the_current_value() {
    let old = d(vec![
        (s("a"), i(1)),
        (s("b"), Value::None),
        (s("c"), l(ints(&[1, 2]))),
        (s("e"), f(0.1)),
        (s("g"), s(" 1_000 ")),
    ]);
    let got = apply(
        vec![group(
            "type_changes",
            vec![
                (
                    "root['a']",
                    type_change(Value::global("builtins", "float"), None),
                ),
                (
                    "root['b']",
                    type_change(Value::global("builtins", "str"), None),
                ),
                (
                    "root['c']",
                    type_change(Value::global("builtins", "tuple"), None),
                ),
                (
                    "root['e']",
                    type_change(Value::global("builtins", "str"), None),
                ),
                (
                    "root['g']",
                    type_change(Value::global("builtins", "int"), None),
                ),
            ],
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![
            (s("a"), f(1.0)),
            (s("b"), s("None")),
            (s("c"), t(ints(&[1, 2]))),
            (s("e"), s("0.1")),
            (s("g"), i(1000)),
        ]),
    );
}

#[test]
fn type_change_with_failing_conversion_is_logged_and_skipped() {
    let old = d(vec![(s("a"), s("x"))]);
    let delta = Delta::from_value(&d(vec![group(
        "type_changes",
        vec![(
            "root['a']",
            type_change(Value::global("builtins", "int"), None),
        )],
    )]))
    .unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &old);
    assert_eq!(logs.len(), 1);
}

#[test]
fn type_change_of_root_replaces_root() {
    let old = d(vec![(s("a"), i(1))]);
    let nt = d(vec![
        (s("old_type"), Value::global("builtins", "dict")),
        (s("new_type"), Value::global("builtins", "list")),
        (s("new_value"), l(ints(&[1, 2, 3]))),
    ]);
    let got = apply(vec![group("type_changes", vec![("root", nt)])], &old).unwrap();
    assert_same(&got, &l(ints(&[1, 2, 3])));
}

#[test]
fn none_type_is_a_persistent_id_and_cannot_be_called() {
    let old = d(vec![(s("a"), i(1))]);
    let none_type = Value::PersId(Arc::new(s("<<NoneType>>")));
    let got = apply(
        vec![group(
            "type_changes",
            vec![(
                "root['a']",
                type_change(none_type.clone(), Some(Value::None)),
            )],
        )],
        &old,
    )
    .unwrap();
    assert_same(&got, &d(vec![(s("a"), Value::None)]));
    let delta = Delta::from_value(&d(vec![group(
        "type_changes",
        vec![("root['a']", type_change(none_type, None))],
    )]))
    .unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &old);
    assert_eq!(logs.len(), 1);
}

#[test]
fn dictionary_item_added_appends_new_keys_at_the_end() {
    let old = d(vec![(s("a"), i(1)), (s("c"), i(2))]);
    let got = apply(
        vec![group(
            "dictionary_item_added",
            vec![("root['b']", i(5)), ("root[3]", s("three"))],
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![
            (s("a"), i(1)),
            (s("c"), i(2)),
            (s("b"), i(5)),
            (i(3), s("three")),
        ]),
    );
}

#[test]
fn dict_lookups_use_python_equality_one_equals_true() {
    let old = d(vec![(i(1), s("int key"))]);
    let got = apply(
        vec![group(
            "values_changed",
            vec![("root[True]", new_value(s("x")))],
        )],
        &old,
    )
    .unwrap();
    assert_same(&got, &d(vec![(i(1), s("x"))]));
}

#[test]
fn dictionary_item_removed_deletes_and_skips_missing_keys_silently_8_1_1() {
    let old = d(vec![(s("a"), i(1)), (s("b"), i(2))]);
    let delta = Delta::from_value(&d(vec![group(
        "dictionary_item_removed",
        vec![("root['a']", i(99)), ("root['zz']", i(0))],
    )]))
    .unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &d(vec![(s("b"), i(2))]));
    assert!(logs.is_empty(), "{logs:?}");
}

#[test]
fn none_key_is_never_removed_like_8_1_1() {
    let old = d(vec![(Value::None, l(vec![])), (s("a"), i(1))]);
    let got = apply(
        vec![group(
            "dictionary_item_removed",
            vec![("root[None]", l(vec![]))],
        )],
        &old,
    )
    .unwrap();
    assert_same(&got, &old);
}

#[test]
fn iterable_item_added_inserts_in_ascending_new_index_order() {
    let old = d(vec![(s("l"), l(ints(&[1, 2, 3])))]);
    let got = apply(
        vec![group(
            "iterable_item_added",
            vec![
                ("root['l'][4]", i(9)),
                ("root['l'][0]", i(0)),
                ("root['l'][2]", i(7)),
            ],
        )],
        &old,
    )
    .unwrap();
    // deepdiff 8.1.1 gives {'l': [0, 1, 7, 2, 9, 3]}: t2 indexes applied one after the other
    assert_same(&got, &d(vec![(s("l"), l(ints(&[0, 1, 7, 2, 9, 3])))]));
}

#[test]
fn iterable_item_added_past_the_end_is_logged_and_skipped() {
    let old = l(ints(&[1]));
    let delta = Delta::from_value(&d(vec![group(
        "iterable_item_added",
        vec![("root[5]", i(9))],
    )]))
    .unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &old);
    assert_eq!(logs.len(), 1);
}

#[test]
fn iterable_item_added_under_a_string_key_of_a_dict_raises() {
    // `elem < len(obj)` compares 'x' with an int
    let old = d(vec![(s("d"), d(vec![]))]);
    let err = apply(
        vec![group("iterable_item_added", vec![("root['d']['x']", i(1))])],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
}

#[test]
fn iterable_item_removed_deletes_the_nearest_equal_value_like_8_1_1() {
    let old = l(ints(&[5, 1, 5, 9, 5]));
    // index 3 holds 9, not 5: the nearest 5 (index 2) goes
    let got = apply(
        vec![group("iterable_item_removed", vec![("root[3]", i(5))])],
        &old,
    )
    .unwrap();
    assert_same(&got, &l(ints(&[5, 1, 9, 5])));
    // no equal value anywhere: silently nothing
    let got = apply(
        vec![group("iterable_item_removed", vec![("root[3]", i(7))])],
        &old,
    )
    .unwrap();
    assert_same(&got, &old);
}

#[test]
fn iterable_item_removed_goes_by_index_in_5_7_0() {
    let old = l(ints(&[5, 1, 5, 9, 5]));
    let got = apply(
        vec![(s("iterable_item_removed"), odp(vec![("root[3]", i(5))]))],
        &old,
    )
    .unwrap();
    assert_same(&got, &l(ints(&[5, 1, 5, 5])));
}

#[test]
fn iterable_item_removed_descends_so_indexes_stay_valid() {
    let old = l(ints(&[0, 1, 2, 3, 4]));
    let got = apply(
        vec![group(
            "iterable_item_removed",
            vec![("root[1]", i(1)), ("root[3]", i(3))],
        )],
        &old,
    )
    .unwrap();
    assert_same(&got, &l(ints(&[0, 2, 4])));
}

#[test]
fn set_items_use_union_and_difference_and_keep_frozensets() {
    let old = d(vec![
        (s("s"), set(vec![s("x"), s("y")])),
        (s("f"), Value::FrozenSet(Arc::new(ints(&[1])))),
    ]);
    let got = apply(
        vec![
            group(
                "set_item_added",
                vec![
                    ("root['s']", set(vec![s("w"), s("z")])),
                    ("root['f']", set(ints(&[2]))),
                ],
            ),
            group("set_item_removed", vec![("root['s']", set(vec![s("x")]))]),
        ],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![
            (s("s"), set(vec![s("y"), s("w"), s("z")])),
            (s("f"), Value::FrozenSet(Arc::new(ints(&[1, 2])))),
        ]),
    );
}

#[test]
fn set_item_on_a_missing_path_raises() {
    let old = d(vec![]);
    let err = apply(
        vec![group(
            "set_item_added",
            vec![("root['s']", set(ints(&[1])))],
        )],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
}

#[test]
fn tuple_edits_are_restored_to_tuples_in_post_process() {
    let old = d(vec![(s("c"), t(vec![f(1.0), f(2.0), f(3.0)]))]);
    let got = apply(
        vec![
            group("values_changed", vec![("root['c'][0]", new_value(f(9.0)))]),
            group("iterable_item_added", vec![("root['c'][3]", f(4.0))]),
        ],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![(s("c"), t(vec![f(9.0), f(2.0), f(3.0), f(4.0)]))]),
    );
}

#[test]
fn tuple_middle_insert_raises_attribute_error_like_8_1_1() {
    let old = d(vec![(s("c"), t(ints(&[1, 2, 3])))]);
    let err = apply(
        vec![group("iterable_item_added", vec![("root['c'][1]", i(9))])],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
    assert!(err.message.contains("insert"), "{err}");
}

#[test]
fn tuple_opcodes_replace_grandparent_slot_like_8_1_1() {
    let tup = t(ints(&[1, 2, 3, 4, 5, 6, 7, 8]));
    let mut ops = Vec::new();
    for k in 0..4 {
        ops.push(opcode("equal", 2 * k, 2 * k + 1, k, k + 1, Value::None));
        ops.push(opcode(
            "delete",
            2 * k + 1,
            2 * k + 2,
            k + 1,
            k + 1,
            t(vec![]),
        ));
    }
    let old = d(vec![(s("c"), tup.clone())]);
    let got = apply(
        vec![group(
            "_iterable_opcodes",
            vec![("root['c']", l(ops.clone()))],
        )],
        &old,
    )
    .unwrap();
    assert_same(&got, &tup);
    let nested = d(vec![(s("x"), d(vec![(s("c"), tup.clone())]))]);
    let got = apply(
        vec![group("_iterable_opcodes", vec![("root['x']['c']", l(ops))])],
        &nested,
    )
    .unwrap();
    assert_same(&got, &d(vec![(s("x"), tup)]));
}

#[test]
fn list_opcodes_rebuild_the_list() {
    let old = d(vec![(s("l"), l(ints(&[1, 2, 3, 4])))]);
    let ops = l(vec![
        opcode("equal", 0, 1, 0, 1, Value::None),
        opcode("replace", 1, 2, 1, 2, l(ints(&[20]))),
        opcode("delete", 2, 3, 2, 2, l(vec![])),
        opcode("equal", 3, 4, 2, 3, Value::None),
        opcode("insert", 4, 4, 3, 5, l(ints(&[5, 6]))),
    ]);
    let got = apply(
        vec![group("_iterable_opcodes", vec![("root['l']", ops)])],
        &old,
    )
    .unwrap();
    assert_same(&got, &d(vec![(s("l"), l(ints(&[1, 20, 4, 5, 6])))]));
}

#[test]
fn opcodes_on_a_missing_key_raise() {
    let old = d(vec![]);
    let ops = l(vec![opcode("equal", 0, 1, 0, 1, Value::None)]);
    let err = apply(
        vec![group("_iterable_opcodes", vec![("root['l']", ops)])],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
}

#[test]
fn tuple_in_tuple_change_raises_runtime_error_like_8_1_1() {
    let old = d(vec![(
        s("t"),
        t(vec![t(vec![f(1.0), f(2.0)]), t(vec![f(3.0), f(4.0)])]),
    )]);
    let err = apply(
        vec![group(
            "values_changed",
            vec![("root['t'][1][1]", new_value(f(5.0)))],
        )],
        &old,
    )
    .unwrap_err();
    assert!(err.message.contains("RuntimeError"), "{err}");
}

#[test]
fn tuple_in_tuple_change_is_lost_and_outer_becomes_list_in_5_7_0() {
    let old = d(vec![(
        s("t"),
        t(vec![t(vec![f(1.0), f(2.0)]), t(vec![f(3.0), f(4.0)])]),
    )]);
    let got = apply(
        vec![(
            s("values_changed"),
            odp(vec![("root['t'][1][1]", new_value(f(5.0)))]),
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![(
            s("t"),
            l(vec![t(vec![f(1.0), f(2.0)]), t(vec![f(3.0), f(4.0)])]),
        )]),
    );
}

#[test]
fn keys_with_both_quotes_are_dropped_like_8_1_1() {
    let old = d(vec![]);
    let delta = Delta::from_value(&d(vec![group(
        "dictionary_item_added",
        vec![("root[\"a'b\"c\"]", i(1))],
    )]))
    .unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &old);
    assert_eq!(logs.len(), 1);
}

#[test]
fn quoted_and_backslash_keys_round_trip_in_8_1_1() {
    let old = d(vec![]);
    let got = apply(
        vec![group(
            "dictionary_item_added",
            vec![
                ("root[\"it's\"]", i(1)),
                ("root['say \"hi\"']", i(2)),
                ("root['a\\b']", i(3)),
                ("root['new\nline']", i(4)),
            ],
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![
            (s("it's"), i(1)),
            (s("say \"hi\""), i(2)),
            (s("a\\b"), i(3)),
            (s("new\nline"), i(4)),
        ]),
    );
}

#[test]
fn quoted_and_backslash_keys_are_misparsed_like_5_7_0() {
    let old = d(vec![]);
    let delta = Delta::from_value(&d(vec![(
        s("dictionary_item_added"),
        odp(vec![
            ("root['it's']", i(1)),
            ("root['a\\b']", i(3)),
            ("root['new\nline']", i(4)),
        ]),
    )]))
    .unwrap();
    assert_eq!(delta.dialect(), Dialect::V5_7_0);
    let (got, _) = delta.apply(&old).unwrap();
    assert_same(
        &got,
        &d(vec![(s("a\u{8}"), i(3)), (s("'new\nline'"), i(4))]),
    );
}

#[test]
fn mixed_type_paths_raise_in_the_sort_fallback_like_8_1_1() {
    let old = d(vec![(
        s("x"),
        d(vec![(s("a"), l(ints(&[1, 2]))), (i(1), l(ints(&[3, 4])))]),
    )]);
    let err = apply(
        vec![group(
            "iterable_item_removed",
            vec![("root['x']['a'][1]", i(2)), ("root['x'][1][1]", i(4))],
        )],
        &old,
    )
    .unwrap_err();
    assert!(err.message.contains("NoneType"), "{err}");
    // different types right after root are compared as strings instead
    let old = d(vec![(s("a"), l(ints(&[1, 2]))), (i(1), l(ints(&[3, 4])))]);
    let got = apply(
        vec![group(
            "iterable_item_removed",
            vec![("root['a'][1]", i(2)), ("root[1][1]", i(4))],
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![(s("a"), l(ints(&[1]))), (i(1), l(ints(&[3])))]),
    );
}

#[test]
fn mixed_type_paths_raise_in_5_7_0() {
    let old = d(vec![(s("a"), l(ints(&[1, 2]))), (i(1), l(ints(&[3, 4])))]);
    let err = apply(
        vec![(
            s("iterable_item_removed"),
            odp(vec![("root['a'][1]", i(2)), ("root[1][1]", i(4))]),
        )],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
}

#[test]
fn apply_never_mutates_the_old_value() {
    let inner = l(ints(&[1, 2, 3]));
    let old = d(vec![(s("l"), inner.clone())]);
    let before = format!("{old:?}");
    let got = apply(
        vec![group("iterable_item_added", vec![("root['l'][3]", i(4))])],
        &old,
    )
    .unwrap();
    assert_eq!(format!("{old:?}"), before);
    assert_same(&got, &d(vec![(s("l"), l(ints(&[1, 2, 3, 4])))]));
}

#[test]
fn aliased_lists_are_edited_independently_unlike_python() {
    // Python: one shared list object gets both inserts ([1, 2, 3, 3] in both places).
    // Here values are copy-on-write, so each place gets exactly its own edit; the differential
    // generator avoids aliased mutable containers (docs/delta.md).
    let shared = l(ints(&[1, 2]));
    let old = d(vec![(s("a"), shared.clone()), (s("b"), shared)]);
    let got = apply(
        vec![group(
            "iterable_item_added",
            vec![("root['a'][2]", i(3)), ("root['b'][2]", i(3))],
        )],
        &old,
    )
    .unwrap();
    assert_same(
        &got,
        &d(vec![
            (s("a"), l(ints(&[1, 2, 3]))),
            (s("b"), l(ints(&[1, 2, 3]))),
        ]),
    );
}

#[test]
fn unknown_groups_are_ignored_and_non_dict_deltas_refused() {
    let old = d(vec![(s("a"), i(1))]);
    let got = apply(vec![(s("something_else"), i(5))], &old).unwrap();
    assert_same(&got, &old);
    assert_eq!(
        Delta::from_value(&l(vec![])).unwrap_err().kind,
        DeltaErrorKind::Format
    );
}

#[test]
fn opcodes_are_refused_in_the_5_7_0_dialect() {
    let ops = l(vec![opcode("equal", 0, 1, 0, 1, Value::None)]);
    let v = d(vec![
        (s("values_changed"), odp(vec![])),
        group("_iterable_opcodes", vec![("root", ops)]),
    ]);
    assert_eq!(
        Delta::from_value(&v).unwrap_err().kind,
        DeltaErrorKind::Format
    );
}

#[test]
fn deleting_root_then_finishing_raises() {
    let old = d(vec![(s("a"), i(1))]);
    let err = apply(
        vec![group(
            "dictionary_item_removed",
            vec![("root", old.clone())],
        )],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
}

#[test]
fn iterable_item_moved_removes_then_reinserts_like_8_1_1_and_5_7_0() {
    // deepdiff 8.1.1 and 5.7.0 both give [2, 3, 1]
    let moved = d(vec![(
        s("root[0]"),
        d(vec![(s("new_path"), s("root[2]")), (s("value"), i(1))]),
    )]);
    let old = l(ints(&[1, 2, 3]));
    let got = apply(vec![(s("iterable_item_moved"), moved.clone())], &old).unwrap();
    assert_same(&got, &l(ints(&[2, 3, 1])));
    let odp_moved = odp(vec![(
        "root[0]",
        d(vec![(s("new_path"), s("root[2]")), (s("value"), i(1))]),
    )]);
    let got = apply(vec![(s("iterable_item_moved"), odp_moved)], &old).unwrap();
    assert_same(&got, &l(ints(&[2, 3, 1])));
}

#[test]
fn attribute_added_on_data_is_logged_and_skipped() {
    let old = d(vec![(s("a"), i(1))]);
    let delta =
        Delta::from_value(&d(vec![group("attribute_added", vec![("root.x", i(5))])])).unwrap();
    let (got, logs) = delta.apply(&old).unwrap();
    assert_same(&got, &old);
    assert_eq!(logs.len(), 1, "{logs:?}");
}

#[test]
fn ignore_order_groups_rebuild_the_list_like_deepdiff() {
    // deepdiff's own docstring example: [5, 1, 1, 1, 6] -> [7, 1, 1, 1, 8]
    let added = d(vec![(s("root"), d(vec![(i(0), i(7)), (i(4), i(8))]))]);
    let removed = d(vec![(s("root"), d(vec![(i(4), i(6)), (i(0), i(5))]))]);
    let got = apply(
        vec![
            (s("iterable_items_added_at_indexes"), added),
            (s("iterable_items_removed_at_indexes"), removed),
        ],
        &l(ints(&[5, 1, 1, 1, 6])),
    )
    .unwrap();
    assert_same(&got, &l(ints(&[7, 1, 1, 1, 8])));
    // tuples stay tuples: {'t': (5, 1, 6)} -> {'t': (7, 1, 6)}
    let added = d(vec![(s("root['t']"), d(vec![(i(0), i(7))]))]);
    let removed = d(vec![(s("root['t']"), d(vec![(i(0), i(5))]))]);
    let got = apply(
        vec![
            (s("iterable_items_added_at_indexes"), added),
            (s("iterable_items_removed_at_indexes"), removed),
        ],
        &d(vec![(s("t"), t(ints(&[5, 1, 6])))]),
    )
    .unwrap();
    assert_same(&got, &d(vec![(s("t"), t(ints(&[7, 1, 6])))]));
}

#[test]
fn post_process_lookup_failure_with_an_int_in_the_path_raises_like_8_1_1() {
    // deepdiff 8.1.1: TypeError: sequence item 2: expected str instance, int found
    let old = d(vec![(s("a"), l(vec![t(ints(&[1, 2]))]))]);
    let err = apply(
        vec![
            group("values_changed", vec![("root['a'][0][1]", new_value(i(5)))]),
            group(
                "iterable_item_removed",
                vec![("root['a'][0]", l(ints(&[1, 5])))],
            ),
        ],
        &old,
    )
    .unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Raised);
    // only str elements: logged, and the result is {'a': {}}
    let old = d(vec![(s("a"), d(vec![(s("b"), t(ints(&[1, 2])))]))]);
    let got = apply(
        vec![
            group(
                "values_changed",
                vec![("root['a']['b'][1]", new_value(i(5)))],
            ),
            group(
                "dictionary_item_removed",
                vec![("root['a']['b']", l(ints(&[1, 5])))],
            ),
        ],
        &old,
    )
    .unwrap();
    assert_same(&got, &d(vec![(s("a"), d(vec![]))]));
}
