//! The decoder's [`Sink`]: builds [`Value`]s. Mutable containers (list, dict, set, object) live
//! in an arena while the pickle may still add to them through the memo; at `STOP` the arena is
//! turned into `Arc`s bottom-up, once per node, so memo sharing becomes `Arc` sharing and a
//! cycle is detected instead of looped over. Immutable values made only of finished values
//! (strings, scalars, tuples of those) are built directly.

use super::error::DecodeErrorKind as K;
use super::sink::{Kind, Sink, SinkResult};
use super::value::{BigInt, Call, Object, PyStr, Value};
use std::sync::Arc;
use std::vec::Drain;

/// A stack item: a finished value, or an arena node still open to changes. As small as a
/// [`Value`] (the node index lives in its niche), so batches move without reshuffling.
#[derive(Clone)]
pub(crate) struct Item {
    slot: Slot,
}

impl Item {
    /// Nesting depth of a leaf: only tuples, frozensets and persistent ids of scalars are
    /// containers among leaves (anything deeper is an arena node). Nodes keep theirs in the arena.
    #[inline(always)]
    fn depth(&self) -> u32 {
        match &self.slot {
            Slot::Leaf(Value::Tuple(_) | Value::FrozenSet(_) | Value::PersId(_)) => 1,
            _ => 0,
        }
    }
}

#[derive(Clone)]
enum Slot {
    Leaf(Value),
    Node(u32),
}

enum Node {
    List(Seq),
    Dict(Pairs),
    Set(Seq),
    Tuple(Seq),
    FrozenSet(Seq),
    PersId(Item),
    Object(Box<ObjNode>),
    /// Already converted (only during `finish`).
    Taken,
}

/// The items of a list, set or tuple under construction: finished values in place (moved into
/// the final `Arc` without a copy), arena nodes as holes filled in at `finish`.
#[derive(Default)]
struct Seq {
    values: Vec<Value>,
    /// (index in `values`, arena node).
    holes: Vec<(u32, u32)>,
    /// Deepest leaf pushed (leaves never change).
    leaf_depth: u32,
}

impl Seq {
    #[inline(always)]
    fn push(&mut self, it: Item) {
        let d = it.depth();
        match it.slot {
            Slot::Leaf(v) => {
                self.leaf_depth = self.leaf_depth.max(d);
                self.values.push(v);
            }
            Slot::Node(n) => {
                self.holes.push((self.values.len() as u32, n));
                self.values.push(Value::None);
            }
        }
    }

    /// Appends `items` in one pass; returns the deepest of them (`depths`: arena depths).
    fn extend(&mut self, items: Drain<'_, Item>, depths: &[u32]) -> u32 {
        self.values.reserve(items.len());
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
            self.leaf_depth = self.leaf_depth.max(deepest);
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
                    self.leaf_depth = self.leaf_depth.max(d);
                    self.values.push(v);
                }
                Slot::Node(n) => {
                    deepest = deepest.max(depths.get(n as usize).copied().unwrap_or(0));
                    self.holes.push((self.values.len() as u32, n));
                    self.values.push(Value::None);
                }
            }
        }
        deepest
    }

    fn from_items(items: impl Iterator<Item = Item>) -> Seq {
        let mut s = Seq::default();
        s.values.reserve(items.size_hint().0);
        items.for_each(|it| s.push(it));
        s
    }
}

/// The pairs of a dict under construction, with holes like [`Seq`].
#[derive(Default)]
struct Pairs {
    values: Vec<(Value, Value)>,
    /// (index in `values`, true for the value / false for the key, arena node).
    holes: Vec<(u32, bool, u32)>,
    leaf_depth: u32,
}

impl Pairs {
    fn part(&mut self, it: Item, is_value: bool) -> Value {
        let d = it.depth();
        match it.slot {
            Slot::Leaf(v) => {
                self.leaf_depth = self.leaf_depth.max(d);
                v
            }
            Slot::Node(n) => {
                self.holes.push((self.values.len() as u32, is_value, n));
                Value::None
            }
        }
    }

    /// Appends key/value pairs in one pass; returns the deepest item (`depths`: arena depths).
    fn extend(&mut self, items: impl Iterator<Item = Item>, depths: &[u32]) -> u32 {
        self.values.reserve(items.size_hint().0 / 2);
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

struct ObjNode {
    call: CallNode,
    build: Vec<Item>,
    list_items: Vec<Item>,
    dict_items: Vec<(Item, Item)>,
    set_items: Vec<Item>,
}

enum CallNode {
    Reduce(Item, Item),
    NewObj(Item, Item, Option<Item>),
    Inst(Item, Vec<Item>),
}

pub(crate) struct ValueSink {
    nodes: Vec<Node>,
    /// Lower bound of each node's depth, kept while decoding to stop deep input early.
    depth: Vec<u32>,
    max_depth: u32,
}

impl ValueSink {
    pub(crate) fn new(max_depth: u32) -> Self {
        ValueSink {
            nodes: Vec::new(),
            depth: Vec::new(),
            max_depth,
        }
    }

    #[inline(always)]
    fn leaf(v: Value) -> Item {
        Item {
            slot: Slot::Leaf(v),
        }
    }

    fn depth_of(&self, it: &Item) -> u32 {
        let d = it.depth();
        match it.slot {
            Slot::Leaf(_) => d,
            Slot::Node(i) => self.depth[i as usize],
        }
    }

    fn checked(&self, d: u32) -> SinkResult<u32> {
        if d > self.max_depth {
            Err(K::TooDeep {
                max: self.max_depth,
            })
        } else {
            Ok(d)
        }
    }

    fn node(&mut self, n: Node, depth: u32) -> SinkResult<Item> {
        let depth = self.checked(depth)?;
        let idx = u32::try_from(self.nodes.len()).map_err(|_| K::TooManyItems {
            max: u32::MAX as usize,
        })?;
        self.nodes.push(n);
        self.depth.push(depth);
        Ok(Item {
            slot: Slot::Node(idx),
        })
    }

    /// Raises a node's depth after something was added to it.
    fn grow(&mut self, idx: u32, child_depth: u32) -> SinkResult<()> {
        let d = self.checked(child_depth.saturating_add(1))?;
        let slot = &mut self.depth[idx as usize];
        *slot = (*slot).max(d);
        Ok(())
    }

    fn max_depth_of<'x>(&self, items: impl Iterator<Item = &'x Item>) -> u32 {
        items.map(|it| self.depth_of(it)).max().unwrap_or(0)
    }

    /// A tuple, frozenset or persistent id: a leaf if every part is a scalar, else an arena
    /// node (so a leaf's depth is known from its type, see [`Item::depth`]).
    fn immutable(&mut self, items: Vec<Item>, kind: Kind) -> SinkResult<Item> {
        let depth = self.max_depth_of(items.iter()).saturating_add(1);
        let depth = self.checked(depth)?;
        if items
            .iter()
            .all(|it| matches!(it.slot, Slot::Leaf(_)) && it.depth() == 0)
        {
            let mut values: Vec<Value> = items
                .into_iter()
                .filter_map(|it| match it.slot {
                    Slot::Leaf(v) => Some(v),
                    Slot::Node(_) => None,
                })
                .collect();
            let v = match kind {
                Kind::Tuple => Value::Tuple(Arc::new(values)),
                Kind::FrozenSet => Value::FrozenSet(Arc::new(values)),
                _ => Value::PersId(Arc::new(values.pop().unwrap_or(Value::None))),
            };
            return Ok(Item {
                slot: Slot::Leaf(v),
            });
        }
        let node = match kind {
            Kind::Tuple => Node::Tuple(Seq::from_items(items.into_iter())),
            Kind::FrozenSet => Node::FrozenSet(Seq::from_items(items.into_iter())),
            _ => Node::PersId(items.into_iter().next().unwrap_or(Self::leaf(Value::None))),
        };
        self.node(node, depth)
    }

    fn object(&mut self, call: CallNode, depth: u32) -> SinkResult<Item> {
        let obj = ObjNode {
            call,
            build: Vec::new(),
            list_items: Vec::new(),
            dict_items: Vec::new(),
            set_items: Vec::new(),
        };
        self.node(Node::Object(Box::new(obj)), depth)
    }

    fn target(target: &Item) -> SinkResult<u32> {
        match target.slot {
            Slot::Node(i) => Ok(i),
            // The interpreter checked the kind; leaves are never mutable containers.
            Slot::Leaf(_) => Err(K::BadOperand {
                opcode: 0,
                found: "immutable value",
            }),
        }
    }
}

/// Appends to one of an object's item lists; returns the deepest item.
fn extend_object(out: &mut Vec<Item>, items: Drain<'_, Item>, depths: &[u32]) -> u32 {
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

pub(crate) fn value_kind(v: &Value) -> Kind {
    match v {
        Value::None => Kind::None,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::BigInt(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        Value::Bytes(_) => Kind::Bytes,
        Value::ByteArray(_) => Kind::ByteArray,
        Value::Tuple(_) => Kind::Tuple,
        Value::List(_) => Kind::List,
        Value::Dict(_) => Kind::Dict,
        Value::Set(_) => Kind::Set,
        Value::FrozenSet(_) => Kind::FrozenSet,
        Value::Global(_) => Kind::Global,
        Value::PersId(_) => Kind::PersId,
        Value::Object(_) => Kind::Object,
    }
}

impl Sink for ValueSink {
    type Item = Item;
    type Output = Value;

    fn kind(&self, item: &Item) -> Kind {
        match &item.slot {
            Slot::Leaf(v) => value_kind(v),
            Slot::Node(i) => match self.nodes.get(*i as usize) {
                Some(Node::List(_)) => Kind::List,
                Some(Node::Dict(_)) => Kind::Dict,
                Some(Node::Set(_)) => Kind::Set,
                Some(Node::Tuple(_)) => Kind::Tuple,
                Some(Node::FrozenSet(_)) => Kind::FrozenSet,
                Some(Node::PersId(_)) => Kind::PersId,
                Some(Node::Object(_)) | Some(Node::Taken) | None => Kind::Object,
            },
        }
    }

    fn none(&mut self) -> Item {
        Self::leaf(Value::None)
    }
    fn bool(&mut self, b: bool) -> Item {
        Self::leaf(Value::Bool(b))
    }
    fn int(&mut self, i: i64) -> Item {
        Self::leaf(Value::Int(i))
    }
    fn bigint(&mut self, le: Vec<u8>) -> Item {
        Self::leaf(Value::BigInt(BigInt(Arc::from(le))))
    }
    fn float(&mut self, f: f64) -> Item {
        Self::leaf(Value::Float(f))
    }
    fn str(&mut self, raw: &[u8], _at: Option<usize>) -> Item {
        Self::leaf(Value::Str(PyStr(Arc::from(raw))))
    }
    fn bytes(&mut self, b: &[u8]) -> Item {
        Self::leaf(Value::Bytes(Arc::from(b)))
    }
    fn bytearray(&mut self, b: &[u8]) -> Item {
        Self::leaf(Value::ByteArray(Arc::from(b)))
    }
    fn global(&mut self, module: &[u8], name: &[u8]) -> Item {
        let m = PyStr(Arc::from(module));
        let n = PyStr(Arc::from(name));
        Self::leaf(Value::Global(Arc::new((m, n))))
    }
    fn global_from(&mut self, module: Item, name: Item) -> Item {
        match (module.slot, name.slot) {
            (Slot::Leaf(Value::Str(m)), Slot::Leaf(Value::Str(n))) => {
                Self::leaf(Value::Global(Arc::new((m, n))))
            }
            // Unreachable: the interpreter checked both are str leaves.
            _ => Self::leaf(Value::None),
        }
    }

    fn empty_list(&mut self) -> SinkResult<Item> {
        self.node(Node::List(Seq::default()), 1)
    }
    fn empty_dict(&mut self) -> SinkResult<Item> {
        self.node(Node::Dict(Pairs::default()), 1)
    }
    fn empty_set(&mut self) -> SinkResult<Item> {
        self.node(Node::Set(Seq::default()), 1)
    }
    fn tuple(&mut self, items: Drain<'_, Item>) -> SinkResult<Item> {
        self.immutable(items.collect(), Kind::Tuple)
    }
    fn frozenset(&mut self, items: Drain<'_, Item>) -> SinkResult<Item> {
        self.immutable(items.collect(), Kind::FrozenSet)
    }
    fn list(&mut self, items: Drain<'_, Item>) -> SinkResult<Item> {
        let d = self.max_depth_of(items.as_slice().iter()).saturating_add(1);
        let seq = Seq::from_items(items);
        self.node(Node::List(seq), d)
    }
    fn dict(&mut self, items: Drain<'_, Item>) -> SinkResult<Item> {
        let d = self.max_depth_of(items.as_slice().iter()).saturating_add(1);
        let mut pairs = Pairs::default();
        pairs.extend(items, &self.depth);
        self.node(Node::Dict(pairs), d)
    }

    fn append(&mut self, target: &Item, items: Drain<'_, Item>) -> SinkResult<()> {
        let t = Self::target(target)?;
        let d = match &mut self.nodes[t as usize] {
            Node::List(v) => v.extend(items, &self.depth),
            Node::Object(o) => extend_object(&mut o.list_items, items, &self.depth),
            _ => {
                return Err(K::BadOperand {
                    opcode: b'e',
                    found: "non-list",
                })
            }
        };
        self.grow(t, d)
    }
    fn append_floats(
        &mut self,
        target: &Item,
        floats: impl Iterator<Item = f64>,
    ) -> SinkResult<()> {
        let t = Self::target(target)?;
        match &mut self.nodes[t as usize] {
            Node::List(v) => v.values.extend(floats.map(Value::Float)),
            _ => {
                return Err(K::BadOperand {
                    opcode: b'e',
                    found: "non-list",
                })
            }
        }
        self.grow(t, 0)
    }
    fn append_small_ints(
        &mut self,
        target: &Item,
        ints: impl Iterator<Item = u8>,
    ) -> SinkResult<()> {
        let t = Self::target(target)?;
        match &mut self.nodes[t as usize] {
            Node::List(v) => v.values.extend(ints.map(|i| Value::Int(i64::from(i)))),
            _ => {
                return Err(K::BadOperand {
                    opcode: b'e',
                    found: "non-list",
                })
            }
        }
        self.grow(t, 0)
    }
    fn setitems(&mut self, target: &Item, items: Drain<'_, Item>) -> SinkResult<()> {
        let t = Self::target(target)?;
        let d = match &mut self.nodes[t as usize] {
            Node::Dict(v) => v.extend(items, &self.depth),
            Node::Object(o) => {
                let start = o.list_items.len();
                let d = extend_object(&mut o.list_items, items, &self.depth);
                let mut flat = o.list_items.drain(start..);
                while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
                    o.dict_items.push((k, v));
                }
                d
            }
            _ => {
                return Err(K::BadOperand {
                    opcode: b'u',
                    found: "non-dict",
                })
            }
        };
        self.grow(t, d)
    }
    fn additems(&mut self, target: &Item, items: Drain<'_, Item>) -> SinkResult<()> {
        let t = Self::target(target)?;
        let d = match &mut self.nodes[t as usize] {
            Node::Set(v) => v.extend(items, &self.depth),
            Node::Object(o) => extend_object(&mut o.set_items, items, &self.depth),
            _ => {
                return Err(K::BadOperand {
                    opcode: 0x90,
                    found: "non-set",
                })
            }
        };
        self.grow(t, d)
    }
    fn build(&mut self, target: &Item, state: Item) -> SinkResult<()> {
        let t = Self::target(target)?;
        let d = self.depth_of(&state);
        self.grow(t, d)?;
        match &mut self.nodes[t as usize] {
            Node::Object(o) => o.build.push(state),
            _ => {
                return Err(K::BadOperand {
                    opcode: b'b',
                    found: "non-object",
                })
            }
        }
        Ok(())
    }

    fn reduce(&mut self, callable: Item, args: Item) -> SinkResult<Item> {
        let d = self
            .depth_of(&callable)
            .max(self.depth_of(&args))
            .saturating_add(1);
        self.object(CallNode::Reduce(callable, args), d)
    }
    fn newobj(&mut self, cls: Item, args: Item, kwargs: Option<Item>) -> SinkResult<Item> {
        let kd = kwargs.as_ref().map_or(0, |k| self.depth_of(k));
        let d = self
            .depth_of(&cls)
            .max(self.depth_of(&args))
            .max(kd)
            .saturating_add(1);
        self.object(CallNode::NewObj(cls, args, kwargs), d)
    }
    fn inst(&mut self, cls: Item, args: Drain<'_, Item>) -> SinkResult<Item> {
        let args: Vec<Item> = args.collect();
        let d = self
            .max_depth_of(args.iter())
            .max(self.depth_of(&cls))
            .saturating_add(1);
        self.object(CallNode::Inst(cls, args), d)
    }
    fn persid(&mut self, pid: Item) -> SinkResult<Item> {
        self.immutable(vec![pid], Kind::PersId)
    }

    fn finish(&mut self, root: Item) -> SinkResult<Value> {
        match root.slot {
            Slot::Leaf(v) => Ok(v),
            Slot::Node(r) => self.convert(r),
        }
    }
}

impl ValueSink {
    /// Converts the arena reachable from `root` into values: iterative post-order, each node
    /// once (so shared nodes become shared `Arc`s), exact depth, cycle detection.
    fn convert(&mut self, root: u32) -> SinkResult<Value> {
        let n = self.nodes.len();
        let mut done: Vec<Option<(Value, u32)>> = vec![None; n];
        let mut open = vec![false; n];
        let mut work: Vec<(u32, bool)> = vec![(root, false)];
        let mut children = Vec::new();
        while let Some((i, post)) = work.pop() {
            let iu = i as usize;
            if post {
                let node = std::mem::replace(&mut self.nodes[iu], Node::Taken);
                let (v, d) = self.assemble(node, &done)?;
                open[iu] = false;
                done[iu] = Some((v, self.checked(d)?));
                continue;
            }
            if done[iu].is_some() {
                continue;
            }
            if open[iu] {
                return Err(K::Cyclic);
            }
            open[iu] = true;
            work.push((i, true));
            children.clear();
            node_children(&self.nodes[iu], &mut children);
            for &c in &children {
                if open[c as usize] {
                    return Err(K::Cyclic);
                }
                if done[c as usize].is_none() {
                    work.push((c, false));
                }
            }
        }
        done[root as usize].take().map(|(v, _)| v).ok_or(K::Cyclic)
    }

    fn assemble(&self, node: Node, done: &[Option<(Value, u32)>]) -> SinkResult<(Value, u32)> {
        let mut depth = 0u32;
        let mut val = |it: Item| -> SinkResult<Value> {
            let d = it.depth();
            match it.slot {
                Slot::Leaf(v) => {
                    depth = depth.max(d);
                    Ok(v)
                }
                Slot::Node(c) => match done.get(c as usize) {
                    Some(Some((v, d))) => {
                        depth = depth.max(*d);
                        Ok(v.clone())
                    }
                    _ => Err(K::Cyclic),
                },
            }
        };
        let seq = |items: Vec<Item>, val: &mut dyn FnMut(Item) -> SinkResult<Value>| {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(val(it)?);
            }
            Ok::<_, K>(out)
        };
        let node_value = |n: u32, depth: &mut u32| -> SinkResult<Value> {
            match done.get(n as usize) {
                Some(Some((v, d))) => {
                    *depth = (*depth).max(*d);
                    Ok(v.clone())
                }
                _ => Err(K::Cyclic),
            }
        };
        let filled = |s: Seq, depth: &mut u32| -> SinkResult<Vec<Value>> {
            let mut values = s.values;
            *depth = (*depth).max(s.leaf_depth);
            for (i, n) in s.holes {
                values[i as usize] = node_value(n, depth)?;
            }
            Ok(values)
        };
        let map = |items: Vec<(Item, Item)>, val: &mut dyn FnMut(Item) -> SinkResult<Value>| {
            items
                .into_iter()
                .map(|(k, v)| Ok((val(k)?, val(v)?)))
                .collect::<SinkResult<Vec<(Value, Value)>>>()
        };
        let v = match node {
            Node::List(s) => Value::List(Arc::new(filled(s, &mut depth)?)),
            Node::Set(s) => Value::Set(Arc::new(filled(s, &mut depth)?)),
            Node::Tuple(s) => Value::Tuple(Arc::new(filled(s, &mut depth)?)),
            Node::FrozenSet(s) => Value::FrozenSet(Arc::new(filled(s, &mut depth)?)),
            Node::Dict(p) => {
                let mut values = p.values;
                depth = depth.max(p.leaf_depth);
                for (i, is_value, n) in p.holes {
                    let v = node_value(n, &mut depth)?;
                    let slot = &mut values[i as usize];
                    if is_value {
                        slot.1 = v;
                    } else {
                        slot.0 = v;
                    }
                }
                Value::Dict(Arc::new(values))
            }
            Node::PersId(it) => Value::PersId(Arc::new(val(it)?)),
            Node::Object(o) => {
                let o = *o;
                let call = match o.call {
                    CallNode::Reduce(c, a) => Call::Reduce {
                        callable: val(c)?,
                        args: val(a)?,
                    },
                    CallNode::NewObj(c, a, k) => Call::NewObj {
                        cls: val(c)?,
                        args: val(a)?,
                        kwargs: match k {
                            Some(k) => Some(val(k)?),
                            None => None,
                        },
                    },
                    CallNode::Inst(c, a) => Call::Inst {
                        cls: val(c)?,
                        args: seq(a, &mut val)?,
                    },
                };
                Value::Object(Arc::new(Object {
                    call,
                    build: seq(o.build, &mut val)?,
                    list_items: seq(o.list_items, &mut val)?,
                    dict_items: map(o.dict_items, &mut val)?,
                    set_items: seq(o.set_items, &mut val)?,
                }))
            }
            Node::Taken => return Err(K::Cyclic),
        };
        Ok((v, depth.saturating_add(1)))
    }
}

/// The arena nodes a node refers to directly.
fn node_children(node: &Node, out: &mut Vec<u32>) {
    let mut one = |it: &Item| {
        if let Slot::Node(c) = it.slot {
            out.push(c);
        }
    };
    match node {
        Node::List(s) | Node::Set(s) | Node::Tuple(s) | Node::FrozenSet(s) => {
            out.extend(s.holes.iter().map(|&(_, n)| n))
        }
        Node::Dict(p) => out.extend(p.holes.iter().map(|&(_, _, n)| n)),
        Node::PersId(it) => one(it),
        Node::Object(o) => {
            match &o.call {
                CallNode::Reduce(c, a) => {
                    one(c);
                    one(a);
                }
                CallNode::NewObj(c, a, k) => {
                    one(c);
                    one(a);
                    if let Some(k) = k {
                        one(k);
                    }
                }
                CallNode::Inst(c, a) => {
                    one(c);
                    a.iter().for_each(&mut one);
                }
            }
            o.build
                .iter()
                .chain(&o.list_items)
                .chain(&o.set_items)
                .for_each(&mut one);
            o.dict_items.iter().for_each(|(k, x)| {
                one(k);
                one(x);
            });
        }
        Node::Taken => {}
    }
}
