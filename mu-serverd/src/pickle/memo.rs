//! The unpickler's memo (`PUT`/`MEMOIZE`/`GET`), bounded by `Limits::max_memo`.
//!
//! CPython's pickler numbers memo slots 0, 1, 2, ... (`MEMOIZE`, or `BINPUT` with the next
//! index), so those go in a `Vec` by position and never touch a hash map: hashing every slot
//! was most of the validator's cost on small relayed nodes. Only indices out of that sequence
//! (hand-made or hostile pickles) use the map.

use super::error::DecodeErrorKind as K;
use std::collections::HashMap;

/// The memo: dense for the indices CPython assigns (0, 1, 2, ...), sparse for anything else.
pub(super) struct Memo<T> {
    pub(super) dense: Vec<Option<T>>,
    pub(super) sparse: HashMap<u64, T>,
    /// Number of distinct indices stored: the index `MEMOIZE` uses next.
    pub(super) count: usize,
}

impl<T: Clone> Memo<T> {
    #[inline]
    pub(super) fn put(&mut self, idx: u64, v: T, max: usize) -> Result<(), K> {
        let fresh = if let Some(slot) = usize::try_from(idx)
            .ok()
            .and_then(|i| self.dense.get_mut(i))
        {
            slot.replace(v).is_none()
        } else if idx == self.dense.len() as u64 {
            super::arena::push_arena(&mut self.dense, Some(v));
            // The common case (no index ever left the sequence) skips hashing `idx`.
            self.sparse.is_empty() || self.sparse.remove(&idx).is_none()
        } else {
            self.sparse.insert(idx, v).is_none()
        };
        if fresh {
            self.count += 1;
            if self.count > max {
                return Err(K::MemoTooLarge { max });
            }
        }
        Ok(())
    }

    #[inline]
    pub(super) fn get(&self, idx: u64) -> Option<&T> {
        match usize::try_from(idx).ok().and_then(|i| self.dense.get(i)) {
            Some(slot) => slot.as_ref(),
            None if self.sparse.is_empty() => None,
            None => self.sparse.get(&idx),
        }
    }
}
