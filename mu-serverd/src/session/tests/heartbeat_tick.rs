//! Idle wake-ups: with N heartbeating clients the core asks for one tick a second, all PINGs of
//! that second go out in it, and the client-visible guarantees still hold (a PING at least
//! every ~1.3 s, latency = the PONG's delay, a silent client dropped after the timeout).
//!
//! Driven like the real shell: the clock jumps to the next event, which is either the core's
//! `next_deadline` (a timer wake-up, then `handle_tick`) or a PONG arriving (`handle_frame`
//! only). [`H::advance`] is not used: it ticks at the end of every step, an extra wake-up.

use super::harness::*;
use crate::pickle::Value;
use crate::session::io::{Action, Channel, Identity, Millis};

/// A simulated client: answers each PING after `rtt` ms, until `silent_from`.
struct Peer {
    who: Identity,
    rtt: Millis,
    silent_from: Millis,
}

#[derive(Default)]
struct Log {
    /// Times the driver woke for the core's deadline.
    timer_wakes: Vec<Millis>,
    /// (time, peer index) of every PING sent.
    pings: Vec<(Millis, usize)>,
    /// (time, peer index) of every PONG delivered.
    pongs: Vec<(Millis, usize)>,
    /// Every action with the time it was queued.
    actions: Vec<(Millis, Action)>,
}

/// Runs the core for `ms` with the peers answering PINGs; returns what happened.
fn drive(h: &mut H, peers: &[Peer], ms: Millis) -> Log {
    let end = h.now + ms;
    let mut log = Log::default();
    let mut pongs: Vec<(Millis, usize)> = Vec::new();
    // Bounded: one timer wake-up or one PONG per iteration.
    for _ in 0..100_000 {
        let next_pong = pongs.iter().map(|(t, _)| *t).min();
        let deadline = h.s.next_deadline();
        let next = [next_pong, deadline].into_iter().flatten().min();
        let Some(at) = next.filter(|t| *t <= end) else {
            break;
        };
        h.now = at.max(h.now);
        if next_pong == Some(at) {
            let i = pongs.iter().position(|(t, _)| *t == at).expect("pong");
            let (_, p) = pongs.swap_remove(i);
            log.pongs.push((h.now, p));
            h.s.handle_frame(
                h.now,
                Channel::Heartbeat,
                &peers[p].who,
                vec![std::sync::Arc::from(&b"PONG"[..])],
            );
        } else {
            log.timer_wakes.push(h.now);
            h.s.handle_tick(h.now);
        }
        while let Some(a) = h.s.poll_action() {
            if let Action::Send {
                channel: Channel::Heartbeat,
                to,
                frames,
            } = &a
            {
                if let Some(p) = peers.iter().position(|p| p.who == *to) {
                    if &frames[0][..] == b"PING" {
                        log.pings.push((h.now, p));
                        if h.now < peers[p].silent_from {
                            pongs.push((h.now + peers[p].rtt, p));
                        }
                    }
                }
            }
            log.actions.push((h.now, a));
        }
    }
    h.now = end;
    log
}

/// Logs in `n` clients whose heartbeats start at scattered moments (so the reference's schedule
/// would give each its own phase), each answering after `rtt(i)`.
fn clients(h: &mut H, n: u8, rtt: impl Fn(u8) -> Millis) -> Vec<Peer> {
    let mut peers = Vec::new();
    for i in 0..n {
        let who = id(10 + i);
        h.login(&who, &format!("user{i}"), false);
        h.hb(&who, b"INIT");
        // PONG to the INIT's PING, then a scattered pause before the next client
        h.now += rtt(i);
        h.hb(&who, b"PONG");
        h.now += 97 + 131 * Millis::from(i);
        peers.push(Peer {
            who,
            rtt: rtt(i),
            silent_from: Millis::MAX,
        });
    }
    peers
}

fn pings_of(log: &Log, p: usize) -> Vec<Millis> {
    log.pings
        .iter()
        .filter(|(_, q)| *q == p)
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn idle_clients_wake_the_core_once_a_second_and_share_one_ping_tick() {
    let mut h = H::new();
    let n = 5;
    let peers = clients(&mut h, n, |i| 1 + Millis::from(i) * 3);
    // settle, then watch 30 s of idle
    drive(&mut h, &peers, 3000);
    let log = drive(&mut h, &peers, 30_000);
    let wakes = &log.timer_wakes;
    assert!(
        (28..=30).contains(&wakes.len()),
        "{} timer wake-ups in 30 s: {wakes:?}",
        wakes.len()
    );
    for w in wakes.windows(2) {
        assert!(w[1] - w[0] >= 1000, "deadlines {} ms apart", w[1] - w[0]);
    }
    // every PING of the period goes out in the tick, to every client at once
    for (t, _) in &log.pings {
        assert!(wakes.contains(t), "PING at {t} outside a timer tick");
    }
    for t in wakes {
        let to = log.pings.iter().filter(|(at, _)| at == t).count();
        assert_eq!(to, usize::from(n), "tick at {t} pinged {to} of {n}");
    }
    for (p, peer) in peers.iter().enumerate() {
        assert!(h.s.clients.get(&peer.who).is_some(), "user{p} dropped");
    }
}

#[test]
fn no_client_goes_longer_than_1300_ms_without_a_ping() {
    // ttl.py quits after `timeout + 1000` ms without a message: 2000 ms with the library's
    // default `connect(timeout=1000)`. Heartbeats start at every phase of the round.
    for offset in [0, 1, 2, 249, 250, 251, 500, 998, 999, 1000, 1001] {
        let mut h = H::new();
        let host = clients(&mut h, 1, |_| 2);
        let first = drive(&mut h, &host, 2000);
        let round = *first.timer_wakes.last().expect("a round");
        // the next round is due just after round + 1000; start a heartbeat `offset` before it
        h.now = (round + 1001).saturating_sub(offset).max(h.now);
        let who = id(99);
        h.login(&who, "late", false);
        let init = h.hb(&who, b"INIT");
        let init_ping = sends_to(&init, &who)
            .iter()
            .any(|m| m.ch == Channel::Heartbeat && &m.frames[0][..] == b"PING");
        assert!(init_ping, "INIT is answered at once");
        let start = h.now;
        let peers = vec![
            Peer {
                who: host[0].who.clone(),
                rtt: 2,
                silent_from: Millis::MAX,
            },
            Peer {
                who: who.clone(),
                rtt: 5,
                silent_from: Millis::MAX,
            },
        ];
        let log = drive(&mut h, &peers, 10_000);
        let mut times = vec![start];
        times.extend(pings_of(&log, 1));
        let gaps: Vec<Millis> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let max = gaps.iter().copied().max().expect("pings");
        assert!(max <= 1300, "offset {offset}: gaps {gaps:?}");
        assert!(
            gaps.len() >= 9,
            "offset {offset}: only {} pings",
            gaps.len()
        );
        assert!(h.s.clients.get(&who).is_some());
    }
}

#[test]
fn latency_reported_is_each_clients_pong_delay() {
    let mut h = H::new();
    let peers = clients(&mut h, 3, |i| [1, 17, 230][usize::from(i)]);
    drive(&mut h, &peers, 4000);
    let log = drive(&mut h, &peers, 2100);
    let acts: Vec<Action> = log.actions.into_iter().map(|(_, a)| a).collect();
    let lists: Vec<Value> = sends_to(&acts, &peers[0].who)
        .into_iter()
        .filter(|m| m.kind() == Some(CommandKind::UpdateClientsState))
        .map(|m| m.data())
        .collect();
    assert!(lists.len() >= 2, "{} user lists in 2.1 s", lists.len());
    for list in &lists {
        for (i, want) in [(0, 1), (1, 17), (2, 230)] {
            let got = int(get(get(list, &format!("user{i}")), "latency"));
            assert_eq!(got, want, "user{i} latency");
        }
    }
}

#[test]
fn silent_client_is_dropped_after_the_timeout_and_not_before() {
    // timeout 2000 ms (harness cfg); the client stops answering at several phases of the round
    for stop_at in [0, 1, 300, 700, 999] {
        let mut h = H::new();
        let mut peers = clients(&mut h, 2, |_| 2);
        let warm = drive(&mut h, &peers, 3000);
        peers[1].silent_from = h.now + stop_at;
        let log = drive(&mut h, &peers, 8000);
        let last_pong = warm
            .pongs
            .iter()
            .chain(&log.pongs)
            .filter(|(_, p)| *p == 1)
            .map(|(t, _)| *t)
            .max()
            .expect("a PONG");
        let lost = log.actions.iter().find_map(|(t, a)| match a {
            Action::Log { message, .. }
                if message.contains("user1 (") && message.contains("connection lost") =>
            {
                Some(*t)
            }
            _ => None,
        });
        let lost = lost.unwrap_or_else(|| panic!("user1 never dropped (stop {stop_at})"));
        // Not before the timeout; at most two rounds after it (the gap is measured at the
        // round after a PING, as in the reference).
        assert!(
            lost > last_pong + 2000,
            "dropped {} ms after its last PONG (stop {stop_at})",
            lost - last_pong
        );
        assert!(
            lost <= last_pong + 2000 + 2 * 1001 + 2,
            "dropped only {} ms after its last PONG (stop {stop_at})",
            lost - last_pong
        );
        assert!(h.s.clients.get(&peers[1].who).is_none());
        assert!(
            h.s.clients.get(&peers[0].who).is_some(),
            "the live one stays"
        );
        // the live client's next user list no longer has user1
        let after: Vec<Action> = log
            .actions
            .iter()
            .filter(|(t, _)| *t > lost)
            .map(|(_, a)| a.clone())
            .collect();
        let list = sends_to(&after, &peers[0].who)
            .into_iter()
            .find(|m| m.kind() == Some(CommandKind::UpdateClientsState))
            .expect("a user list after the loss")
            .data();
        assert!(list.get_str_key("user1").is_none());
        assert!(list.get_str_key("user0").is_some());
    }
}
