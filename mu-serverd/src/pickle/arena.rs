//! The decoder's arena: stack items, and the containers a pickle may still change (through the
//! memo) until `STOP`. Finished values are stored in place; arena nodes leave holes that
//! [`super::finish`] fills bottom-up.

use super::value::Value;
use std::vec::Drain;

/// A stack item: a finished value, or an arena node still open to changes. As small as a
/// [`Value`] (the node index lives in its niche), so batches move without reshuffling.
#[derive(Clone)]
pub(crate) struct Item {
    pub(super) slot: Slot,
}

impl Item {
    /// Nesting depth of a leaf: only tuples, frozensets and persistent ids of scalars are
    /// containers among leaves (anything deeper is an arena node). Nodes keep theirs in the arena.
    #[inline(always)]
    pub(super) fn depth(&self) -> u32 {
        match &self.slot {
            Slot::Leaf(Value::Tuple(_) | Value::FrozenSet(_) | Value::PersId(_)) => 1,
            _ => 0,
        }
    }
}

#[derive(Clone)]
pub(super) enum Slot {
    Leaf(Value),
    Node(u32),
}

pub(super) enum Node {
    List(Seq),
    Dict(Pairs),
    Set(Seq),
    Tuple(Seq),
    FrozenSet(Seq),
    PersId(Item),
    Object(Box<ObjNode>),
    /// Already converted (only during `finish`).
    Taken,
    /// Converted at `STOP` (kept in place of the node, so the conversion needs no second
    /// table as large as the arena; its exact depth replaces the lower bound in `depth`).
    Done(Value),
}

// One per mutable container of a pickle: its size is most of the peak on pickles of tiny
// containers (issue 14, `tests/decode_memory.rs`).
const _: () = assert!(std::mem::size_of::<Node>() <= 56);

/// The items of a list, set or tuple under construction: finished values in place (moved into
/// the final `Arc` without a copy), arena nodes as holes filled in at `finish`.
#[derive(Default)]
pub(super) struct Seq {
    pub(super) values: Vec<Value>,
    /// (index in `values`, arena node).
    pub(super) holes: Vec<(u32, u32)>,
}

/// Room for `n` more items. A container's first allocation is exact: most containers of a
/// pickle get all their items in one `APPEND(S)`/`SETITEM(S)`, and `Vec`'s smallest growth
/// (4 items: 96 bytes for one `Value`, 192 for one dict pair) was most of the decoder's peak
/// on pickles of tiny containers (issue 14). Later growth doubles as usual, so repeated single
/// appends stay amortized.
#[inline(always)]
pub(super) fn room<T>(v: &mut Vec<T>, n: usize) {
    if v.capacity() == 0 {
        v.reserve_exact(n);
    } else {
        v.reserve(n);
    }
}

/// [`Vec::push`] with an exact first allocation (see [`room`]).
#[inline(always)]
pub(super) fn push<T>(v: &mut Vec<T>, x: T) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(x);
}

impl Seq {
    #[inline(always)]
    pub(super) fn push(&mut self, it: Item) {
        match it.slot {
            Slot::Leaf(v) => push(&mut self.values, v),
            Slot::Node(n) => {
                push(&mut self.holes, (self.values.len() as u32, n));
                push(&mut self.values, Value::None);
            }
        }
    }

    /// Appends `items` in one pass; returns the deepest of them (`depths`: arena depths). The
    /// caller raises the node's depth to it: that lower bound stands in for the leaves' depth
    /// when [`super::finish`] computes the exact one.
    pub(super) fn extend(&mut self, items: Drain<'_, Item>, depths: &[u32]) -> u32 {
        room(&mut self.values, items.len());
        if items
            .as_slice()
            .iter()
            .all(|it| matches!(it.slot, Slot::Leaf(_)))
        {
            // The common case (a batch of scalars): one straight copy.
            let deepest = items
                .as_slice()
                .iter()
                .map(|it| it.depth())
                .max()
                .unwrap_or(0);
            // Moved out through a reference: LLVM then copies each value whole instead of
            // rebuilding it field by field (which stalled on store forwarding).
            self.values.extend(items.map(|mut it| match &mut it.slot {
                Slot::Leaf(v) => std::mem::replace(v, Value::None),
                Slot::Node(_) => Value::None,
            }));
            return deepest;
        }
        let mut deepest = 0;
        for it in items {
            let d = it.depth();
            match it.slot {
                Slot::Leaf(v) => {
                    deepest = deepest.max(d);
                    self.values.push(v);
                }
                Slot::Node(n) => {
                    deepest = deepest.max(depths.get(n as usize).copied().unwrap_or(0));
                    push(&mut self.holes, (self.values.len() as u32, n));
                    self.values.push(Value::None);
                }
            }
        }
        deepest
    }

    pub(super) fn from_items(items: impl Iterator<Item = Item>) -> Seq {
        let mut s = Seq::default();
        room(&mut s.values, items.size_hint().0);
        items.for_each(|it| s.push(it));
        s
    }
}

/// The pairs of a dict under construction, with holes like [`Seq`].
#[derive(Default)]
pub(super) struct Pairs {
    pub(super) values: Vec<(Value, Value)>,
    /// (index in `values`, true for the value / false for the key, arena node).
    pub(super) holes: Vec<(u32, bool, u32)>,
}

impl Pairs {
    pub(super) fn part(&mut self, it: Item, is_value: bool) -> Value {
        match it.slot {
            Slot::Leaf(v) => v,
            Slot::Node(n) => {
                push(&mut self.holes, (self.values.len() as u32, is_value, n));
                Value::None
            }
        }
    }

    /// Appends key/value pairs in one pass; returns the deepest item (`depths`: arena depths).
    pub(super) fn extend(&mut self, items: impl Iterator<Item = Item>, depths: &[u32]) -> u32 {
        room(&mut self.values, items.size_hint().0 / 2);
        let mut deepest = 0;
        let depth = |it: &Item| match it.slot {
            Slot::Leaf(_) => it.depth(),
            Slot::Node(n) => depths.get(n as usize).copied().unwrap_or(0),
        };
        let mut it = items;
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            deepest = deepest.max(depth(&k)).max(depth(&v));
            let k = self.part(k, false);
            let v = self.part(v, true);
            self.values.push((k, v));
        }
        deepest
    }
}

pub(super) struct ObjNode {
    pub(super) call: CallNode,
    pub(super) build: Vec<Item>,
    pub(super) list_items: Vec<Item>,
    pub(super) dict_items: Vec<(Item, Item)>,
    pub(super) set_items: Vec<Item>,
}

pub(super) enum CallNode {
    Reduce(Item, Item),
    NewObj(Item, Item, Option<Item>),
    Inst(Item, Vec<Item>),
}

/// Appends to one of an object's item lists; returns the deepest item.
pub(super) fn extend_object(out: &mut Vec<Item>, items: Drain<'_, Item>, depths: &[u32]) -> u32 {
    let mut deepest = 0;
    for it in items {
        deepest = deepest.max(match it.slot {
            Slot::Leaf(_) => it.depth(),
            Slot::Node(n) => depths.get(n as usize).copied().unwrap_or(0),
        });
        out.push(it);
    }
    deepest
}
