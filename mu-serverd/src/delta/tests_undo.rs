//! Unit tests of in-place application ([`Delta::apply_in_place`]): a delta deepdiff raises on
//! after some of its writes leaves the value exactly as before (compared type-exactly, by the
//! encoded pickle bytes and, for shared containers, by `Arc` identity), and a delta that succeeds
//! edits the value without copying it. Each failing delta was checked with deepdiff 8.1.1 and
//! 5.7.0 using `Delta(raw, mutate=True)`: deepdiff raises, and its in-place run had already
//! changed the value (the writes listed in each test) when it did.

use super::tests_build::{d, f, group, i, l, new_value, opcode, s, set};
use super::{Delta, DeltaErrorKind};
use crate::pickle::{encode, value::Value};
use std::sync::Arc;

/// Applies in place to `value`, expecting deepdiff's exception; returns the writes undone.
fn fails_in_place(groups: Vec<(Value, Value)>, value: &mut Value) -> usize {
    let delta = Delta::from_value(&d(groups)).expect("delta parses");
    match delta.apply_in_place_counted(value) {
        Ok(logs) => panic!("expected the delta to raise, got {value:?} (logs {logs:?})"),
        Err((e, undone)) => {
            assert_eq!(e.kind, DeltaErrorKind::Raised, "{e}");
            undone
        }
    }
}

/// `before_bytes` must be encoded with the same holders alive: the encoder memoizes
/// containers whose `Arc` is shared.
fn assert_restored(value: &Value, before: &Value, before_bytes: &[u8]) {
    assert!(value.strict_eq(before), "got {value:?}\nwant {before:?}");
    assert!(encode(value) == before_bytes, "encoded bytes differ");
}

fn floats(n: usize) -> Value {
    l((0..n).map(|x| f(x as f64 * 0.5)).collect())
}

fn list_arc(v: &Value, key: &str) -> Arc<Vec<Value>> {
    match v.get_str_key(key) {
        Some(Value::List(x)) => x.clone(),
        other => panic!("no list at {key}: {other:?}"),
    }
}

#[test]
fn values_changed_failing_halfway_leaves_the_value_unchanged() {
    // deepdiff: root['a'] = 2 is applied, then the entry without new_value raises KeyError
    let before = d(vec![
        (s("a"), i(1)),
        (s("b"), l(vec![f(1.0), f(2.0), f(3.0)])),
        (s("c"), s("x")),
    ]);
    let bytes = encode(&before);
    let mut value = crate::pickle::decode(&bytes, &Default::default()).unwrap();
    let undone = fails_in_place(
        vec![group(
            "values_changed",
            vec![
                ("root['a']", new_value(i(2))),
                ("root['b'][1]", d(vec![])),
                ("root['c']", new_value(s("y"))),
            ],
        )],
        &mut value,
    );
    assert!(undone >= 1, "root['a'] was written before the raise");
    assert_restored(&value, &before, &bytes);
}

#[test]
fn big_float_list_is_edited_without_a_copy_and_restored_on_failure() {
    let mut value = d(vec![(s("name"), s("Mesh")), (s("co"), floats(8000))]);
    let list = list_arc(&value, "co");
    let ptr = Arc::as_ptr(&list);
    drop(list); // the value is now the only holder of the list
    let ok = Delta::from_value(&d(vec![group(
        "values_changed",
        vec![
            ("root['co'][5]", new_value(f(0.25))),
            ("root['co'][7999]", new_value(f(-1.0))),
        ],
    )]))
    .unwrap();
    ok.apply_in_place(&mut value).expect("applies");
    let after = list_arc(&value, "co");
    assert_eq!(Arc::as_ptr(&after), ptr, "the 8,000-float list was copied");
    assert!(after[5].strict_eq(&f(0.25)));
    assert!(after[7999].strict_eq(&f(-1.0)));
    drop(after);

    // deepdiff: root['co'][5] and root['name'] are written, then set_item_added on a missing
    // path raises AttributeError ('_NotFound' object has no attribute 'union')
    let bytes = encode(&value);
    let before = crate::pickle::decode(&bytes, &Default::default()).unwrap();
    let undone = fails_in_place(
        vec![
            group(
                "values_changed",
                vec![
                    ("root['co'][5]", new_value(f(9.0))),
                    ("root['name']", new_value(s("M2"))),
                ],
            ),
            group("set_item_added", vec![("root['missing']", set(vec![i(1)]))]),
        ],
        &mut value,
    );
    assert_eq!(undone, 2);
    assert_restored(&value, &before, &bytes);
    assert_eq!(
        Arc::as_ptr(&list_arc(&value, "co")),
        ptr,
        "restored in place"
    );
}

#[test]
fn every_kind_of_write_is_undone_when_the_root_deletion_raises_at_the_end() {
    // deepdiff writes a, removes b[0], inserts b[0] and b[3], adds 'new' and d['k2'], removes
    // 'c' and d['k'], deletes self.root, then raises AttributeError (no attribute 'root')
    let before = d(vec![
        (s("a"), i(1)),
        (s("b"), l(vec![i(1), i(2), i(3)])),
        (s("c"), s("x")),
        (s("d"), d(vec![(s("k"), i(1))])),
    ]);
    let bytes = encode(&before);
    let mut value = crate::pickle::decode(&bytes, &Default::default()).unwrap();
    let undone = fails_in_place(
        vec![
            group("values_changed", vec![("root['a']", new_value(i(2)))]),
            group("iterable_item_removed", vec![("root['b'][0]", i(1))]),
            group(
                "iterable_item_added",
                vec![("root['b'][3]", i(9)), ("root['b'][0]", i(7))],
            ),
            group(
                "dictionary_item_added",
                vec![
                    ("root['new']", l(vec![i(1), i(2)])),
                    ("root['d']['k2']", i(5)),
                ],
            ),
            group(
                "dictionary_item_removed",
                vec![
                    ("root['c']", s("x")),
                    ("root['d']['k']", i(1)),
                    ("root", Value::None),
                ],
            ),
        ],
        &mut value,
    );
    // 10 writes: deepdiff inserts b[0] as None, then sets it to 7
    assert_eq!(undone, 10, "one record per write");
    assert_restored(&value, &before, &bytes);
}

#[test]
fn opcodes_failing_on_a_missing_key_undo_the_slice_assignment() {
    // deepdiff 8.1.1: m[0] = 40, l[:] = [10, 11], then KeyError 'zz'
    let before = d(vec![
        (s("l"), l(vec![i(1), i(2), i(3)])),
        (s("m"), l(vec![i(4), i(5)])),
    ]);
    let bytes = encode(&before);
    let mut value = crate::pickle::decode(&bytes, &Default::default()).unwrap();
    let undone = fails_in_place(
        vec![
            group("values_changed", vec![("root['m'][0]", new_value(i(40)))]),
            group(
                "_iterable_opcodes",
                vec![
                    (
                        "root['l']",
                        l(vec![opcode("replace", 0, 3, 0, 2, l(vec![i(10), i(11)]))]),
                    ),
                    (
                        "root['zz']",
                        l(vec![opcode("equal", 0, 1, 0, 1, Value::None)]),
                    ),
                ],
            ),
        ],
        &mut value,
    );
    assert_eq!(undone, 2);
    assert_restored(&value, &before, &bytes);
}

#[test]
fn shared_containers_get_their_identity_back() {
    // one list under two keys (a pickle memo reference): writing through one copies it, the
    // rollback must put the very same Arc back or the re-encoded pickle loses the sharing
    let shared = floats(4);
    let before = d(vec![(s("p"), shared.clone()), (s("q"), shared)]);
    let bytes = encode(&before);
    let mut value = crate::pickle::decode(&bytes, &Default::default()).unwrap();
    let p = list_arc(&value, "p");
    assert!(
        Arc::ptr_eq(&p, &list_arc(&value, "q")),
        "memo sharing decoded"
    );
    drop(p);
    let undone = fails_in_place(
        vec![group(
            "values_changed",
            vec![
                ("root['p'][1]", new_value(f(7.0))),
                ("root['q']", d(vec![])),
            ],
        )],
        &mut value,
    );
    assert!(undone >= 2, "the write and the copied container: {undone}");
    assert!(Arc::ptr_eq(&list_arc(&value, "p"), &list_arc(&value, "q")));
    assert_restored(&value, &before, &bytes);
}

#[test]
fn a_value_shared_with_another_holder_is_never_changed() {
    // the caller keeps a clone (e.g. a snapshot): copy-on-write must leave it alone, on
    // success and on failure
    let other = d(vec![(s("co"), floats(100)), (s("n"), i(1))]);
    let alone = encode(&other);
    let mut value = other.clone();
    let shared = encode(&other); // memoized: two holders
    let ok = Delta::from_value(&d(vec![group(
        "values_changed",
        vec![("root['co'][3]", new_value(f(3.25)))],
    )]))
    .unwrap();
    ok.apply_in_place(&mut value).unwrap();
    assert!(!value.strict_eq(&other));
    drop(value);
    assert!(encode(&other) == alone, "the other holder saw the change");

    let mut value = other.clone();
    fails_in_place(
        vec![group(
            "values_changed",
            vec![
                ("root['co'][3]", new_value(f(3.25))),
                ("root['n']", d(vec![])),
            ],
        )],
        &mut value,
    );
    assert!(Arc::ptr_eq(
        &list_arc(&value, "co"),
        &list_arc(&other, "co")
    ));
    assert_restored(&value, &other, &shared);
    drop(value);
    assert!(encode(&other) == alone);
}

#[test]
fn a_refused_delta_touches_nothing() {
    let before = d(vec![(s("a"), i(1))]);
    let mut value = before.clone();
    let numpy = Delta::from_value(&d(vec![
        group("values_changed", vec![("root['a']", new_value(i(2)))]),
        (s("_numpy_paths"), d(vec![(s("root['a']"), s("int64"))])),
    ]))
    .unwrap();
    let err = numpy.apply_in_place(&mut value).unwrap_err();
    assert_eq!(err.kind, DeltaErrorKind::Unsupported);
    assert_restored(&value, &before, &encode(&before));
}
