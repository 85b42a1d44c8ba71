//! The data channel: store, journal, relay shared frames; refuse what deepdiff or the policy
//! would refuse.

use super::harness::*;
use crate::pickle::{decode, Limits, Value};
use crate::session::io::{Action, Change, Channel};
use crate::session::wire::sdict;
use std::sync::Arc;

/// host (1) with node "a", bob (2) and carol (3) joined.
fn three() -> H {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.join(&id(2), "bob");
    h.join(&id(3), "carol");
    h
}

#[test]
fn node_is_relayed_to_everyone_but_the_sender_as_the_same_bytes() {
    let mut h = three();
    let frames = node_frames("n", "COMMON", &[], &node_value("n", 5));
    let acts = h.data(&id(2), frames.clone());
    let out = sends(&acts);
    assert_eq!(out.len(), 2);
    for m in &out {
        assert_eq!(m.ch, Channel::Data);
        assert_ne!(m.to, id(2));
        // no copy per recipient: the very same allocation is forwarded
        assert!(m.frames.iter().zip(&frames).all(|(a, b)| Arc::ptr_eq(a, b)));
    }
    // and stored (sharing the bytes too)
    let stored =
        h.s.repository()
            .iter()
            .find(|n| n.uuid == "n")
            .expect("stored")
            .data;
    assert!(Arc::ptr_eq(&stored, &frames[4]));
}

#[test]
fn persist_comes_before_the_relay() {
    let mut h = three();
    let acts = h.data(
        &id(2),
        commit_frames("a", &["b"], &set_delta("x", Value::Int(7))),
    );
    let p = acts
        .iter()
        .position(|a| matches!(a, Action::Persist(Change::CommitApplied { .. })));
    let s = acts.iter().position(|a| matches!(a, Action::Send { .. }));
    assert!(p.is_some() && p < s, "{acts:?}");
}

/// The journal learns who sends the changes (issue 20's history) once per change of sender,
/// just before the change: not once per relayed message.
#[test]
fn the_sender_is_named_only_when_it_changes() {
    let mut h = three();
    let senders = |acts: &[Action]| -> Vec<Option<String>> {
        acts.iter()
            .filter_map(|a| match a {
                Action::PersistSender(w) => Some(w.clone()),
                _ => None,
            })
            .collect()
    };
    let bob = h.data(&id(2), node_frames("n", "COMMON", &[], &node_value("n", 5)));
    assert_eq!(senders(&bob), vec![Some("bob".to_string())]);
    let named = bob
        .iter()
        .position(|a| matches!(a, Action::PersistSender(_)));
    let persisted = bob.iter().position(|a| matches!(a, Action::Persist(_)));
    assert!(named.is_some() && named < persisted, "{bob:?}");
    let again = h.data(&id(2), node_frames("n", "COMMON", &[], &node_value("n", 6)));
    assert_eq!(senders(&again), Vec::<Option<String>>::new());
    assert_eq!(persisted_of(&again), 1);
    let carol = h.data(&id(3), node_frames("m", "COMMON", &[], &node_value("m", 7)));
    assert_eq!(senders(&carol), vec![Some("carol".to_string())]);
}

fn persisted_of(acts: &[Action]) -> usize {
    acts.iter()
        .filter(|a| matches!(a, Action::Persist(_)))
        .count()
}

#[test]
fn node_update_keeps_the_stored_owner() {
    let mut h = three();
    h.cmd(
        &id(2),
        cmd(
            CommandKind::Right,
            "bob",
            &sdict(vec![
                ("uuid", Value::list(vec![s("a")])),
                ("owner", s("bob")),
            ]),
        ),
    );
    h.data(
        &id(2),
        node_frames("a", "someone", &[], &node_value("a", 9)),
    );
    assert_eq!(h.s.repository().get("a").expect("a").owner, "bob");
}

#[test]
fn commit_is_applied_with_the_delta_engine() {
    let mut h = three();
    let acts = h.data(
        &id(2),
        commit_frames("a", &["dep"], &set_delta("x", Value::Int(7))),
    );
    assert_eq!(sends(&acts).len(), 2);
    let n = h.s.repository().iter().find(|n| n.uuid == "a").expect("a");
    let v = decode(&n.data, &Limits::default()).expect("data");
    assert_eq!(int(get(&v, "x")), 7);
    assert_eq!(
        h.s.repository().get("a").expect("a").deps(),
        Some(&["dep".to_owned()][..])
    );
}

#[test]
fn commit_deepdiff_would_refuse_is_neither_stored_nor_relayed() {
    let mut h = three();
    // a delta that is not a dict of groups
    let acts = h.data(&id(2), commit_frames("a", &[], &Value::list(vec![])));
    assert!(sends(&acts).is_empty());
    assert!(persisted(&acts).is_empty());
    assert!(logged(&acts, "refused"));
    // a delta naming a global deepdiff never writes (difference 2)
    let evil = sdict(vec![(
        "values_changed",
        sdict(vec![(
            "root['x']",
            sdict(vec![("new_value", Value::global("os", "system"))]),
        )]),
    )]);
    let acts = h.data(&id(2), commit_frames("a", &[], &evil));
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "bob"));
    // a commit for an unknown node
    let acts = h.data(
        &id(2),
        commit_frames("zz", &[], &set_delta("x", Value::Int(1))),
    );
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "unknown node zz"));
    let v = decode(
        &h.s.repository().iter().next().expect("a").data,
        &Limits::default(),
    )
    .expect("v");
    assert_eq!(int(get(&v, "x")), 1);
}

#[test]
fn node_that_would_run_code_is_refused_with_the_user_named() {
    let mut h = three();
    let mut frames = node_frames("evil", "COMMON", &[], &node_value("e", 1));
    frames[4] = Arc::from(
        &b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94."[..],
    );
    let acts = h.data(&id(2), frames);
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "bob ("));
    assert!(h.s.repository().get("evil").is_none());
}

#[test]
fn data_from_an_identity_not_logged_in_is_dropped() {
    let mut h = three();
    let acts = h.data(
        &id(66),
        node_frames("a", "COMMON", &[], &node_value("x", 0)),
    );
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "not logged in"));
}

#[test]
fn update_of_a_node_locked_by_someone_else_is_dropped() {
    let mut h = three();
    h.cmd(
        &id(1),
        cmd(
            CommandKind::Right,
            "host",
            &sdict(vec![
                ("uuid", Value::list(vec![s("a")])),
                ("owner", s("host")),
            ]),
        ),
    );
    let acts = h.data(&id(2), node_frames("a", "COMMON", &[], &node_value("x", 0)));
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "owned by host"));
    let acts = h.data(
        &id(2),
        commit_frames("a", &[], &set_delta("x", Value::Int(3))),
    );
    assert!(sends(&acts).is_empty());
    // the owner itself may
    let acts = h.data(
        &id(1),
        commit_frames("a", &[], &set_delta("x", Value::Int(3))),
    );
    assert_eq!(sends(&acts).len(), 2);
}

#[test]
fn malformed_data_messages_are_refused() {
    let mut h = three();
    for frames in [
        vec![],
        vec![tframe(2)],
        vec![Arc::from(&b"PING"[..])],
        vec![tframe(99), Arc::from(&b"x"[..])],
        vec![
            kframe(CommandKind::Auth),
            Arc::from(&b"bob"[..]),
            pk(&s("x")),
        ],
        vec![
            tframe(1),
            Arc::from(&b"a"[..]),
            pk(&Value::Int(3)),
            pk(&set_delta("x", Value::Int(1))),
        ],
        vec![
            tframe(2),
            Arc::from(&b"\xff"[..]),
            Arc::from(&b"o"[..]),
            deps(&[]),
            pk(&Value::None),
        ],
    ] {
        let acts = h.data(&id(2), frames);
        assert!(sends(&acts).is_empty());
        assert!(logged(&acts, "refused"));
    }
}

#[test]
fn an_idle_node_goes_back_to_its_pickle_bytes() {
    let mut h = three();
    h.data(
        &id(2),
        commit_frames("a", &[], &set_delta("x", Value::Int(7))),
    );
    assert!(h.s.repository().is_decoded("a"));
    assert!(h.s.repository().get("a").expect("a").is_stale());
    // still being edited: stays decoded
    h.advance_answering(5000, &[id(1), id(2), id(3)]);
    h.data(
        &id(2),
        commit_frames("a", &[], &set_delta("x", Value::Int(8))),
    );
    h.advance_answering(6000, &[id(1), id(2), id(3)]);
    assert!(h.s.repository().is_decoded("a"));
    // idle for 10 s: re-encoded, value dropped, same content
    h.advance_answering(5000, &[id(1), id(2), id(3)]);
    let repo = h.s.repository();
    assert!(!repo.is_decoded("a") && !repo.get("a").expect("a").is_stale());
    let v = decode(&repo.iter().next().expect("a").data, &Limits::default()).expect("v");
    assert_eq!(int(get(&v, "x")), 8);
    // the next Commit decodes it again
    let acts = h.data(
        &id(2),
        commit_frames("a", &[], &set_delta("x", Value::Int(9))),
    );
    assert_eq!(sends(&acts).len(), 2);
}
