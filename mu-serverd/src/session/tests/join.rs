//! A client joining a running session (Snapshot REQUEST_INIT/GET/DONE).

use super::harness::*;
use crate::pickle::{decode, Limits, Value};
use crate::session::wire::sdict;

#[test]
fn join_pulls_every_node_as_its_five_frames() {
    let mut h = H::new();
    h.host(
        &id(1),
        "host",
        &[("a", node_value("a", 1)), ("b", node_value("b", 2))],
    );
    let got = h.join(&id(2), "bob");
    assert_eq!(got.len(), 2);
    for m in &got {
        assert_eq!(m.type_num(), 7);
        let d = m.data();
        assert_eq!(get(&d, "STATE").as_str(), Some("SET"));
        let Value::List(chunks) = get(&d, "DATA") else {
            panic!("DATA")
        };
        assert_eq!(chunks.len(), 5);
        let Value::Bytes(data) = &chunks[4] else {
            panic!("bytes")
        };
        let v = decode(data, &Limits::default()).expect("node data");
        assert!(matches!(get(&v, "x"), Value::Int(1 | 2)));
    }
}

#[test]
fn get_of_a_deleted_node_answers_removed() {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.login(&id(2), "bob", false);
    let get_a = sdict(vec![("STATE", s("GET")), ("ID", s("gone"))]);
    let acts = h.cmd(&id(2), cmd(7, "bob", &get_a));
    let d = sends_to(&acts, &id(2))[0].data();
    assert!(matches!(get(&d, "DATA"), Value::Bytes(b) if &b[..] == b"removed"));
}

#[test]
fn done_makes_the_joiner_active_and_online() {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.login(&id(2), "bob", false);
    let acts = h.cmd(&id(2), cmd(7, "bob", &sdict(vec![("STATE", s("DONE"))])));
    assert!(logged(&acts, "bob: user online"));
    let to_host = sends_to(&acts, &id(1));
    assert_eq!(int(get(get(&to_host[0].data(), "bob"), "status")), 2);
}

#[test]
fn a_join_after_a_commit_gets_the_patched_value() {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.data(
        &id(1),
        commit_frames("a", &[], &set_delta("x", Value::Int(41))),
    );
    assert!(h.s.repository().get("a").expect("node").is_stale());
    let got = h.join(&id(2), "bob");
    let Value::List(chunks) = get(&got[0].data(), "DATA").clone() else {
        panic!()
    };
    let Value::Bytes(data) = &chunks[4] else {
        panic!()
    };
    let v = decode(data, &Limits::default()).expect("data");
    assert_eq!(int(get(&v, "x")), 41);
    assert!(!h.s.repository().get("a").expect("node").is_stale());
}
