//! The unpickler's memo (`PUT`/`MEMOIZE`/`GET`), bounded by `Limits::max_memo`.

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
    pub(super) fn put(&mut self, idx: u64, v: T, max: usize) -> Result<(), K> {
        let fresh = if let Some(slot) = usize::try_from(idx)
            .ok()
            .and_then(|i| self.dense.get_mut(i))
        {
            slot.replace(v).is_none()
        } else if idx == self.dense.len() as u64 {
            self.dense.push(Some(v));
            self.sparse.remove(&idx).is_none()
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

    pub(super) fn get(&self, idx: u64) -> Option<&T> {
        match usize::try_from(idx).ok().and_then(|i| self.dense.get(i)) {
            Some(slot) => slot.as_ref(),
            None => self.sparse.get(&idx),
        }
    }
}
