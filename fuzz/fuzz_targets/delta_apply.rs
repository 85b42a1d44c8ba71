//! Fuzzes the Delta engine: `u16 LE length | old-node pickle | delta pickle`. The old node is
//! what the server would have stored (accepted by `objects::check_node_data`, decoded); the
//! delta goes through the server's one entry point, `delta::apply_bytes_bounded` (which parses
//! with `Delta::from_bytes`). No input may panic; it must leave the value unchanged on failure
//! and keep the node's encoded size within the bound it returns; the parsed delta's `apply` must leave the old value untouched and agree with
//! `apply_owned`.
//! Every walk runs under the work meter granted for the input's size, as in production;
//! libFuzzer's `-timeout=2 -rss_limit_mb=512` are the cost budget: a walk that escapes the
//! meter on a memo DAG (the seeds in `fuzz/seeds/delta_apply` have several) times out.
//! Run: `cd fuzz && cargo fuzz run --sanitizer none delta_apply -- -max_total_time=600`
//! (seed it with pickles from `tests/py/delta_oracle.py` for deeper coverage).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mu_serverd::delta::{self, Delta};
use mu_serverd::objects;
use mu_serverd::pickle::{self, budget, Limits};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = u16::from_le_bytes([data[0], data[1]]) as usize;
    let rest = &data[2..];
    let (old_raw, delta_raw) = rest.split_at(n.min(rest.len()));
    let limits = Limits {
        max_input: 1 << 20,
        max_items: 1 << 16,
        ..Limits::default()
    };
    // A node the server would have stored, decoded as its repository does before a Commit.
    if objects::check_node_data(old_raw, &limits).is_err() {
        return;
    }
    let Ok(old) = pickle::decode(old_raw, &limits) else {
        return;
    };
    let Ok(delta) = Delta::from_bytes(delta_raw, &limits) else {
        return;
    };
    // an independent copy (the encoder's memo output depends on reference counts, so compare
    // values, not re-encodings)
    let Ok(pristine) = pickle::decode(old_raw, &limits) else {
        return;
    };
    // The production entry point (decode, policy, parse, apply in place under the work meter
    // granted for the delta's and the node's sizes): never panics, and leaves the value
    // exactly as it was when it fails.
    // The repository keeps an upper bound of each node's encoded size (`delta/bound.rs`): the
    // first apply walks the node and sets it, later applies of the same delta may take the fast
    // path and grow the node past the slack of the walk's reset; after each success the bound
    // must hold.
    let grant = data.len();
    let mut edited = old.clone();
    let mut bound = None;
    for _ in 0..8 {
        // bytes, not a clone: a clone would share the node's containers, and a write through a
        // shared container always takes the walk (the fast path would never run here)
        let before = pickle::encode(&edited);
        match delta::apply_bytes_bounded(&mut edited, delta_raw, old_raw.len(), &limits, &mut bound)
        {
            Ok(_) => {
                if let (Some(b), Ok(exact)) = (bound, pickle::encoded_len(&edited, usize::MAX)) {
                    assert!(exact <= b, "encoded size {exact} passed the bound {b}");
                }
            }
            Err(_) => {
                if let Ok(before) = pickle::decode(&before, &limits) {
                    if let Some(same) = metered(grant, || edited.strict_eq(&before)) {
                        assert!(same, "a failed apply_bytes_bounded changed the value");
                    }
                }
                break;
            }
        }
    }
    if let Some(same) = metered(grant, || old.strict_eq(&pristine)) {
        assert!(
            same,
            "apply_bytes_bounded changed the value it was cloned from"
        );
    }
    // The engine itself, under the same grant (without one the meter is unlimited and a memo
    // DAG would run for hours). A walk the meter stopped has no answer to check.
    let shared = metered(grant, || delta.apply(&old));
    if let Some(same) = metered(grant, || old.strict_eq(&pristine)) {
        assert!(same, "apply changed the old value");
    }
    let owned = metered(grant, || delta.apply_owned(old.clone()));
    let (Some(shared), Some(owned)) = (shared, owned) else {
        return;
    };
    match (&shared, &owned) {
        (Ok((a, _)), Ok((b, _))) => {
            if let Some(same) = metered(grant, || a.strict_eq(b)) {
                assert!(same, "apply and apply_owned differ");
            }
        }
        (Err(a), Err(b)) => assert_eq!(a.kind, b.kind),
        _ => panic!("apply and apply_owned disagree: {shared:?} vs {owned:?}"),
    }
});

/// Runs `f` under a work meter granted for `bytes` input bytes, as production does; `None` when
/// the meter ran out (the walk stopped early, so its answer is not to be trusted).
fn metered<T>(bytes: usize, f: impl FnOnce() -> T) -> Option<T> {
    let _meter = budget::scope(bytes, 1 << 20);
    let r = f();
    (!budget::exhausted()).then_some(r)
}
