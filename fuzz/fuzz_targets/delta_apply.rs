//! Fuzzes the Delta engine: `u16 LE length | old-node pickle | delta pickle`. The old node is
//! what the server would have stored (accepted by `objects::check_node_data`, decoded); the
//! delta goes through the server's one entry point, `delta::apply_bytes` (which parses with
//! `Delta::from_bytes`). No input may panic; `apply_bytes` must leave the value unchanged on
//! failure; the parsed delta's `apply` must leave the old value untouched and agree with
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
    let grant = data.len();
    let mut edited = old.clone();
    if delta::apply_bytes(&mut edited, delta_raw, old_raw.len(), &limits).is_err() {
        if let Some(same) = metered(grant, || edited.strict_eq(&pristine)) {
            assert!(same, "a failed apply_bytes changed the value");
        }
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
