//! The decoder's arena: stack items, and the containers a pickle may still change (through the
//! memo) until `STOP`. Finished values are stored in place; arena nodes leave holes that
//! [`super::finish`] fills bottom-up.
//!
//! An empty list gets no arena node until something adds to it or refers to it a second time
//! ([`Slot::Empty`]): a pickle of memoized empty lists is 2 bytes per list, and a node (56
//! bytes) each was most of its decoding peak (issue 14). Where such a list is placed, its hole
//! records its number with [`EMPTY`] set; [`super::finish`] resolves it.

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
            // A lower bound: an empty list that became a node may be deeper by now (the
            // exact depth is computed at `STOP`).
            Slot::Empty(_) => 1,
            _ => 0,
        }
    }
}

#[derive(Clone)]
pub(super) enum Slot {
    Leaf(Value),
    Node(u32),
    /// The `n`th `EMPTY_LIST` of the pickle, with no node of its own unless
    /// `ValueSink::empties[n]` names one (it was added to or referenced twice).
    Empty(u32),
}

const _: () = assert!(std::mem::size_of::<Item>() == std::mem::size_of::<Value>());

/// Set in a hole's node number when it is an empty list's number instead ([`Slot::Empty`]).
pub(super) const EMPTY: u32 = 1 << 31;

impl Slot {
    /// What a hole records for a placed container (a leaf is placed as itself, never a hole).
    #[inline(always)]
    fn hole(&self) -> u32 {
        match *self {
            Slot::Node(n) => n,
            Slot::Empty(e) => e | EMPTY,
            Slot::Leaf(_) => 0,
        }
    }
}

/// The lower bound of a placed item's depth (`depths`: arena depths).
#[inline(always)]
fn depth_in(it: &Item, depths: &[u32]) -> u32 {
    match it.slot {
        Slot::Node(n) => depths.get(n as usize).copied().unwrap_or(0),
        _ => it.depth(),
    }
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
/// on pickles of tiny containers (issue 14). Later growth is by half (see [`grow`]), so
/// repeated single appends stay amortized.
#[inline(always)]
pub(super) fn room<T>(v: &mut Vec<T>, n: usize) {
    if v.capacity() == 0 {
        v.reserve_exact(n);
    } else if v.capacity() - v.len() < n {
        grow(v, n);
    }
}

/// Makes room for `n` more items, growing by at least half the capacity instead of
/// doubling it: a big list's (and the memo's) doubling slack was up to half of the decoder's
/// peak on pickles of tiny items, depending on where their count fell between powers of two
/// (issue 14). Still amortized constant time per item.
#[cold]
pub(super) fn grow<T>(v: &mut Vec<T>, n: usize) {
    v.reserve_exact(n.max(v.capacity() / 2).max(4));
}

/// [`Vec::push`] with an exact first allocation (see [`room`]).
#[inline(always)]
pub(super) fn push<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        if v.capacity() == 0 {
            v.reserve_exact(1);
        } else {
            grow(v, 1);
        }
    }
    v.push(x);
}

/// [`Vec::push`] growing by half instead of doubling (see [`grow`]), for the arena's per-node
/// tables and the memo.
#[inline(always)]
pub(super) fn push_arena<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        grow(v, 64);
    }
    v.push(x);
}

impl Seq {
    #[inline(always)]
    pub(super) fn push(&mut self, it: Item) {
        match it.slot {
            Slot::Leaf(v) => push(&mut self.values, v),
            slot => {
                push(&mut self.holes, (self.values.len() as u32, slot.hole()));
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
                Slot::Node(_) | Slot::Empty(_) => Value::None,
            }));
            return deepest;
        }
        let mut deepest = 0;
        for it in items {
            deepest = deepest.max(depth_in(&it, depths));
            match it.slot {
                Slot::Leaf(v) => self.values.push(v),
                slot => {
                    push(&mut self.holes, (self.values.len() as u32, slot.hole()));
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
            slot => {
                push(
                    &mut self.holes,
                    (self.values.len() as u32, is_value, slot.hole()),
                );
                Value::None
            }
        }
    }

    /// Appends key/value pairs in one pass; returns the deepest item (`depths`: arena depths).
    pub(super) fn extend(&mut self, items: impl Iterator<Item = Item>, depths: &[u32]) -> u32 {
        room(&mut self.values, items.size_hint().0 / 2);
        let mut deepest = 0;
        let depth = |it: &Item| depth_in(it, depths);
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
        deepest = deepest.max(depth_in(&it, depths));
        out.push(it);
    }
    deepest
}
