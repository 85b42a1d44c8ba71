//! Random event sequences (bounded, seeded, deterministic) from well-behaved and hostile peers.
//! Invariants: the core never panics, a replay of what it journaled rebuilds its repository
//! exactly, it never sends a data message back to its sender, and its deadline always moves
//! forward when it is honoured.

use super::harness::*;
use crate::pickle::{Limits, Value};
use crate::session::io::{Action, Change, Channel, Frame, Identity};
use crate::session::wire::sdict;
use crate::session::Repository;
use std::sync::Arc;

/// xorshift64*: enough randomness, no dependency, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const UUIDS: [&str; 5] = ["n0", "n1", "n2", "n3", "n4"];
const NAMES: [&str; 4] = ["ann", "ben", "cid", "dee"];

fn random_frames(r: &mut Rng, name: &str) -> (Channel, Vec<Frame>) {
    let u = *r.pick(&UUIDS);
    let x = r.below(100) as i64;
    match r.below(14) {
        0 => (
            Channel::Data,
            node_frames(u, "COMMON", &[*r.pick(&UUIDS)], &node_value(u, x)),
        ),
        1 | 2 => (
            Channel::Data,
            commit_frames(u, &[], &set_delta("x", Value::Int(x))),
        ),
        3 => (
            Channel::Data,
            commit_frames(u, &[], &set_delta("missing", Value::Int(x))),
        ),
        4 => (Channel::Command, cmd(CommandKind::Delete, "client", &s(u))),
        5 => {
            let owner = if r.below(2) == 0 { "COMMON" } else { name };
            let data = sdict(vec![("uuid", Value::list(vec![s(u)])), ("owner", s(owner))]);
            (Channel::Command, cmd(CommandKind::Right, name, &data))
        }
        6 => (
            Channel::Command,
            cmd(
                CommandKind::UpdateUserMetadata,
                name,
                &sdict(vec![("k", Value::Int(x))]),
            ),
        ),
        7 => (
            Channel::Command,
            cmd(
                CommandKind::Kick,
                name,
                &sdict(vec![("user", s(NAMES[r.below(4) as usize]))]),
            ),
        ),
        8 => (Channel::Heartbeat, vec![Arc::from(&b"PONG"[..])]),
        9 => {
            let len = r.below(12) as usize;
            let junk: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
            (
                *r.pick(&[Channel::Command, Channel::Data, Channel::Heartbeat]),
                vec![Arc::from(junk)],
            )
        }
        10 => (
            Channel::Command,
            cmd(
                CommandKind::Snapshot,
                name,
                &sdict(vec![("STATE", s("GET")), ("ID", s(u))]),
            ),
        ),
        11 => (
            Channel::Command,
            cmd(
                CommandKind::ServerSnapshot,
                "server",
                &sdict(vec![
                    ("STATE", s("INIT")),
                    (
                        "NODES",
                        Value::list(UUIDS[..2].iter().map(|u| s(u)).collect()),
                    ),
                ]),
            ),
        ),
        12 => {
            let chunks = node_frames(u, "COMMON", &[], &node_value(u, x));
            let set = sdict(vec![
                ("STATE", s("SET")),
                (
                    "DATA",
                    Value::list(chunks.iter().map(|f| Value::Bytes(f.clone())).collect()),
                ),
            ]);
            (
                Channel::Command,
                cmd(CommandKind::ServerSnapshot, "server", &set),
            )
        }
        _ => (
            Channel::Command,
            cmd(
                CommandKind::ServerSnapshot,
                "server",
                &sdict(vec![("STATE", s("END"))]),
            ),
        ),
    }
}

fn run(seed: u64, steps: usize) -> [usize; 5] {
    let mut r = Rng(seed | 1);
    let mut h = H::new();
    let peers: Vec<Identity> = (1..=6u8).map(id).collect();
    for _ in 0..steps {
        let who = r.pick(&peers).clone();
        let name = NAMES[(who[0] as usize) % NAMES.len()];
        let acts = match r.below(10) {
            0 => {
                let admin = r.below(3) == 0;
                let data = auth_data(name, admin.then_some(ADMIN_PWD), Value::None, "0.9.10");
                h.cmd(&who, cmd(CommandKind::Auth, name, &data))
            }
            1 => h.hb(&who, b"INIT"),
            2 => {
                let ms = r.below(2500);
                h.advance(ms)
            }
            _ => {
                let (ch, frames) = random_frames(&mut r, name);
                h.frame(ch, &who, frames)
            }
        };
        for a in &acts {
            if let Action::Send {
                channel: Channel::Data,
                to,
                ..
            } = a
            {
                assert!(to != &who, "seed {seed}: data relayed back to its sender");
            }
        }
        if let Some(d) = h.s.next_deadline() {
            if d <= h.now {
                h.s.handle_tick(h.now);
                while let Some(a) = h.s.poll_action() {
                    h.actions.push(a);
                }
                let next = h.s.next_deadline();
                assert!(
                    next.is_none_or(|n| n > h.now),
                    "seed {seed}: deadline stuck"
                );
            }
        }
    }
    let mut kinds = [0usize; 5];
    for c in persisted(&h.actions) {
        let k = match c {
            Change::NodeStored { .. } => 0,
            Change::CommitApplied { .. } => 1,
            Change::NodeDeleted { .. } => 2,
            Change::OwnersChanged { .. } => 3,
            Change::State(_) | Change::Reset | Change::ClientVersion(_) => 4,
        };
        kinds[k] += 1;
    }
    let mut replay = Repository::new(Limits::default());
    for c in persisted(&h.actions) {
        replay
            .apply_change(&c)
            .unwrap_or_else(|e| panic!("seed {seed}: replay failed: {e}"));
    }
    let view = |r: &Repository| -> Vec<(String, String, Vec<u8>, Vec<u8>)> {
        r.iter()
            .map(|n| {
                (
                    n.uuid.to_owned(),
                    n.owner.to_owned(),
                    n.deps.to_vec(),
                    n.data.to_vec(),
                )
            })
            .collect()
    };
    assert_eq!(view(&replay), view(h.s.repository()), "seed {seed}");
    assert_eq!(replay.state(), h.s.state(), "seed {seed}");
    assert_eq!(
        replay.client_version(),
        h.s.repository().client_version(),
        "seed {seed}"
    );
    kinds
}

#[test]
fn random_sessions_keep_the_invariants() {
    let mut total = [0usize; 5];
    for seed in 1..=150u64 {
        let k = run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 300);
        for (t, n) in total.iter_mut().zip(k) {
            *t += n;
        }
    }
    eprintln!("changes journaled: stored, commits, deletes, owners, state = {total:?}");
    // not vacuous: every kind of change happened many times
    assert!(total.iter().all(|n| *n > 50), "{total:?}");
}
