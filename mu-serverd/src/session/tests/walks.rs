//! The hostile messages of issue 14, item 1 and 2, through the session core: small pickles
//! whose memo references make huge trees, and huge integers. Each is refused with one log line
//! naming the sender, nothing is stored or relayed, and the sender and the others carry on.

use super::harness::*;
use crate::pickle::{decode, Limits, Value};
use crate::session::io::Frame;
use crate::walk_tests::dag::P;
use std::sync::Arc;

/// Host with node "a" = `node` (a raw pickle), bob joined.
fn session_with(node: &[u8]) -> H {
    let v = decode(node, &Limits::default()).expect("node pickle");
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", v)]);
    h.join(&id(2), "bob");
    h
}

fn raw_commit(delta: Vec<u8>) -> Vec<Frame> {
    vec![tframe(1), Arc::from(&b"a"[..]), deps(&[]), Arc::from(delta)]
}

fn stored(h: &H) -> Value {
    let n = h.s.repository().iter().find(|n| n.uuid == "a").expect("a");
    decode(&n.data, &Limits::default()).expect("stored")
}

/// The refusal is logged once, names bob, and nothing was sent or persisted; then an ordinary
/// commit from bob still goes through.
fn refused_then_bob_carries_on(h: &mut H, acts: &[crate::session::io::Action], why: &str) {
    let lines = logs(acts);
    assert!(sends(acts).is_empty(), "relayed: {lines:?}");
    assert!(persisted(acts).is_empty(), "stored: {lines:?}");
    let hits: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("bob") && l.contains(why))
        .collect();
    assert_eq!(hits.len(), 1, "{lines:?}");
    let add = sdict_one(
        "dictionary_item_added",
        sdict_one("root['ok']", Value::Int(1)),
    );
    let acts = h.data(&id(2), commit_frames("a", &[], &add));
    assert_eq!(sends(&acts).len(), 1, "{:?}", logs(&acts));
    assert_eq!(int(get(&stored(h), "ok")), 1);
}

fn plain_node() -> Vec<u8> {
    let mut p = P::new();
    let x = p.int(1);
    let l = p.list(&[x]);
    let s = p.set(&[x]);
    let top = p.sdict(&[("x", x), ("l", l), ("s", s)]);
    p.finish(top)
}

#[test]
fn metadata_keys_that_are_memo_dags_are_refused_without_a_stall() {
    let mut h = session_with(&plain_node());
    let mut p = P::new();
    let (a, b) = (p.str("k"), p.str("k"));
    let (ka, kb) = (p.chain(a, 40), p.chain(b, 40));
    let one = p.int(1);
    let top = p.dict(&[(ka, one), (kb, one)]);
    let data = p.finish(top);
    assert!(data.len() < 1200, "{}", data.len());
    let frames = vec![
        kframe(CommandKind::UpdateUserMetadata),
        Arc::from(&b"bob"[..]),
        Arc::from(data),
    ];
    let acts = h.cmd(&id(2), frames);
    assert!(sends(&acts).is_empty(), "{:?}", logs(&acts));
    assert!(
        logged(&acts, "UpdateUserMetadata from bob"),
        "{:?}",
        logs(&acts)
    );
    assert!(logged(&acts, "work budget"));
    // bob is still there and an ordinary update is merged and forwarded
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::UpdateUserMetadata,
            "bob",
            &sdict_one("color", s("red")),
        ),
    );
    assert_eq!(sends(&acts).len(), 1, "{:?}", logs(&acts));
}

fn sdict_one(k: &str, v: Value) -> Value {
    crate::session::wire::sdict(vec![(k, v)])
}

/// `{group: {path: value}}` with the value a 40-level chain.
fn dag_delta(group: &str, path: &str, wrap_in_set: bool) -> Vec<u8> {
    let mut p = P::new();
    let leaf = p.int(1);
    let mut v = p.chain(leaf, 40);
    if wrap_in_set {
        v = p.set(&[v]);
    }
    let inner = p.sdict(&[(path, v)]);
    let top = p.sdict(&[(group, inner)]);
    p.finish(top)
}

#[test]
fn commit_set_item_added_of_a_memo_dag_is_refused() {
    // The stored set holds one chain too: adding another equal chain hashes and compares them.
    let mut p = P::new();
    let leaf = p.int(1);
    let c = p.chain(leaf, 40);
    let s = p.set(&[c]);
    let top = p.sdict(&[("s", s)]);
    let mut h = session_with(&p.finish(top));
    let delta = dag_delta("set_item_added", "root['s']", true);
    assert!(delta.len() < 700, "{}", delta.len());
    let acts = h.data(&id(2), raw_commit(delta));
    refused_then_bob_carries_on(&mut h, &acts, "too costly");
}

#[test]
fn commit_iterable_item_removed_of_a_memo_dag_is_refused() {
    let mut p = P::new();
    let leaf = p.int(1);
    let c = p.chain(leaf, 40);
    let l = p.list(&[c]);
    let top = p.sdict(&[("l", l)]);
    let mut h = session_with(&p.finish(top));
    let acts = h.data(
        &id(2),
        raw_commit(dag_delta("iterable_item_removed", "root['l'][0]", false)),
    );
    refused_then_bob_carries_on(&mut h, &acts, "too costly");
}

/// `{'type_changes': {path: {'old_type': old, 'new_type': new}}}`, no `new_value`.
fn type_change(path: &str, old: &str, new: &str) -> Vec<u8> {
    let mut p = P::new();
    let (o, n) = (p.builtin(old), p.builtin(new));
    let e = p.sdict(&[("old_type", o), ("new_type", n)]);
    let g = p.sdict(&[(path, e)]);
    let top = p.sdict(&[("type_changes", g)]);
    p.finish(top)
}

#[test]
fn str_of_a_node_of_shared_references_is_refused_not_built() {
    let mut p = P::new();
    let leaf = p.str("abcdefgh");
    let c = p.chain(leaf, 40);
    let l = p.list(&[c]);
    let top = p.sdict(&[("l", l)]);
    let node = p.finish(top);
    assert!(node.len() < 500, "{}", node.len());
    let mut h = session_with(&node);
    let delta = type_change("root['l']", "list", "str");
    assert!(delta.len() < 120, "{}", delta.len());
    let acts = h.data(&id(2), raw_commit(delta));
    refused_then_bob_carries_on(&mut h, &acts, "refused");
}

/// deepdiff raises for both: `str(n)` passes 4,300 digits, and so does formatting the value
/// into the message of the failed `float(n)` (OverflowError first).
#[test]
fn a_megabyte_integer_converted_to_str_or_float_fails_as_in_deepdiff() {
    for new in ["str", "float"] {
        let mut p = P::new();
        let big = p.big_int(1 << 20);
        let top = p.sdict(&[("x", big)]);
        let mut h = session_with(&p.finish(top));
        let acts = h.data(&id(2), raw_commit(type_change("root['x']", "int", new)));
        refused_then_bob_carries_on(&mut h, &acts, "ValueError");
    }
}
