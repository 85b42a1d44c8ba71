//! The repository as journal replay sees it: replaying the persisted changes of a live session
//! rebuilds the same nodes.

use super::harness::*;
use crate::pickle::{Limits, Value};
use crate::session::io::Change;
use crate::session::wire::sdict;
use crate::session::{ApplyError, Repository};

#[test]
fn replaying_persisted_changes_rebuilds_the_same_repository() {
    let mut h = H::new();
    h.host(
        &id(1),
        "host",
        &[("a", node_value("a", 1)), ("b", node_value("b", 2))],
    );
    h.join(&id(2), "bob");
    h.data(
        &id(2),
        commit_frames("a", &["b"], &set_delta("x", Value::Int(5))),
    );
    h.data(
        &id(1),
        node_frames("c", "host", &["a"], &node_value("c", 3)),
    );
    h.cmd(
        &id(2),
        cmd(
            5,
            "bob",
            &sdict(vec![
                ("uuid", Value::list(vec![s("b")])),
                ("owner", s("bob")),
            ]),
        ),
    );
    h.cmd(&id(2), cmd(4, "client", &s("b")));
    let changes = persisted(&h.actions);
    assert!(changes.len() >= 7);
    let mut replay = Repository::new(Limits::default());
    for c in &changes {
        replay.apply_change(c).expect("replay");
    }
    let live: Vec<_> =
        h.s.repository()
            .iter()
            .map(|n| {
                (
                    n.uuid.to_owned(),
                    n.owner.to_owned(),
                    n.deps.to_vec(),
                    n.data.to_vec(),
                )
            })
            .collect();
    let again: Vec<_> = replay
        .iter()
        .map(|n| {
            (
                n.uuid.to_owned(),
                n.owner.to_owned(),
                n.deps.to_vec(),
                n.data.to_vec(),
            )
        })
        .collect();
    assert_eq!(live, again);
    assert_eq!(replay.state(), h.s.state());
    // deleting b removed it from a's dependencies
    assert_eq!(replay.get("a").expect("a").deps(), Some(&[][..]));
}

#[test]
fn failed_change_modifies_nothing() {
    let mut r = Repository::new(Limits::default());
    let e = r.apply_change(&Change::CommitApplied {
        uuid: "zz".into(),
        deps: deps(&[]),
        delta: pk(&set_delta("x", Value::Int(1))),
    });
    assert_eq!(e, Err(ApplyError::UnknownNode("zz".into())));
    r.apply_change(&Change::NodeStored {
        uuid: "a".into(),
        owner: "COMMON".into(),
        deps: deps(&[]),
        data: pk(&node_value("a", 1)),
    })
    .expect("store");
    let before = r.iter().next().expect("a").data.to_vec();
    assert!(r
        .apply_change(&Change::CommitApplied {
            uuid: "a".into(),
            deps: deps(&[]),
            delta: pk(&Value::Int(3)),
        })
        .is_err());
    assert_eq!(r.iter().next().expect("a").data.to_vec(), before);
    assert!(!r.get("a").expect("a").is_stale());
}
