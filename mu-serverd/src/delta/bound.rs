//! A per-node upper bound of the encoded size, so that a Commit costs its own size, not the
//! node's, to keep the guarantee that no node a Commit edited encodes past `max_message_bytes`
//! (issue 14). Without it every Commit walked the whole edited node (`pickle::encoded_len`):
//! ~246,000 instructions per Commit on an 8,000-float node.
//!
//! # The measure the bound is kept on
//! The encoder's exact length depends on things a Commit does not control: which `Arc`s have
//! another holder (a shared one gets a 1-byte `MEMOIZE`, even if the other holder is outside
//! the node), and memo numbering (a reference is `BINGET` (2 bytes) below index 256 and
//! `LONG_BINGET` (5) above: one value memoized earlier shifts every later index). So the bound
//! is kept on `W(v)`: the encoder's length if every value it memoizes when shared were
//! memoized at its first occurrence (+1) and every repeated occurrence cost 5 bytes. Then
//! `exact(v) <= W(v)` however `v` is shared and numbered, and `W(v) <= 2.5 * exact(v)`: each
//! first occurrence has at least one byte of its own (+1 at most doubles it) and each reference
//! two (5 is 2.5 times that). After an exact walk the bound is reset to [`RESET`] `* exact`.
//!
//! # What a Commit adds to `W`
//! Removing an occurrence never raises `W` (removing the first occurrence of a shared value
//! moves its full encoding to the next occurrence, which cost 5). The fast path allows only
//! the groups below, and only when the apply copied no shared container and coerced no tuple
//! (checked after the apply; otherwise the exact walk runs for this Commit):
//! - `values_changed`, `iterable_item_added`, `dictionary_item_added`, `iterable_item_moved`:
//!   each puts a value of the delta at a path (replacing or inserting). The value's `Arc`s were
//!   decoded from the delta, so its first occurrence adds at most `W` of it standalone, at most
//!   `2.5 * exact` of it, counted in the delta's own re-encoding (not its bytes: a memoized
//!   big int or float referenced 1,000 times by 2-byte `BINGET`s re-encodes 1,000 times, as
//!   the node will; the re-encoding of the decoded delta counts that). A value put twice (a
//!   delta memo reference) costs 5 the second time. A dict key parsed from a path is a fresh
//!   literal without references: its `W` is at most 4 bytes per character of the path (a
//!   tuple of floats, `1.,` being 3 characters for 9 bytes, plus a memo byte per container),
//!   and the path is in the delta as a string of its length + 2. A container's framing grows
//!   by at most 3 bytes per item added (`MARK` and `APPENDS`/`SETITEMS` per batch of 1,000,
//!   `APPEND`/`SETITEM` for the first). So an entry adds at most `4 * path + 13 + 2.5 *
//!   value`, and every entry carries a path of at least 6 encoded bytes: all of it is within
//!   [`GROWTH`] `* exact(delta)` plus [`SLACK`].
//! - `iterable_item_removed`, `dictionary_item_removed`: removals only.
//!
//! Not bounded by the delta, so always walked exactly: `type_changes` (a conversion without a
//! new value builds from the old value: a list of a shared old value turned into a tuple adds
//! a reference per item), `_iterable_opcodes` (`equal` ranges may repeat old items),
//! `iterable_items_added/removed_at_indexes` (rebuild the list), `set_item_added/removed`
//! (rebuild the set), `attribute_added/removed`; a write through a shared container (the copy
//! is a new object: the container's whole encoding where it was a reference); a tuple
//! coerced to a list and back (a new tuple where the old one may have been shared).

use super::read::Group;
use super::{Delta, DeltaError};
use crate::pickle::value::Value;

/// `W(v) <= RESET * exact(v)`, as a fraction.
const RESET: (usize, usize) = (5, 2);
/// `W` grows by at most `GROWTH * exact(delta) + SLACK` on the fast path.
pub(crate) const GROWTH: usize = 8;
const SLACK: usize = 64;

/// An upper bound of `W` after an exact walk found `exact` bytes.
pub(crate) fn reset(exact: usize) -> usize {
    exact.saturating_mul(RESET.0) / RESET.1 + 1
}

impl Delta {
    /// What this delta can add to `W` of the node it edits, or `None` when its groups are not
    /// all bounded by the delta (see the module doc). Re-encodes the decoded delta (capped).
    pub(crate) fn w_growth(&self, cap: usize) -> Option<usize> {
        let bounded_only = [
            &self.type_changes,
            &self.iterable_opcodes,
            &self.items_added_at_indexes,
            &self.items_removed_at_indexes,
            &self.set_item_added,
            &self.set_item_removed,
            &self.attribute_added,
            &self.attribute_removed,
        ]
        .iter()
        .all(|g| empty(g));
        if !bounded_only {
            return None;
        }
        let exact = crate::pickle::encoded_len(&self.source, cap).ok()?;
        Some(exact.saturating_mul(GROWTH).saturating_add(SLACK))
    }
}

/// A group the engine does nothing with (absent, empty, or falsy and so skipped).
fn empty(g: &Group) -> bool {
    match g {
        Group::Absent => true,
        Group::Entries(x) => x.is_empty(),
        Group::Other(v) => !super::pyops::truthy(v),
    }
}

/// After a successful apply: keeps the node within `cap` and `bound` an upper bound of its
/// `W`. `bound` is `None` when unknown (then the exact walk runs). `fast` is the delta's
/// growth when the apply stayed on the fast path.
pub(crate) fn check(
    v: &Value,
    cap: usize,
    bound: &mut Option<usize>,
    fast: Option<usize>,
) -> Result<(), DeltaError> {
    if let (Some(b), Some(g)) = (*bound, fast) {
        let next = b.saturating_add(g);
        if next <= cap {
            *bound = Some(next);
            return Ok(());
        }
    }
    *bound = None;
    let exact = crate::pickle::encoded_len(v, cap).map_err(|t| {
        DeltaError::unsupported(format!(
            "refused as too large: the edited node would not fit in a message ({t})"
        ))
    })?;
    *bound = Some(reset(exact));
    Ok(())
}
