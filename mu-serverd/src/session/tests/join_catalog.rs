//! The INIT catalog is built once per shape of the repository and shared by the joiners that
//! ask while it holds (issue 16: twenty joiners at once cost one build, not twenty), and every
//! joiner still gets the catalog of the scene as it is at its own REQUEST_INIT.

use super::harness::*;
use super::join::{catalog_and_pushed, host_scene};
use crate::objects::CommandKind;
use crate::pickle::Value;
use crate::session::io::Identity;

/// Logs `who` in, sends its REQUEST_INIT and returns the catalog message it got.
fn catalog_for(h: &mut H, who: &Identity, name: &str) -> Sent {
    catalog_and_pushed(h, who, name).0
}

fn uuids(m: &Sent) -> Vec<String> {
    let Value::List(items) = get(&m.data(), "CATALOG").clone() else {
        panic!("CATALOG is not a list");
    };
    items
        .iter()
        .map(|u| u.as_str().expect("uuid").to_owned())
        .collect()
}

/// The catalog of a scene without dependencies: the client pops from the end, the server
/// lists uuids in reverse order so that they are popped in uuid order.
fn reversed(list: &[&str]) -> Vec<String> {
    list.iter().rev().map(|u| u.to_string()).collect()
}

fn same_bytes(a: &Sent, b: &Sent) -> bool {
    a.frames.len() == b.frames.len()
        && a.frames
            .iter()
            .zip(&b.frames)
            .all(|(x, y)| std::sync::Arc::ptr_eq(x, y))
}

#[test]
fn joiners_share_one_catalog_until_the_scene_changes_shape() {
    let mut h = H::new();
    host_scene(&mut h, 3);
    let first = catalog_for(&mut h, &id(10), "j0");
    assert_eq!(uuids(&first), reversed(&["n000", "n001", "n002"]));

    // Data and owner changes keep the shape: the next joiner gets the very same frames.
    h.data(
        &id(1),
        node_frames("n001", "host", &[], &node_value("n", 41)),
    );
    let second = catalog_for(&mut h, &id(11), "j1");
    assert!(same_bytes(&first, &second), "the catalog was built again");

    // A new node.
    h.data(
        &id(1),
        node_frames("n003", "host", &[], &node_value("n", 3)),
    );
    let grown = catalog_for(&mut h, &id(12), "j2");
    assert_eq!(uuids(&grown), reversed(&["n000", "n001", "n002", "n003"]));

    // A Delete.
    h.cmd(&id(1), cmd(CommandKind::Delete, "host", &s("n001")));
    let shrunk = catalog_for(&mut h, &id(13), "j3");
    assert_eq!(uuids(&shrunk), reversed(&["n000", "n002", "n003"]));

    // New dependencies of an existing node: n000 now needs n003, which must be popped first.
    h.data(
        &id(1),
        node_frames("n000", "host", &["n003"], &node_value("n", 0)),
    );
    let reordered = catalog_for(&mut h, &id(14), "j4");
    assert_eq!(uuids(&reordered), reversed(&["n003", "n000", "n002"]));
}

#[test]
fn the_catalog_is_let_go_once_no_join_needs_it() {
    let mut h = H::new();
    host_scene(&mut h, 3);
    catalog_for(&mut h, &id(10), "j0");
    // j0 sends no GET: its join stays in progress through a status round.
    h.advance_answering(1_500, &[id(1), id(10)]);
    assert!(h.s.catalog.is_some(), "kept while a join is in progress");
    // Everyone goes quiet: lost after the timeout; nothing is held for nobody.
    h.advance(cfg().timeout_ms + 3_000);
    assert!(h.s.catalog.is_none(), "let go once no join is in progress");
    assert_eq!(h.s.next_deadline(), None, "nothing left to wake for");
    // A catalog held with nobody left (the last joiner gone between rounds) still gets its round.
    crate::session::catalog::Built::of(&mut h.s.catalog, &h.s.repo);
    assert!(
        h.s.next_deadline().is_some(),
        "a round is due to let go of it"
    );
    h.advance(2_000);
    assert!(h.s.catalog.is_none());
    assert_eq!(h.s.next_deadline(), None);
}
