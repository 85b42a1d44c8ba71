//! Twenty joiners at once (issue 16, item 3): a call pushes at most `TURN_SETS` SETs per
//! joiner, the rest goes in later turns (`handle_tick`, due at once while SETs are left), round
//! robin, so relayed traffic is handled between turns and no joiner waits for the others.

use super::harness::*;
use super::join::{host_scene, init_and_pushed_as, windowed};
use crate::objects::CommandKind;
use crate::session::io::{Action, Channel, Identity};
use crate::session::push::{TURN_SETS, TURN_SETS_TOTAL};

const JOINERS: u8 = 20;
const NODES: usize = 200;

/// A session of `NODES` nodes, an active client (id 3), and `JOINERS` joiners whose windows
/// hold the whole catalog (ids 10...), each sent its catalog; returns the SETs pushed so far.
fn twenty_joiners() -> (H, Vec<Identity>, usize) {
    let mut h = windowed(100_000, 1 << 30);
    host_scene(&mut h, NODES);
    h.join(&id(3), "carol");
    let mut ids = Vec::new();
    let mut pushed = 0;
    for k in 0..JOINERS {
        let who = id(10 + k);
        let (_, p) = init_and_pushed_as(&mut h, &who, &format!("bob{k}"));
        pushed += p.len();
        ids.push(who);
    }
    (h, ids, pushed)
}

fn is_set(a: &Action) -> bool {
    matches!(
        a,
        Action::Send {
            channel: Channel::Command,
            ..
        }
    ) && sends(std::slice::from_ref(a))
        .iter()
        .all(|m| m.kind() == Some(CommandKind::Snapshot))
}

#[test]
fn a_relayed_node_goes_out_before_the_bulk_of_twenty_first_windows() {
    let (mut h, _, first) = twenty_joiners();
    // The active host's Node arrives while 20 windows wait to be filled.
    let frames = node_frames("n000", "host", &[], &node_value("n", 99));
    let relay = h.data(&id(1), frames);
    assert!(
        sends_to(&relay, &id(3))
            .iter()
            .any(|m| m.ch == Channel::Data),
        "relayed to the active client"
    );
    let before = first + relay.iter().filter(|a| is_set(a)).count();
    // The shell then runs the turns the core says are due.
    let rest = h.advance(0);
    let after = rest.iter().filter(|a| is_set(a)).count();
    assert_eq!(
        before + after,
        usize::from(JOINERS) * NODES,
        "every window filled"
    );
    assert!(
        before * 10 < after,
        "{before} SETs before the relay, {after} after"
    );
    assert_eq!(first, usize::from(JOINERS) * TURN_SETS, "each catalog call");
}

#[test]
fn turns_go_round_robin_and_no_joiner_starves() {
    let (mut h, ids, _) = twenty_joiners();
    let mut got: Vec<usize> = vec![TURN_SETS; ids.len()];
    let mut turns = 0;
    while h.s.next_deadline().is_some_and(|d| d <= h.now) {
        turns += 1;
        assert!(turns < 1000, "turns never end");
        h.s.handle_tick(h.now);
        let mut turn = 0;
        while let Some(a) = h.s.poll_action() {
            if !is_set(&a) {
                continue;
            }
            turn += 1;
            for m in sends(std::slice::from_ref(&a)) {
                let k = ids.iter().position(|i| *i == m.to).expect("a joiner");
                got[k] += 1;
            }
        }
        assert!(turn <= TURN_SETS_TOTAL, "turn {turns}: {turn} SETs");
        // Nobody gets ahead of anyone else by more than one call's worth.
        let (lo, hi) = (got.iter().min(), got.iter().max());
        assert!(
            hi.zip(lo).is_some_and(|(h, l)| h - l <= TURN_SETS),
            "turn {turns}: {got:?}"
        );
    }
    assert_eq!(got, vec![NODES; ids.len()]);
    // 20 x 184 SETs left after the catalogs, at most 256 a turn, round robin: a turn or two
    // more than the minimum when a joiner's last call pushes fewer than TURN_SETS.
    let left = usize::from(JOINERS) * (NODES - TURN_SETS);
    assert!(turns <= left.div_ceil(TURN_SETS_TOTAL) + 2, "{turns} turns");
}
