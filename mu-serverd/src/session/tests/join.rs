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
        assert_eq!(m.kind(), Some(CommandKind::Snapshot));
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
    let acts = h.cmd(&id(2), cmd(CommandKind::Snapshot, "bob", &get_a));
    let d = sends_to(&acts, &id(2))[0].data();
    assert!(matches!(get(&d, "DATA"), Value::Bytes(b) if &b[..] == b"removed"));
}

#[test]
fn done_makes_the_joiner_active_and_online() {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.login(&id(2), "bob", false);
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::Snapshot,
            "bob",
            &sdict(vec![("STATE", s("DONE"))]),
        ),
    );
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

// ---- push-ahead (difference 13) ----

pub(super) fn windowed(nodes: usize, bytes: usize) -> H {
    H::with(crate::session::SessionConfig {
        join_window: crate::session::push::Window { nodes, bytes },
        ..cfg()
    })
}

fn scene(n: usize) -> Vec<(String, Value)> {
    (0..n)
        .map(|i| (format!("n{i:03}"), node_value("n", i as i64)))
        .collect()
}

pub(super) fn host_scene(h: &mut H, n: usize) -> Vec<String> {
    let nodes = scene(n);
    let refs: Vec<(&str, Value)> = nodes.iter().map(|(u, v)| (u.as_str(), v.clone())).collect();
    h.host(&id(1), "host", &refs);
    nodes.into_iter().map(|(u, _)| u).collect()
}

/// The uuid a SET carries (`None` for `b'removed'`).
fn set_uuid(m: &Sent) -> Option<String> {
    match get(&m.data(), "DATA") {
        Value::List(chunks) => match &chunks[1] {
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            other => panic!("uuid chunk {other:?}"),
        },
        Value::Bytes(b) if &b[..] == b"removed" => None,
        other => panic!("DATA {other:?}"),
    }
}

fn start_join(h: &mut H, who: &Identity) -> (Vec<String>, Vec<Sent>) {
    let (catalog, pushed) = catalog_and_pushed(h, who, "bob");
    let catalog = catalog.data();
    let Value::List(items) = get(&catalog, "CATALOG").clone() else {
        panic!("catalog")
    };
    let uuids = items
        .iter()
        .map(|v| v.as_str().expect("uuid").to_owned())
        .collect();
    (uuids, pushed)
}

fn get_frames(uuid: &str) -> Vec<crate::session::io::Frame> {
    cmd(
        CommandKind::Snapshot,
        "bob",
        &sdict(vec![("STATE", s("GET")), ("ID", s(uuid))]),
    )
}

use crate::session::io::Identity;

#[test]
fn sets_are_pushed_in_pop_order_and_each_get_moves_the_window_by_one() {
    let mut h = windowed(3, 1 << 20);
    let all = host_scene(&mut h, 6);
    let (catalog, pushed) = start_join(&mut h, &id(2));
    let mut sorted = catalog.clone();
    sorted.sort();
    assert_eq!(sorted, all);
    let pop: Vec<String> = catalog.iter().rev().cloned().collect();
    let first: Vec<_> = pushed.iter().map(|m| set_uuid(m).expect("node")).collect();
    assert_eq!(first, pop[..3]);
    let mut got = first;
    for (i, u) in pop.iter().enumerate() {
        let more = sends_to(&h.cmd(&id(2), get_frames(u)), &id(2));
        // The GET was answered by the push: at most the next node of the window follows.
        let expect: Vec<String> = pop.get(i + 3).into_iter().cloned().collect();
        let uuids: Vec<String> = more.iter().map(|m| set_uuid(m).expect("node")).collect();
        assert_eq!(uuids, expect, "after GET {i}");
        got.extend(uuids);
    }
    assert_eq!(got, pop, "every node exactly once, in pop order");
    assert_eq!(h.s.joins_in_progress(), 0);
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::Snapshot,
            "bob",
            &sdict(vec![("STATE", s("DONE"))]),
        ),
    );
    assert!(logged(&acts, "bob: user online"));
}

/// The bytes of the INIT message a join starts with, and the SETs pushed with it.
fn init_and_pushed(h: &mut H, who: &Identity) -> (usize, Vec<Sent>) {
    init_and_pushed_as(h, who, "bob")
}

pub(super) fn init_and_pushed_as(h: &mut H, who: &Identity, name: &str) -> (usize, Vec<Sent>) {
    let (init, pushed) = catalog_and_pushed(h, who, name);
    (init.frames.iter().map(|f| f.len()).sum(), pushed)
}

/// Logs `who` in and sends its REQUEST_INIT: the catalog it got, and the SETs pushed with it.
pub(super) fn catalog_and_pushed(h: &mut H, who: &Identity, name: &str) -> (Sent, Vec<Sent>) {
    h.login(who, name, false);
    let mut to = h.request_init(who, name).into_iter();
    let init = to.next().expect("catalog");
    (init, to.collect())
}

#[test]
fn the_byte_budget_limits_the_window() {
    // Each SET counts its frames plus PER_SET_OVERHEAD; the join also holds its pop order (for
    // the whole join) and its INIT message (until the first GET). A budget of what is held plus
    // two SETs (minus one byte) lets two go ahead, the second one passing it; a budget of one
    // byte still lets one go.
    let overhead = crate::session::push::PER_SET_OVERHEAD;
    let mut probe = windowed(10, 1);
    host_scene(&mut probe, 20);
    let (init, one) = init_and_pushed(&mut probe, &id(2));
    assert_eq!(one.len(), 1);
    let set = one[0].frames.iter().map(|f| f.len()).sum::<usize>();
    let cost = set + overhead;
    let uuids: Vec<String> = probe.s.repository().uuids().map(str::to_owned).collect();
    let order = crate::session::push::PopOrder::new(uuids.iter().map(String::as_str));
    let held = order.heap_bytes() + init + overhead;
    let mut h = windowed(10, held + 2 * cost - 1);
    host_scene(&mut h, 20);
    let (_, pushed) = init_and_pushed(&mut h, &id(2));
    assert_eq!(pushed.len(), 2);
    let mut h = windowed(10, held + 2 * cost + 1);
    host_scene(&mut h, 20);
    let (_, pushed) = init_and_pushed(&mut h, &id(2));
    assert_eq!(pushed.len(), 3);
    // The first GET frees the INIT's share: room for that many more bytes of SETs at once.
    let first = set_uuid(&pushed[0]).expect("node");
    let more = sends_to(&h.cmd(&id(2), get_frames(&first)), &id(2));
    // SETs k = 0, 1, ... go while 2 + k SETs and the order fit: k * cost <= init + overhead.
    let expect = (init + overhead) / cost + 1;
    assert!(
        expect >= 2,
        "the INIT ({init}) must be worth a SET ({cost}) for this test"
    );
    assert_eq!(more.len(), expect, "init {init}, cost {cost}");
}

#[test]
fn joiners_at_once_share_the_session_wide_budget() {
    // A ceiling of 20 SETs; all joiners' SETs together at most 4 ceilings: the 16th joiner
    // in progress gets a quarter of a ceiling (5 SETs), the first up to its ceiling.
    let mut probe = windowed(1000, 1);
    host_scene(&mut probe, 60);
    let (_, one) = init_and_pushed(&mut probe, &id(2));
    let cost = one[0].frames.iter().map(|f| f.len()).sum::<usize>()
        + crate::session::push::PER_SET_OVERHEAD;
    let mut h = windowed(1000, 20 * cost);
    host_scene(&mut h, 60);
    let mut pushed = Vec::new();
    for k in 0..16u8 {
        let (_, p) = init_and_pushed_as(&mut h, &id(10 + k), &format!("bob{k}"));
        pushed.push(p.len());
    }
    assert_eq!(h.s.joins_in_progress(), 16);
    let share = 4 * 20 * cost / 16;
    // SETs go while those ahead are below the share: ceil(share / cost).
    assert_eq!(pushed[15], share.div_ceil(cost), "{pushed:?}");
    assert!(pushed[0] > 2 * pushed[15], "{pushed:?}");
}

#[test]
fn a_window_of_zero_answers_one_set_per_get() {
    let mut h = windowed(0, 1 << 20);
    host_scene(&mut h, 3);
    let (catalog, pushed) = start_join(&mut h, &id(2));
    assert!(pushed.is_empty());
    assert_eq!(h.s.joins_in_progress(), 0);
    for u in catalog.iter().rev() {
        let m = sends_to(&h.cmd(&id(2), get_frames(u)), &id(2));
        assert_eq!(m.len(), 1);
        assert_eq!(set_uuid(&m[0]).as_deref(), Some(u.as_str()));
    }
}

#[test]
fn a_get_out_of_pop_order_goes_back_to_one_answer_per_get() {
    let mut h = windowed(2, 1 << 20);
    host_scene(&mut h, 5);
    let (catalog, pushed) = start_join(&mut h, &id(2));
    assert_eq!(pushed.len(), 2);
    // Catalog order, as a hand-made peer might ask.
    for (i, u) in catalog.iter().enumerate() {
        let acts = h.cmd(&id(2), get_frames(u));
        if i == 0 {
            assert!(logged(&acts, "out of the catalog's pop order"));
        }
        let m = sends_to(&acts, &id(2));
        assert_eq!(m.len(), 1, "GET {i} answered once, nothing pushed");
        assert_eq!(set_uuid(&m[0]).as_deref(), Some(u.as_str()));
    }
    assert_eq!(h.s.joins_in_progress(), 0);
}

#[test]
fn a_node_deleted_after_the_catalog_is_pushed_as_removed() {
    let mut h = windowed(2, 1 << 20);
    let all = host_scene(&mut h, 4);
    let (_, pushed) = start_join(&mut h, &id(2));
    assert_eq!(pushed.len(), 2);
    // No dependencies: the pop order is n000, n001, n002, n003; delete n002 before its push.
    h.cmd(&id(1), cmd(CommandKind::Delete, "host", &s(&all[2])));
    assert!(h.s.repository().get(&all[2]).is_none());
    let m = sends_to(&h.cmd(&id(2), get_frames(&all[0])), &id(2));
    let sets: Vec<_> = m
        .iter()
        .filter(|m| m.kind() == Some(CommandKind::Snapshot))
        .collect();
    assert_eq!(sets.len(), 1);
    assert_eq!(set_uuid(sets[0]), None, "pushed as b'removed'");
}

#[test]
fn a_joiner_that_leaves_mid_join_leaves_no_push_state() {
    let mut h = windowed(2, 1 << 20);
    let all = host_scene(&mut h, 5);
    start_join(&mut h, &id(2));
    h.cmd(&id(2), get_frames(&all[0]));
    assert_eq!(h.s.joins_in_progress(), 1);
    // The joiner goes silent (its heartbeat stops) while the host keeps answering.
    let acts = h.advance_answering(10_000, &[id(1)]);
    assert!(logged(&acts, "bob: join abandoned"), "{:?}", logs(&acts));
    assert_eq!(h.s.joins_in_progress(), 0);
    // A later GET from that peer gets nothing pushed (it is not logged in any more).
    let m = sends_to(&h.cmd(&id(2), get_frames(&all[3])), &id(2));
    assert!(m.iter().all(|m| m.kind() != Some(CommandKind::Snapshot)));
}

#[test]
fn the_catalog_lets_the_joiner_pop_dependencies_before_their_dependents() {
    let mut h = windowed(10, 1 << 20);
    h.host(
        &id(1),
        "host",
        &[("a", node_value("a", 1)), ("b", node_value("b", 2))],
    );
    // "0scene" sorts first and depends on both.
    h.data(
        &id(1),
        node_frames("0scene", "COMMON", &["b", "a"], &node_value("s", 0)),
    );
    let (catalog, pushed) = start_join(&mut h, &id(2));
    let pop: Vec<&str> = catalog.iter().rev().map(String::as_str).collect();
    assert_eq!(pop, ["b", "a", "0scene"]);
    let sent: Vec<_> = pushed.iter().map(|m| set_uuid(m).expect("node")).collect();
    assert_eq!(sent, pop);
}
