//! The work meter every walk over decoded values is charged to.
//!
//! A pickle's memo lets a small message describe a huge tree: a tuple holding the previous
//! tuple twice, forty times over, is about 600 bytes but has 2^40 leaves. Any walk that visits
//! a shared sub-value once per reference (equality, hashing, ordering, `repr`, ...) would then
//! run for hours. Rather than make every walk in the codec, the Delta engine and the session
//! aware of sharing, each of them charges one unit per step to this thread-local meter, and the
//! code that owns a message opens a [`Scope`] sized by the message's bytes (and by the stored
//! bytes it touches): [`FLOOR`] plus [`PER_BYTE`] units per byte. Once the meter runs out every
//! walk returns at its next step, with an answer the caller must not trust; the owner checks
//! [`exhausted`] and refuses the message. Honest data walks each value a small number of times,
//! far below the grant.
//!
//! Walks that build output (`repr`) also stop at [`output_cap`] bytes.
//!
//! Without an open scope the meter is unlimited (tools and tests that call the engine directly);
//! every production entry point opens one.

use std::cell::Cell;

/// Steps granted to every message whatever its size (a few tens of milliseconds of walking).
pub const FLOOR: u64 = 1_000_000;
/// Steps granted per byte of the message (and of the stored data it touches).
pub const PER_BYTE: u64 = 32;

#[derive(Clone, Copy)]
struct Meter {
    /// Steps left; when a charge does not fit, the meter is exhausted.
    left: u64,
    exhausted: bool,
    /// Steps charged since the scope opened (for tests and logs).
    used: u64,
    out_cap: usize,
}

const UNLIMITED: Meter = Meter {
    left: u64::MAX,
    exhausted: false,
    used: 0,
    out_cap: usize::MAX,
};

thread_local! {
    static METER: Cell<Meter> = const { Cell::new(UNLIMITED) };
}

/// The grant for a message of `bytes` bytes.
pub fn grant_for(bytes: usize) -> u64 {
    FLOOR.saturating_add(PER_BYTE.saturating_mul(bytes as u64))
}

/// An open meter; dropping it restores the one that was open before (scopes nest: a Commit's
/// apply gets its own grant inside the frame's).
#[must_use = "the scope closes when dropped"]
pub struct Scope {
    prev: Meter,
}

/// Opens a meter granting [`grant_for`]`(bytes)` steps, with output walks capped at `out_cap`
/// bytes (at most the enclosing scope's cap).
pub fn scope(bytes: usize, out_cap: usize) -> Scope {
    scope_steps(grant_for(bytes), out_cap)
}

/// Opens a meter with an exact number of steps (tests).
pub fn scope_steps(steps: u64, out_cap: usize) -> Scope {
    let prev = METER.with(Cell::get);
    METER.with(|m| {
        m.set(Meter {
            left: steps,
            exhausted: false,
            used: 0,
            out_cap: out_cap.min(prev.out_cap),
        })
    });
    Scope { prev }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let inner = METER.with(Cell::get);
        // The enclosing scope pays for what the inner one used.
        let mut outer = self.prev;
        outer.used = outer.used.saturating_add(inner.used);
        if outer.left != u64::MAX {
            match outer.left.checked_sub(inner.used) {
                Some(l) => outer.left = l,
                None => {
                    outer.left = 0;
                    outer.exhausted = true;
                }
            }
        }
        METER.with(|m| m.set(outer));
    }
}

/// Charges `n` steps; false once the meter is exhausted (the walk should stop).
#[inline]
pub fn charge(n: u64) -> bool {
    METER.with(|c| {
        let mut m = c.get();
        if m.exhausted {
            return false;
        }
        m.used = m.used.saturating_add(n);
        if m.left != u64::MAX {
            match m.left.checked_sub(n) {
                Some(l) => m.left = l,
                None => {
                    m.left = 0;
                    m.exhausted = true;
                }
            }
        }
        c.set(m);
        !m.exhausted
    })
}

#[cfg(test)]
thread_local! {
    /// Calls of the walk functions, counted independently of the meter (property tests check
    /// that no walk does work it does not charge).
    pub static VISITS: Cell<u64> = const { Cell::new(0) };
    /// Calls after which a test walk panics instead of running on (a walk that does not charge
    /// the meter would otherwise run for hours on a memo DAG).
    pub static VISIT_LIMIT: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// Counts one call of a walk function (tests only; free otherwise).
#[inline(always)]
pub fn visit() {
    #[cfg(test)]
    VISITS.with(|v| {
        v.set(v.get() + 1);
        let limit = VISIT_LIMIT.with(Cell::get);
        assert!(v.get() <= limit, "a walk made more than {limit} calls");
    });
}

/// True once a charge did not fit: every answer computed since is unreliable.
pub fn exhausted() -> bool {
    METER.with(|c| c.get().exhausted)
}

/// Steps charged in the current scope.
pub fn used() -> u64 {
    METER.with(|c| c.get().used)
}

/// Most bytes an output-building walk may produce in the current scope.
pub fn output_cap() -> usize {
    METER.with(|c| c.get().out_cap)
}

/// Marks the meter exhausted (an output walk that reached [`output_cap`]).
pub fn exhaust() {
    METER.with(|c| {
        let mut m = c.get();
        m.exhausted = true;
        m.left = 0;
        c.set(m);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_the_outer_pays_for_the_inner() {
        let _outer = scope_steps(10, 100);
        assert!(charge(3));
        {
            let _inner = scope_steps(100, 1000);
            assert_eq!(output_cap(), 100);
            assert!(charge(5));
        }
        assert_eq!(used(), 8);
        assert!(charge(2));
        assert!(!charge(1));
        assert!(exhausted());
        assert!(!charge(0));
    }

    #[test]
    fn without_a_scope_nothing_runs_out() {
        assert!(charge(u64::MAX / 2));
        assert!(charge(u64::MAX / 2));
        assert!(!exhausted());
    }
}
