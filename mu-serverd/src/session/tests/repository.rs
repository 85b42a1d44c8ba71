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
            CommandKind::Right,
            "bob",
            &sdict(vec![
                ("uuid", Value::list(vec![s("b")])),
                ("owner", s("bob")),
            ]),
        ),
    );
    h.cmd(&id(2), cmd(CommandKind::Delete, "client", &s("b")));
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

/// A stored node updated again: unchanged dependency bytes keep their parsed list, changed ones
/// are parsed again, and an update whose dependencies do not parse changes nothing (owner, data,
/// dependencies), as for a node stored the first time.
#[test]
fn node_updates_reparse_changed_dependencies_and_fail_whole() {
    type Seen = (String, Option<Vec<String>>, Vec<u8>, Vec<u8>);
    fn store(
        r: &mut Repository,
        owner: &str,
        deps: crate::session::io::Frame,
        x: i64,
    ) -> Result<(), ApplyError> {
        r.apply_change(&Change::NodeStored {
            uuid: "a".into(),
            owner: owner.into(),
            deps,
            data: pk(&node_value("a", x)),
        })
    }
    fn seen(r: &Repository) -> Seen {
        let n = r.get("a").expect("a");
        let stored = r.iter().next().expect("a");
        let (deps, data) = (stored.deps.to_vec(), stored.data.to_vec());
        (
            n.owner.clone(),
            n.deps().map(<[String]>::to_vec),
            deps,
            data,
        )
    }
    let list = |d: &[&str]| Some(d.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let mut r = Repository::new(Limits::default());
    store(&mut r, "alice", deps(&["b"]), 1).expect("first");
    assert_eq!(seen(&r).1, list(&["b"]));
    store(&mut r, "alice", deps(&["b"]), 2).expect("same dependencies");
    assert_eq!(seen(&r).1, list(&["b"]));
    assert_eq!(seen(&r).3, pk(&node_value("a", 2)).to_vec());
    // Other dependencies of the same length in bytes.
    store(&mut r, "alice", deps(&["x"]), 2).expect("other dependencies");
    assert_eq!(seen(&r).1, list(&["x"]));
    store(&mut r, "bob", deps(&["c", "d"]), 3).expect("new dependencies");
    assert_eq!(seen(&r).0, "bob");
    assert_eq!(seen(&r).1, list(&["c", "d"]));
    store(&mut r, "bob", pk(&Value::None), 4).expect("no dependencies");
    assert_eq!(seen(&r).1, None);
    let before = seen(&r);
    let bad: crate::session::io::Frame = std::sync::Arc::from(&b"not a pickle"[..]);
    assert!(matches!(
        store(&mut r, "carol", bad, 5),
        Err(ApplyError::BadDeps(_))
    ));
    assert_eq!(seen(&r), before);
}
