//! Heartbeat timing, latency, losses and the once-a-second user list.

use super::harness::*;
use crate::session::io::{Action, Channel};
use crate::session::SessionConfig;

fn pings_to(acts: &[Action], who: u8) -> usize {
    sends_to(acts, &id(who))
        .iter()
        .filter(|m| m.ch == Channel::Heartbeat && &m.frames[0][..] == b"PING")
        .count()
}

#[test]
fn init_is_answered_with_a_ping() {
    let mut h = H::new();
    h.login(&id(1), "a", false);
    let acts = h.hb(&id(1), b"INIT");
    assert_eq!(pings_to(&acts, 1), 1);
}

#[test]
fn next_ping_comes_with_the_status_round_then_about_once_a_second() {
    let mut h = H::new();
    h.login(&id(1), "a", false);
    h.hb(&id(1), b"INIT");
    h.now += 2;
    h.hb(&id(1), b"PONG");
    // the first status round is due just over a second after the first event
    assert_eq!(pings_to(&h.advance(997), 1), 0);
    let acts = h.advance(5);
    assert_eq!(pings_to(&acts, 1), 1);
    // a client that answers keeps being pinged about once a second
    let acts = h.advance_answering(10_000, &[id(1)]);
    let total = pings_to(&acts, 1);
    assert!((9..=10).contains(&total), "{total} pings in 10 s");
    assert!(h.s.clients.get(&id(1)).is_some());
}

#[test]
fn latency_is_measured_and_broadcast_every_second() {
    let mut h = H::new();
    h.login(&id(1), "a", false);
    h.hb(&id(1), b"INIT");
    h.now += 3;
    h.hb(&id(1), b"PONG");
    let acts = h.advance(1100);
    let lists: Vec<_> = sends_to(&acts, &id(1))
        .into_iter()
        .filter(|m| m.kind() == Some(CommandKind::UpdateClientsState))
        .collect();
    assert!(!lists.is_empty());
    let last = lists.last().expect("list").data();
    assert_eq!(int(get(get(&last, "a"), "latency")), 3);
    // and again a second later
    let acts = h.advance(1002);
    assert!(sends_to(&acts, &id(1))
        .iter()
        .any(|m| m.kind() == Some(CommandKind::UpdateClientsState)));
}

#[test]
fn silent_client_is_lost_after_the_timeout_and_its_locks_released() {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.join(&id(2), "bob");
    h.cmd(
        &id(2),
        cmd(
            CommandKind::Right,
            "bob",
            &crate::session::wire::sdict(vec![
                ("uuid", crate::pickle::Value::list(vec![s("a")])),
                ("owner", s("bob")),
            ]),
        ),
    );
    // host answers every ping, bob never does
    let acts = h.advance_answering(6000, &[id(1)]);
    assert!(logged(&acts, "bob ("));
    assert!(logged(
        &acts,
        "disconnected from the server [connection lost"
    ));
    assert!(h.s.clients.by_name("bob").is_none());
    assert!(h.s.clients.by_name("host").is_some());
    assert_eq!(h.s.repository().get("a").expect("a").owner, "COMMON");
    let to_host = sends_to(&acts, &id(1));
    assert!(to_host
        .iter()
        .any(|m| m.kind() == Some(CommandKind::Right) && m.owner() == "server"));
}

#[test]
fn lost_after_about_timeout_not_before() {
    let mut h = H::with(SessionConfig {
        timeout_ms: 3000,
        ..cfg()
    });
    h.login(&id(1), "a", false);
    h.hb(&id(1), b"INIT");
    h.advance(3000);
    assert!(h.s.clients.get(&id(1)).is_some());
    h.advance(2500);
    assert!(h.s.clients.get(&id(1)).is_none());
}

#[test]
fn heartbeat_that_never_starts_drops_the_client() {
    // difference 11
    let mut h = H::new();
    h.login(&id(1), "a", false);
    // ttl.py is a separate process that may be slow to start: it gets 8 s at least
    h.advance(7900);
    assert!(h.s.clients.get(&id(1)).is_some());
    let acts = h.advance(200);
    assert!(h.s.clients.get(&id(1)).is_none());
    assert!(logged(&acts, "heartbeat never started"));
}

#[test]
fn two_frame_heartbeat_is_ignored_and_others_keep_beating() {
    let mut h = H::new();
    h.login(&id(1), "a", false);
    h.hb(&id(1), b"INIT");
    let acts = h.frame(
        Channel::Heartbeat,
        &id(9),
        vec![
            std::sync::Arc::from(&b"INIT"[..]),
            std::sync::Arc::from(&b"x"[..]),
        ],
    );
    assert!(sends(&acts).is_empty());
    assert!(logged(&acts, "heartbeat message of 2 frames"));
    h.advance_answering(5000, &[id(1)]);
    assert!(h.s.clients.get(&id(1)).is_some());
}

#[test]
fn heartbeats_of_strangers_are_forgotten() {
    let mut h = H::new();
    h.hb(&id(5), b"INIT");
    assert_eq!(h.s.beats.len(), 1);
    for _ in 0..4 {
        h.now += 1;
        h.hb(&id(5), b"PONG");
        h.advance(1000);
    }
    assert!(h.s.beats.is_empty());
    assert_eq!(h.s.next_deadline(), None, "idle: no timer");
}

#[test]
fn heartbeat_watch_list_is_bounded() {
    let mut h = H::with(SessionConfig {
        max_clients: 1,
        ..cfg()
    });
    for n in 0..40u8 {
        h.hb(&id(n), b"INIT");
    }
    assert_eq!(h.s.beats.len(), 10);
}

#[test]
fn next_deadline_follows_pings_and_status() {
    let mut h = H::new();
    assert_eq!(h.s.next_deadline(), None);
    h.login(&id(1), "a", false);
    h.hb(&id(1), b"INIT");
    let d = h.s.next_deadline().expect("deadline");
    assert!(d > h.now && d <= h.now + 1001);
}

#[test]
fn ticking_at_the_deadline_always_moves_it_forward() {
    // A deadline that stays in the past would make the driver spin.
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.login(&id(2), "no-heartbeat", false);
    h.hb(&id(3), b"INIT"); // a stranger's heartbeat
    h.join(&id(4), "bob");
    for step in 0..200 {
        let Some(d) = h.s.next_deadline() else { break };
        h.now = d.max(h.now);
        h.s.handle_tick(h.now);
        while h.s.poll_action().is_some() {}
        if step % 3 == 0 {
            h.now += 1;
            h.hb(&id(1), b"PONG");
        }
        if let Some(next) = h.s.next_deadline() {
            assert!(
                next > h.now,
                "step {step}: deadline {next} not after {}",
                h.now
            );
        }
    }
}
