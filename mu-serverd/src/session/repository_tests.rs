//! A Commit whose delta deepdiff raises on after some of its writes leaves the stored node as it
//! was, byte for byte, in every state the node can be in (never decoded, decoded and current,
//! decoded and stale); a good Commit edits the decoded value without copying it. Also: which
//! changes move the repository's shape (the INIT catalog's cache key).

use super::{ApplyError, Repository};
use crate::pickle::{decode, encode, Limits, Value};
use crate::session::io::{Change, Frame};
use std::sync::Arc;

fn s(x: &str) -> Value {
    Value::str(x)
}

fn group(name: &str, entries: Vec<(&str, Value)>) -> (Value, Value) {
    (
        s(name),
        Value::dict(entries.into_iter().map(|(p, v)| (s(p), v)).collect()),
    )
}

fn new_value(v: Value) -> Value {
    Value::dict(vec![(s("new_value"), v)])
}

fn node() -> Value {
    let co = (0..8000).map(|i| Value::Float(i as f64 * 0.25)).collect();
    Value::dict(vec![(s("name"), s("Mesh")), (s("co"), Value::list(co))])
}

fn store(repo: &mut Repository, data: &Value) -> Frame {
    let data: Frame = Arc::from(encode(data));
    repo.apply_change(&Change::NodeStored {
        uuid: "n".into(),
        owner: "alice".into(),
        deps: crate::objects::write_deps(&None),
        data: data.clone(),
    })
    .expect("stored");
    data
}

fn commit(repo: &mut Repository, delta: Vec<(Value, Value)>) -> Result<(), ApplyError> {
    repo.apply_change(&Change::CommitApplied {
        uuid: "n".into(),
        deps: crate::objects::write_deps(&Some(vec!["other".into()])),
        delta: Arc::from(encode(&Value::dict(delta))),
    })
}

/// Changes co[3] and name, then raises like deepdiff (KeyError: 'new_value'), then would have
/// changed co[4].
fn failing_halfway() -> Vec<(Value, Value)> {
    vec![group(
        "values_changed",
        vec![
            ("root['co'][3]", new_value(Value::Float(-1.0))),
            ("root['name']", new_value(s("Broken"))),
            ("root['co'][7]", Value::dict(vec![])),
            ("root['co'][4]", new_value(Value::Float(-2.0))),
        ],
    )]
}

fn good(i: usize, x: f64) -> Vec<(Value, Value)> {
    vec![group(
        "values_changed",
        vec![(&format!("root['co'][{i}]"), new_value(Value::Float(x)))],
    )]
}

/// The node's current bytes without caching them.
fn current(repo: &Repository) -> Vec<u8> {
    repo.iter().next().expect("node").data.to_vec()
}

fn refused(r: Result<(), ApplyError>) {
    match r {
        Err(ApplyError::BadDelta(e)) => assert!(e.contains("KeyError"), "{e}"),
        other => panic!("expected the delta to be refused, got {other:?}"),
    }
}

#[test]
fn failing_commit_on_a_node_never_decoded_changes_nothing() {
    let mut repo = Repository::new(Limits::default());
    let data = store(&mut repo, &node());
    let deps = repo.get("n").expect("n").deps_bytes().clone();
    refused(commit(&mut repo, failing_halfway()));
    assert!(
        !repo.is_decoded("n"),
        "a value decoded for the failed Commit is dropped"
    );
    assert!(!repo.get("n").expect("n").is_stale());
    let now = repo.fresh_data("n").expect("n");
    assert!(Arc::ptr_eq(&now, &data), "the stored frame itself is kept");
    assert_eq!(repo.get("n").expect("n").deps_bytes(), &deps);
}

#[test]
fn failing_commit_on_a_decoded_node_restores_it_byte_for_byte() {
    let mut repo = Repository::new(Limits::default());
    store(&mut repo, &node());
    commit(&mut repo, good(10, 99.5)).expect("good commit");
    // decoded and current: the cached bytes are those of the value after the good Commit
    let cached = repo.fresh_data("n").expect("n");
    let deps = repo.get("n").expect("n").deps_bytes().clone();
    refused(commit(&mut repo, failing_halfway()));
    assert!(repo.is_decoded("n"));
    assert!(!repo.get("n").expect("n").is_stale(), "still current");
    assert_eq!(repo.fresh_data("n").expect("n"), cached);
    assert_eq!(repo.get("n").expect("n").deps_bytes(), &deps);
    // and the kept value really is that one (re-encoded, not the cached bytes)
    assert!(current(&repo) == cached.to_vec());

    // decoded and stale (a Commit since the last encode)
    commit(&mut repo, good(11, 7.0)).expect("good commit");
    let before = current(&repo);
    refused(commit(&mut repo, failing_halfway()));
    assert!(repo.get("n").expect("n").is_stale());
    assert!(current(&repo) == before, "the value changed");
    let v = decode(&before, &Limits::default()).expect("decodes");
    let Some(Value::List(co)) = v.get_str_key("co") else {
        panic!("co");
    };
    assert!(co[3].strict_eq(&Value::Float(0.75)) && co[11].strict_eq(&Value::Float(7.0)));
    assert_eq!(v.get_str_key("name").and_then(Value::as_str), Some("Mesh"));
}

#[test]
fn good_commits_edit_the_decoded_value_in_place() {
    let mut repo = Repository::new(Limits::default());
    store(&mut repo, &node());
    commit(&mut repo, good(1, 1.5)).expect("decodes and applies");
    let list_ptr = |repo: &Repository| match repo.get("n").and_then(|n| n.value.as_ref()) {
        Some(v) => match v.get_str_key("co") {
            Some(Value::List(x)) => Arc::as_ptr(x),
            _ => panic!("co"),
        },
        None => panic!("not decoded"),
    };
    let before = list_ptr(&repo);
    for i in 0..20 {
        commit(&mut repo, good(i, i as f64)).expect("commit");
        refused(commit(&mut repo, failing_halfway()));
    }
    assert_eq!(list_ptr(&repo), before, "the 8,000-float list was copied");
    let v = decode(&repo.fresh_data("n").expect("n"), &Limits::default()).expect("v");
    let Some(Value::List(co)) = v.get_str_key("co") else {
        panic!("co");
    };
    assert!(co[19].strict_eq(&Value::Float(19.0)) && co[20].strict_eq(&Value::Float(5.0)));
}

/// Recomputes the byte total from the nodes.
fn recount(repo: &Repository) -> u64 {
    repo.uuids()
        .map(|u| repo.get(u).expect("node").accounted_bytes())
        .sum()
}

fn put(repo: &mut Repository, uuid: &str, deps: Option<Vec<String>>, v: &Value) {
    repo.apply_change(&Change::NodeStored {
        uuid: uuid.into(),
        owner: "alice".into(),
        deps: crate::objects::write_deps(&deps),
        data: Arc::from(encode(v)),
    })
    .expect("stored");
}

/// The session's byte total (what `max_session_bytes` is checked against) follows every kind
/// of change: new nodes, updates, Commits (counted by their delta bytes until the node is
/// encoded again), deletes that rewrite other nodes' dependencies, re-encoding, reset.
#[test]
fn byte_total_follows_every_change() {
    let mut repo = Repository::new(Limits::default());
    let small = Value::dict(vec![(s("name"), s("a"))]);
    put(&mut repo, "n", None, &node());
    put(&mut repo, "a", Some(vec!["n".into(), "b".into()]), &small);
    put(&mut repo, "b", Some(vec!["b".into()]), &small);
    assert_eq!(repo.stored_bytes(), recount(&repo));
    put(&mut repo, "a", None, &node());
    assert_eq!(repo.stored_bytes(), recount(&repo));
    let before = repo.stored_bytes();
    let delta = vec![group(
        "values_changed",
        vec![("root['name']", new_value(s("Renamed")))],
    )];
    let delta: Frame = Arc::from(encode(&Value::dict(delta)));
    let delta_len = delta.len() as u64;
    repo.apply_change(&Change::CommitApplied {
        uuid: "n".into(),
        deps: crate::objects::write_deps(&Some(vec!["other".into()])),
        delta,
    })
    .expect("commit");
    let deps_growth = crate::objects::write_deps(&Some(vec!["other".into()])).len() as u64
        - crate::objects::write_deps(&None).len() as u64;
    assert_eq!(repo.stored_bytes(), before + delta_len + deps_growth);
    assert_eq!(repo.stored_bytes(), recount(&repo));
    repo.settle("n");
    assert_eq!(repo.stored_bytes(), recount(&repo));
    assert!(repo.stored_bytes() < before + delta_len + deps_growth);
    repo.apply_change(&Change::NodeDeleted { uuid: "b".into() })
        .expect("deleted");
    assert_eq!(repo.stored_bytes(), recount(&repo));
    repo.apply_change(&Change::NodeDeleted { uuid: "n".into() })
        .expect("deleted");
    assert_eq!(repo.stored_bytes(), recount(&repo));
    assert_eq!(repo.len(), 1);
    repo.apply_change(&Change::Reset).expect("reset");
    assert_eq!(repo.stored_bytes(), 0);
}

/// Issue 14: a Commit may not grow a node past what the session accepts as a pickle
/// (`max_message_bytes`, which is `Limits::max_input`): it is refused like any other delta that
/// cannot be applied, nothing changes, and the node stays one the server can decode and send.
#[test]
fn commit_that_would_grow_a_node_past_the_message_cap_is_refused() {
    const CAP: usize = 4096;
    let limits = Limits {
        max_input: CAP,
        ..Limits::default()
    };
    let mut repo = Repository::new(limits);
    let small = Value::dict(vec![(s("name"), s("Cube"))]);
    store(&mut repo, &small);
    let add = |key: &str| {
        vec![group(
            "dictionary_item_added",
            vec![(&format!("root['{key}']"), s(&"x".repeat(1500)))],
        )]
    };
    commit(&mut repo, add("a")).expect("3 KB fits");
    commit(&mut repo, add("b")).expect("the second 1.5 KB fits");
    let before = current(&repo);
    assert!(
        before.len() <= CAP && before.len() > CAP - 1500,
        "{}",
        before.len()
    );
    match commit(&mut repo, add("c")) {
        Err(ApplyError::BadDelta(e)) => {
            assert!(e.contains("too large") && e.contains("4096"), "{e}")
        }
        other => panic!("expected the Commit to be refused, got {other:?}"),
    }
    assert_eq!(current(&repo), before, "the refused Commit changed nothing");
    let now = repo.fresh_data("n").expect("n");
    assert!(now.len() <= CAP);
    decode(&now, &limits).expect("the node still decodes under the session's limits");
    // Shrinking it again is fine.
    let shrink = vec![group(
        "dictionary_item_removed",
        vec![("root['a']", s(&"x".repeat(1500)))],
    )];
    commit(&mut repo, shrink).expect("a smaller node");
    commit(&mut repo, add("c")).expect("fits again");
}

#[test]
fn the_shape_changes_with_the_uuids_and_dependencies_only() {
    let mut repo = Repository::new(Limits::default());
    let empty = repo.shape();
    store(&mut repo, &node());
    let stored = repo.shape();
    assert_ne!(stored, empty, "a new node");
    store(&mut repo, &s("other data"));
    repo.apply_change(&Change::OwnersChanged {
        uuids: vec!["n".into()],
        owner: "bob".into(),
    })
    .expect("owners");
    assert_eq!(repo.shape(), stored, "data and owner only");
    let set_name = || vec![group("values_changed", vec![("root", new_value(s("x")))])];
    commit(&mut repo, set_name()).expect("commit");
    let committed = repo.shape();
    assert_ne!(
        committed, stored,
        "the Commit brought dependencies ['other']"
    );
    commit(&mut repo, set_name()).expect("commit");
    assert_eq!(repo.shape(), committed, "the same dependencies again");
}
