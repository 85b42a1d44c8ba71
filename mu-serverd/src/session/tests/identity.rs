//! A client's identity is accepted only from the address it logged in from (difference 15):
//! a message presenting it from elsewhere is refused (rate-limited line naming the user, not
//! the whole identity), changes nothing and is not relayed; a reconnect from the same address
//! is that client.

use super::harness::*;
use crate::session::io::Channel;
use crate::session::wire::sdict;

const HOME: &str = "10.0.0.1";
const ELSEWHERE: &str = "10.0.0.2";

fn full_hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn two_clients_and_a_scene(h: &mut H) {
    assert_eq!(h.login_from(&id(1), "alice", HOME), "LOBBY");
    let init = sdict(vec![
        ("STATE", s("INIT")),
        ("NODES", crate::pickle::Value::list(vec![])),
    ]);
    h.frame_from(
        Channel::Command,
        &id(1),
        HOME,
        cmd(CommandKind::ServerSnapshot, "server", &init),
    );
    assert_eq!(h.login_from(&id(2), "bob", "10.0.0.9"), "RUNNING");
}

fn msgs_in(h: &mut H, name: &str) -> u64 {
    let users =
        h.s.handle_control(h.now, crate::session::ControlRequest::Users);
    let crate::session::ControlReply::Users(users) = users else {
        panic!("users")
    };
    users
        .iter()
        .find(|u| u.name == name)
        .map(|u| u.msgs_in)
        .expect("user")
}

#[test]
fn an_identity_from_another_address_is_refused_on_every_channel() {
    let mut h = H::new();
    two_clients_and_a_scene(&mut h);
    let before = msgs_in(&mut h, "alice");
    let node = node_frames("n1", "COMMON", &[], &node_value("n1", 1));
    let meta = cmd(
        CommandKind::UpdateUserMetadata,
        "alice",
        &sdict(vec![("color", s("red"))]),
    );
    let delete = cmd(CommandKind::Delete, "alice", &s("n1"));
    for (ch, frames) in [
        (Channel::Data, node.clone()),
        (Channel::Command, meta),
        (Channel::Command, delete),
        (Channel::Heartbeat, vec![std::sync::Arc::from(&b"PONG"[..])]),
    ] {
        let acts = h.frame_from(ch, &id(1), ELSEWHERE, frames);
        assert!(sends(&acts).is_empty(), "{ch:?}: {acts:?}");
        assert!(persisted(&acts).is_empty(), "{ch:?}");
        let line = logs(&acts).join("\n");
        assert!(line.contains("identity of alice"), "{line}");
        assert!(line.contains(ELSEWHERE) && line.contains(HOME), "{line}");
        assert!(!line.contains(&full_hex(&id(1))), "{line}");
    }
    assert!(h.s.repository().get("n1").is_none());
    // not counted as alice's traffic either
    assert_eq!(msgs_in(&mut h, "alice"), before);
    // the real client, from its own address (a reconnect included), is still alice
    let acts = h.frame_from(Channel::Data, &id(1), HOME, node);
    assert!(h.s.repository().get("n1").is_some(), "{:?}", logs(&acts));
    assert_eq!(sends_to(&acts, &id(2)).len(), 1);
}

#[test]
fn refusals_of_impostors_are_rate_limited() {
    let mut h = H::new();
    two_clients_and_a_scene(&mut h);
    let mut lines = 0;
    for _ in 0..50 {
        let acts = h.frame_from(
            Channel::Heartbeat,
            &id(1),
            ELSEWHERE,
            vec![std::sync::Arc::from(&b"PONG"[..])],
        );
        lines += logs(&acts).len();
    }
    assert_eq!(lines, 20);
    h.now += 1000;
    let acts = h.frame_from(
        Channel::Heartbeat,
        &id(1),
        ELSEWHERE,
        vec![std::sync::Arc::from(&b"PONG"[..])],
    );
    assert!(logged(&acts, "30 more refusals"), "{:?}", logs(&acts));
}

#[test]
fn no_log_line_holds_a_whole_identity() {
    let mut h = H::new();
    two_clients_and_a_scene(&mut h);
    h.frame_from(
        Channel::Command,
        &id(3),
        ELSEWHERE,
        cmd(CommandKind::Delete, "x", &s("n1")),
    );
    h.frame_from(Channel::Data, &id(1), ELSEWHERE, vec![tframe(2)]);
    h.frame_from(Channel::Data, &id(2), "10.0.0.9", vec![tframe(2)]);
    h.s.kick("bob", "kicked", "a test");
    let all = logs(&h.actions);
    assert!(all.len() >= 4, "{all:?}");
    for n in 1..=3 {
        let whole = full_hex(&id(n));
        assert!(
            all.iter().all(|l| !l.replace('-', "").contains(&whole)),
            "{all:?}"
        );
    }
}
