//! The node-size bound (`bound`): after every Commit the node's exact encoded length is within
//! the bound the engine keeps. Random nodes share values through `Arc`s (memo references when
//! encoded), random deltas use the groups of the fast path and some that fall back; targeted
//! cases cover each reason the fast path is left (a copied shared container, a coerced tuple,
//! `type_changes`) and a delta whose memo references re-encode far larger than its bytes.

use super::apply_bytes_bounded;
use crate::pickle::{encode, encoded_len, Limits, Value};
use crate::walk_tests::dag::P;
use proptest::prelude::*;

fn s(x: &str) -> Value {
    Value::str(x)
}

fn dict(pairs: Vec<(Value, Value)>) -> Value {
    Value::Dict(std::sync::Arc::new(pairs))
}

/// A pool of values the node and the deltas pick from (clones share their `Arc`s).
fn pool(seed: &[u8]) -> Vec<Value> {
    let mut p: Vec<Value> = vec![
        Value::Int(3),
        Value::Float(1.5),
        s("leaf"),
        Value::list(vec![]),
        Value::distinct_empty_list(),
    ];
    for (i, &b) in seed.iter().enumerate() {
        let a = p[(b as usize) % p.len()].clone();
        let c = p[(b as usize * 7 + i) % p.len()].clone();
        let v = match b % 6 {
            0 => Value::list(vec![a, c]),
            1 => Value::Tuple(std::sync::Arc::new(vec![a, c])),
            2 => s(&format!("s{i}-{b}")),
            3 => Value::Float(f64::from(b) + 0.25),
            4 => Value::list((0..(b as usize % 40)).map(|_| a.clone()).collect()),
            _ => dict(vec![(s(&format!("k{i}")), a), (Value::Int(i as i64), c)]),
        };
        p.push(v);
    }
    p
}

#[derive(Clone, Debug)]
enum Op {
    /// `values_changed` of `root['l'][i]` to pool value `v`.
    Change(usize, usize),
    /// `iterable_item_added` at `root['l'][i]` (clamped to the end).
    Add(usize, usize),
    /// `iterable_item_removed` of `root['l'][i]`.
    Remove(usize),
    /// `dictionary_item_added` of `root['k<i>']`.
    Key(usize, usize),
    /// `dictionary_item_removed` of `root['k<i>']`.
    DropKey(usize),
    /// `values_changed` of `root['l'][i][0]` (through a possibly shared container).
    Inner(usize, usize),
    /// `type_changes` of `root['l'][i]` to tuple, without a new value.
    ToTuple(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..64, 0usize..64).prop_map(|(i, v)| Op::Change(i, v)),
        (0usize..64, 0usize..64).prop_map(|(i, v)| Op::Add(i, v)),
        (0usize..64, 0usize..64).prop_map(|(i, v)| Op::Add(i, v)),
        (0usize..64, 0usize..64).prop_map(|(i, v)| Op::Add(i, v)),
        (0usize..64).prop_map(Op::Remove),
        (0usize..8, 0usize..64).prop_map(|(i, v)| Op::Key(i, v)),
        (0usize..8).prop_map(Op::DropKey),
        (0usize..64, 0usize..64).prop_map(|(i, v)| Op::Inner(i, v)),
        (0usize..64).prop_map(Op::ToTuple),
    ]
}

fn get<'a>(node: &'a Value, key: &str) -> Option<&'a Value> {
    match node {
        Value::Dict(d) => d
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|x| &x.1),
        _ => None,
    }
}

fn items(node: &Value) -> Vec<Value> {
    match get(node, "l") {
        Some(Value::List(l)) => l.to_vec(),
        _ => vec![],
    }
}

/// The delta (8.1.1 dialect) for `op` on `node`, values taken from `pool`.
fn delta(node: &Value, op: &Op, pool: &[Value]) -> Option<Vec<u8>> {
    let l = items(node);
    let pick = |v: usize| pool[v % pool.len()].clone();
    let at = |i: usize| format!("root['l'][{i}]");
    let (group, path, value) = match *op {
        Op::Change(i, v) if !l.is_empty() => (
            "values_changed",
            at(i % l.len()),
            dict(vec![(s("new_value"), pick(v))]),
        ),
        Op::Add(i, v) => ("iterable_item_added", at(i.min(l.len())), pick(v)),
        Op::Remove(i) if !l.is_empty() => (
            "iterable_item_removed",
            at(i % l.len()),
            l[i % l.len()].clone(),
        ),
        Op::Key(i, v) => ("dictionary_item_added", format!("root['k{i}']"), pick(v)),
        Op::DropKey(i) => {
            let old = get(node, &format!("k{i}"))?.clone();
            ("dictionary_item_removed", format!("root['k{i}']"), old)
        }
        Op::Inner(i, v) if !l.is_empty() => match &l[i % l.len()] {
            Value::List(x) | Value::Tuple(x) if !x.is_empty() => (
                "values_changed",
                format!("{}[0]", at(i % l.len())),
                dict(vec![(s("new_value"), pick(v))]),
            ),
            _ => return None,
        },
        Op::ToTuple(i) if !l.is_empty() => match &l[i % l.len()] {
            Value::List(_) => (
                "type_changes",
                at(i % l.len()),
                dict(vec![
                    (
                        s("old_type"),
                        Value::Global(std::sync::Arc::new((
                            crate::pickle::value::PyStr::new("builtins"),
                            crate::pickle::value::PyStr::new("list"),
                        ))),
                    ),
                    (
                        s("new_type"),
                        Value::Global(std::sync::Arc::new((
                            crate::pickle::value::PyStr::new("builtins"),
                            crate::pickle::value::PyStr::new("tuple"),
                        ))),
                    ),
                ]),
            ),
            _ => return None,
        },
        _ => return None,
    };
    Some(encode(&dict(vec![(
        s(group),
        dict(vec![(s(&path), value)]),
    )])))
}

/// Applies `bytes` keeping `bound` and checks the node's exact length is within it.
fn apply_checked(node: &mut Value, bytes: &[u8], bound: &mut Option<usize>) -> bool {
    let limits = Limits::default();
    let ok = apply_bytes_bounded(node, bytes, 1 << 20, &limits, bound).is_ok();
    let exact = encoded_len(node, usize::MAX).expect("uncapped");
    let b = bound.expect("a kept value has a bound");
    assert!(exact <= b, "exact {exact} > bound {b}");
    ok
}

/// The node `{'l': [...], 'k0': .., ...}` of pool values (shared `Arc`s).
fn node(pool: &[Value], picks: &[usize]) -> Value {
    let l = Value::list(
        picks
            .iter()
            .map(|&i| pool[i % pool.len()].clone())
            .collect(),
    );
    let mut pairs = vec![(s("l"), l)];
    for k in 0..3 {
        pairs.push((s(&format!("k{k}")), pool[k * 5 % pool.len()].clone()));
    }
    dict(pairs)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_bound_holds_after_every_commit(
        seed in prop::collection::vec(any::<u8>(), 1..300),
        picks in prop::collection::vec(0usize..400, 0..40),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let pool = pool(&seed);
        let mut n = node(&pool, &picks);
        // Seeded by one exact walk, as the repository's first Commit on a decoded node.
        let mut bound = Some(super::bound::reset(encoded_len(&n, usize::MAX).expect("uncapped")));
        for op in &ops {
            if let Some(bytes) = delta(&n, op, &pool) {
                apply_checked(&mut n, &bytes, &mut bound);
            }
        }
    }
}

/// `root['l'][i][0] = 1` for 5 of 6 occurrences of one 4,000-item container: each write
/// copies it (a tuple is coerced to a list and put back as a new tuple), and each copy is
/// encoded in full where it was a reference: the node grows 6-fold from a 200-byte delta.
fn writes_through_shared(big: Value) {
    let mut n = dict(vec![(s("l"), Value::list(vec![big; 6]))]);
    let before = encoded_len(&n, usize::MAX).unwrap();
    let mut bound = Some(super::bound::reset(before));
    let writes = (0..5)
        .map(|i| {
            (
                s(&format!("root['l'][{i}][0]")),
                dict(vec![(s("new_value"), Value::Int(1))]),
            )
        })
        .collect();
    let d = encode(&dict(vec![(s("values_changed"), dict(writes))]));
    assert!(apply_checked(&mut n, &d, &mut bound));
    assert!(encoded_len(&n, usize::MAX).unwrap() > 5 * before);
}

#[test]
fn writes_through_a_shared_list_are_walked() {
    writes_through_shared(Value::list(
        (0..4000).map(|i| Value::Float(f64::from(i))).collect(),
    ));
}

#[test]
fn writes_into_a_shared_tuple_are_walked() {
    writes_through_shared(Value::Tuple(std::sync::Arc::new(
        (0..4000).map(|i| Value::Float(f64::from(i))).collect(),
    )));
}

/// `type_changes` list -> tuple of a list shared twice: every item becomes a memo reference.
#[test]
fn a_type_change_of_a_shared_list_is_walked() {
    let shared = Value::list(
        (0..3000)
            .map(|i| Value::Tuple(std::sync::Arc::new(vec![Value::Int(i % 200)])))
            .collect(),
    );
    let mut n = dict(vec![(s("a"), shared.clone()), (s("b"), shared)]);
    let mut bound = Some(super::bound::reset(encoded_len(&n, usize::MAX).unwrap()));
    let ty = |name: &str| {
        Value::Global(std::sync::Arc::new((
            crate::pickle::value::PyStr::new("builtins"),
            crate::pickle::value::PyStr::new(name),
        )))
    };
    let d = encode(&dict(vec![(
        s("type_changes"),
        dict(vec![(
            s("root['a']"),
            dict(vec![
                (s("old_type"), ty("list")),
                (s("new_type"), ty("tuple")),
            ]),
        )]),
    )]));
    assert!(apply_checked(&mut n, &d, &mut bound));
}

/// A 1,400-byte delta adding 200 memo references to one 1,000-byte integer: the node grows by
/// 200 KB (integers are not memoized), which the delta's re-encoding counts and its bytes do not.
#[test]
fn memo_references_in_the_delta_are_counted_as_re_encoded() {
    let mut p = P::new();
    let big = p.big_int(1000);
    let list = p.list(&vec![big; 200]);
    let path = p.str("root['l'][0]");
    let entries = p.dict(&[(path, list)]);
    let group = p.str("iterable_item_added");
    let top = p.dict(&[(group, entries)]);
    let d = p.finish(top);
    assert!(d.len() < 1600, "{}", d.len());
    let mut n = dict(vec![(s("l"), Value::list(vec![]))]);
    let mut bound = Some(super::bound::reset(encoded_len(&n, usize::MAX).unwrap()));
    assert!(apply_checked(&mut n, &d, &mut bound));
    assert!(encoded_len(&n, usize::MAX).unwrap() > 200_000);
}

/// Memo renumbering: a string memoized at index 255 and referenced 10,000 times (2-byte
/// `BINGET`s) moves to 256 (5-byte `LONG_BINGET`s) when a 40-byte delta inserts a shared value
/// before it: the node grows 2.3-fold, within the reset factor.
#[test]
fn memo_renumbering_is_within_the_reset_factor() {
    let mut l: Vec<Value> = Vec::new();
    for i in 0..255 {
        let a = s(&format!("a{i}"));
        l.push(a.clone());
        l.push(a);
    }
    let u = s("u");
    l.extend(std::iter::repeat_n(u, 10_000));
    let mut n = dict(vec![(s("l"), Value::list(l))]);
    let before = encoded_len(&n, usize::MAX).unwrap();
    let mut bound = Some(super::bound::reset(before));
    let t = s("t");
    let d = encode(&dict(vec![(
        s("iterable_item_added"),
        dict(vec![(s("root['l'][0]"), Value::list(vec![t.clone(), t]))]),
    )]));
    assert!(d.len() < 80, "{}", d.len());
    assert!(apply_checked(&mut n, &d, &mut bound));
    assert!(encoded_len(&n, usize::MAX).unwrap() > 2 * before);
}
