//! Unit tests pinning how deepdiff edits tuples: post-process turning edited lists back into
//! tuples, opcodes replacing a tuple in its parent, and the nested-tuple failures, in 8.1.1 and
//! 5.7.0. They are one topic (a tuple cannot be edited in place, so every edit goes through a
//! copy) and read better together than among the path and group quirks in `tests_quirks`.
//! Expected values were produced by deepdiff 8.1.1 / 5.7.0 on the same input.

use super::tests_build::*;
use super::DeltaErrorKind;
use crate::pickle::value::Value;

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
