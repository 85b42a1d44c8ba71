//! The undo log that lets a Delta be applied *in place* to a stored node.
//!
//! deepdiff applies `old + Delta` to a deep copy, so a delta that raises halfway leaves `old`
//! untouched. Copying an 8,000-float node for every Commit was most of the server's work, so the
//! engine instead edits the (uniquely owned) value directly and records, for every write into the
//! tree under `root`, what puts it back. When the delta then raises, the records are replayed last
//! first and the value is exactly what it was: same items, same dict order, same float bits, and
//! the same `Arc`s wherever a container was shared (pickle memo sharing, or another holder), so it
//! encodes to the same bytes. Writes into detached values (deepdiff's temporaries) are not
//! recorded: they never reach the root.
//!
//! Paths are the positions [`super::place::Node::At`] uses (list index or dict entry position per
//! step). Each record's path is valid in the tree as it was right after the write it undoes,
//! which is the tree the rollback sees when it reaches that record.

use crate::pickle::value::Value;
use std::sync::Arc;

/// One write into the tree, as what undoes it.
pub(super) enum Undo {
    /// `self.root` as it was before it was replaced or deleted.
    Root(Option<Value>),
    /// What was at the path before it was overwritten. Also recorded for a container that was
    /// shared when a write went through it (so it was copied): putting the original `Arc` back
    /// restores its identity.
    Put(Vec<usize>, Value),
    /// An item was inserted at the path (list insert/append, new dict entry): remove it.
    Remove(Vec<usize>),
    /// A list item was removed from the path: insert it back.
    Insert(Vec<usize>, Value),
    /// A dict entry was removed from the path: insert it back.
    InsertEntry(Vec<usize>, Value, Value),
}

/// The records of one apply; empty and inert when not recording (`Delta::apply`, which works
/// on its own copy anyway).
pub(super) struct UndoLog {
    on: bool,
    entries: Vec<Undo>,
    /// A write copied a shared container (see `bound`: the copy may cost its whole encoding).
    copied: bool,
}

fn join(at: &[usize], i: usize) -> Vec<usize> {
    let mut p = Vec::with_capacity(at.len() + 1);
    p.extend_from_slice(at);
    p.push(i);
    p
}

impl UndoLog {
    pub(super) fn new(on: bool) -> UndoLog {
        UndoLog {
            on,
            entries: Vec::new(),
            copied: false,
        }
    }

    /// Writes recorded so far.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn root(&mut self, old: Option<Value>) {
        if self.on {
            self.entries.push(Undo::Root(old));
        }
    }

    /// Item `i` of the container at `at` was overwritten; `at` is `None` for detached values.
    pub(super) fn put(&mut self, at: Option<&[usize]>, i: usize, old: Value) {
        if let (true, Some(at)) = (self.on, at) {
            self.entries.push(Undo::Put(join(at, i), old));
        }
    }

    /// The value at `path` was replaced.
    pub(super) fn put_path(&mut self, path: &[usize], old: Value) {
        if self.on {
            self.entries.push(Undo::Put(path.to_vec(), old));
        }
    }

    pub(super) fn remove(&mut self, at: Option<&[usize]>, i: usize) {
        if let (true, Some(at)) = (self.on, at) {
            self.entries.push(Undo::Remove(join(at, i)));
        }
    }

    pub(super) fn insert(&mut self, at: Option<&[usize]>, i: usize, old: Value) {
        if let (true, Some(at)) = (self.on, at) {
            self.entries.push(Undo::Insert(join(at, i), old));
        }
    }

    pub(super) fn insert_entry(&mut self, at: Option<&[usize]>, i: usize, key: Value, old: Value) {
        if let (true, Some(at)) = (self.on, at) {
            self.entries.push(Undo::InsertEntry(join(at, i), key, old));
        }
    }

    /// Before writing through the container at `path`: if another holder shares it, the write
    /// copies it, so keep the original to put back.
    pub(super) fn note_shared(&mut self, v: &mut Value, path: &[usize]) {
        if self.on && is_shared(v) {
            self.copied = true;
            self.entries.push(Undo::Put(path.to_vec(), v.clone()));
        }
    }

    /// Whether a write copied a shared container (recorded only while recording).
    pub(super) fn copied_shared(&self) -> bool {
        self.copied
    }

    /// Undoes every recorded write, last first, and stops recording.
    pub(super) fn rollback(&mut self, root: &mut Option<Value>) {
        self.on = false;
        while let Some(u) = self.entries.pop() {
            undo_one(root, u);
        }
    }
}

/// Whether a write through this container copies it (`Arc::make_mut` on a shared `Arc`).
fn is_shared(v: &mut Value) -> bool {
    match v {
        Value::List(x) | Value::Tuple(x) => Arc::get_mut(x).is_none(),
        Value::Dict(d) => Arc::get_mut(d).is_none(),
        _ => false,
    }
}

/// Copy-on-write access to a position under the root, without recording.
fn walk_mut<'a>(root: &'a mut Option<Value>, steps: &[usize]) -> Option<&'a mut Value> {
    let mut cur = root.as_mut()?;
    for &s in steps {
        cur = match cur {
            Value::List(x) | Value::Tuple(x) => Arc::make_mut(x).get_mut(s)?,
            Value::Dict(d) => &mut Arc::make_mut(d).get_mut(s)?.1,
            _ => return None,
        };
    }
    Some(cur)
}

/// Applies one record. A record that does not fit the tree cannot happen (records are undone in
/// the reverse order of the writes); it is skipped rather than trusted with an index.
fn undo_one(root: &mut Option<Value>, u: Undo) {
    match u {
        Undo::Root(v) => *root = v,
        Undo::Put(path, v) => match walk_mut(root, &path) {
            Some(slot) => *slot = v,
            None if path.is_empty() => *root = Some(v),
            None => debug_assert!(false, "undo: no value at {path:?}"),
        },
        Undo::Remove(path) => {
            let Some((&i, at)) = path.split_last() else {
                return;
            };
            match walk_mut(root, at) {
                Some(Value::List(x)) if i < x.len() => {
                    Arc::make_mut(x).remove(i);
                }
                Some(Value::Dict(d)) if i < d.len() => {
                    Arc::make_mut(d).remove(i);
                }
                _ => debug_assert!(false, "undo: nothing to remove at {path:?}"),
            }
        }
        Undo::Insert(path, v) => {
            let Some((&i, at)) = path.split_last() else {
                return;
            };
            match walk_mut(root, at) {
                Some(Value::List(x)) if i <= x.len() => Arc::make_mut(x).insert(i, v),
                _ => debug_assert!(false, "undo: cannot insert at {path:?}"),
            }
        }
        Undo::InsertEntry(path, k, v) => {
            let Some((&i, at)) = path.split_last() else {
                return;
            };
            match walk_mut(root, at) {
                Some(Value::Dict(d)) if i <= d.len() => Arc::make_mut(d).insert(i, (k, v)),
                _ => debug_assert!(false, "undo: cannot insert an entry at {path:?}"),
            }
        }
    }
}
