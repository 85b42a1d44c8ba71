//! Property tests: every walk over decoded values does work linear in the encoded size, however
//! the memo shares sub-values (issue 14). Each walk runs under the work meter
//! (`pickle::budget`) while an independent counter (`budget::VISITS`, bumped by every call of a
//! walk function) measures what it really did; a walk that forgets to charge a step shows up
//! as visits far above the grant. Where the meter did not run out, the answers must also be
//! right (two decodes of one pickle are equal, whatever their sharing).

pub(crate) mod dag;

use crate::delta::pyops::{is_hashable, py_eq, py_hash, py_lt};
use crate::delta::repr::{repr, str_raises};
use crate::pickle::budget::{self, PER_BYTE, VISITS, VISIT_LIMIT};
use crate::pickle::{self, decode, Limits, Value};
use crate::session::clients::Client;
use dag::{build, tree_size, Spec, P};
use proptest::prelude::*;

/// Runs `f` under a meter of `steps` and returns the walk-function calls it made; past `limit`
/// calls the walk panics (the test fails instead of hanging).
fn visits_within(steps: u64, limit: u64, f: impl FnOnce()) -> (u64, bool) {
    VISITS.with(|v| v.set(0));
    VISIT_LIMIT.with(|l| l.set(limit));
    let meter = budget::scope_steps(steps, steps as usize);
    f();
    let exhausted = budget::exhausted();
    drop(meter);
    VISIT_LIMIT.with(|l| l.set(u64::MAX));
    (VISITS.with(|v| v.get()), exhausted)
}

/// What "linear" allows: every charge of `1 + n` steps pays for at most ~2n calls (a dict
/// entry is two), plus the overshoot of the last charge.
fn bound(steps: u64, len: usize) -> u64 {
    4 * steps + 4 * len as u64 + 64
}

fn spec() -> impl Strategy<Value = Spec> {
    prop::collection::vec((0u8..10, prop::collection::vec(0usize..64, 2..5)), 1..48).prop_map(
        |nodes| {
            // The first child is always the newest node and most others too: deep doubling
            // chains (2^depth leaves), with some references further back.
            let nodes = nodes
                .into_iter()
                .enumerate()
                .map(|(i, (k, ch))| {
                    let ch = ch
                        .into_iter()
                        .enumerate()
                        .map(|(j, c)| if j == 0 || c % 3 != 0 { i + 1 } else { c })
                        .collect();
                    (k, ch)
                })
                .collect();
            Spec { nodes }
        },
    )
}

fn one_value(spec: &Spec) -> (Vec<u8>, bool) {
    let mut p = P::new();
    let (top, hashable) = build(&mut p, spec);
    (p.finish(top), hashable)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Equality, hashing, ordering, repr, Debug, encoding, the policy and the metadata merge.
    #[test]
    fn every_walk_is_linear_in_the_encoded_size(spec in spec()) {
        let (bytes, hashable) = one_value(&spec);
        let len = bytes.len();
        let steps = PER_BYTE * len as u64;
        let v = decode(&bytes, &Limits::default()).expect("generated pickles decode");
        let w = decode(&bytes, &Limits::default()).expect("generated pickles decode");
        let leaves = tree_size(&spec);
        let visits_of = |steps: u64, f: &mut dyn FnMut()| visits_within(steps, bound(steps, len), f);
        let check = |name: &str, (visits, _): (u64, bool)| {
            prop_assert!(
                visits <= bound(steps, len),
                "{name}: {visits} calls for {len} bytes ({leaves} leaves)"
            );
            Ok(())
        };
        let mut eq = None;
        check("strict_eq", visits_of(steps, &mut || eq = Some((v.strict_eq(&w), budget::exhausted()))))?;
        if let Some((same, false)) = eq {
            prop_assert!(same, "strict_eq of two decodes of one pickle");
        }
        check("py_eq", visits_of(steps, &mut || eq = Some((py_eq(&v, &w), budget::exhausted()))))?;
        if let Some((same, false)) = eq {
            prop_assert!(same, "py_eq of two decodes of one pickle");
        }
        check("py_hash", visits_of(steps, &mut || { py_hash(&v); }))?;
        check("is_hashable", visits_of(steps, &mut || { is_hashable(&v); }))?;
        check("py_lt", visits_of(steps, &mut || { let _ = py_lt(&v, &w); }))?;
        check("repr", visits_of(steps, &mut || { let _ = repr(&v, &mut String::new()); }))?;
        check("str_raises", visits_of(steps, &mut || { str_raises(&v); }))?;
        check("Debug", visits_of(steps, &mut || { let _ = format!("{v:?}"); }))?;
        let mut enc = Vec::new();
        check("encode", visits_of(steps, &mut || enc = pickle::encode(&v)))?;
        // The encoder keeps the sharing: its output is linear too.
        prop_assert!(enc.len() <= 4 * len + 64, "{} encoded from {len}", enc.len());
        check("check_plain", visits_of(steps, &mut || { let _ = pickle::check_plain(&v); }))?;
        if hashable {
            let mut c = Client::new("u".into(), false, 0);
            c.metadata = vec![(w.clone(), Value::Int(1))];
            c.metadata_sizes = vec![0];
            let mut merged = None;
            check("merge_metadata", visits_of(steps, &mut || {
                merged = Some((c.merge_metadata(&[(v.clone(), Value::Int(2))], &[0]), budget::exhausted()));
            }))?;
            if let Some((true, false)) = merged {
                prop_assert_eq!(c.metadata.len(), 1, "an equal key replaces, not appends");
            }
        }
    }

    /// The Delta engine through the entry point production calls (`delta::apply_bytes`, which
    /// grants the meter from the delta's and the node's sizes).
    #[test]
    fn delta_apply_is_linear_in_the_delta_and_node_sizes(spec in spec(), group in 0u8..4) {
        let limits = Limits::default();
        // The node: {'a': X, 's': {X'}, 'l': [X']} with X a DAG; the delta names another copy.
        let mut p = P::new();
        let (x, hashable) = build(&mut p, &spec);
        let (y, _) = build(&mut p, &spec);
        let set = if hashable { p.set(&[y]) } else { p.set(&[]) };
        let list = p.list(&[y]);
        let top = p.sdict(&[("a", x), ("s", set), ("l", list)]);
        let node_bytes = p.finish(top);
        let mut d = P::new();
        let (z, z_hashable) = build(&mut d, &spec);
        let delta = match group {
            0 if z_hashable => {
                let s = d.set(&[z]);
                let g = d.sdict(&[("root['s']", s)]);
                d.sdict(&[("set_item_added", g)])
            }
            1 => {
                let g = d.sdict(&[("root['l'][0]", z)]);
                d.sdict(&[("iterable_item_removed", g)])
            }
            2 => {
                let (old, new) = (d.builtin("tuple"), d.builtin("str"));
                let e = d.sdict(&[("old_type", old), ("new_type", new)]);
                let g = d.sdict(&[("root['a']", e)]);
                d.sdict(&[("type_changes", g)])
            }
            _ => {
                let e = d.sdict(&[("new_value", z)]);
                let g = d.sdict(&[("root['a']", e)]);
                d.sdict(&[("values_changed", g)])
            }
        };
        let delta_bytes = d.finish(delta);
        let mut node = decode(&node_bytes, &limits).expect("node decodes");
        let grant = budget::grant_for(delta_bytes.len() + node_bytes.len());
        let limit = bound(grant, delta_bytes.len() + node_bytes.len());
        let (visits, _) = visits_within(u64::MAX / 4, limit, || {
            let _ = crate::delta::apply_bytes(&mut node, &delta_bytes, node_bytes.len(), &limits);
        });
        prop_assert!(
            visits <= bound(grant, delta_bytes.len() + node_bytes.len()),
            "group {group}: {visits} calls for {} + {} bytes ({} leaves)",
            delta_bytes.len(), node_bytes.len(), tree_size(&spec)
        );
    }
}
