//! The decoder's [`Sink`]: builds [`Value`]s. Mutable containers (list, dict, set, object) live
//! in an arena while the pickle may still add to them through the memo; at `STOP` the arena is
//! turned into `Arc`s bottom-up, once per node, so memo sharing becomes `Arc` sharing and a
//! cycle is detected instead of looped over. Immutable values made only of finished values
//! (strings, scalars, tuples of those) are built directly. Arena types: [`super::arena`];
//! the conversion at `STOP`: [`super::finish`].

use super::arena::{
    extend_object, push_arena, room, CallNode, Item, Node, ObjNode, Pairs, Seq, Slot, EMPTY,
};
use super::error::DecodeErrorKind as K;
use super::sink::{Kind, Sink, SinkResult};
use super::value::{BigInt, PyStr, Value};
use std::sync::Arc;
use std::vec::Drain;

pub(crate) struct ValueSink {
    pub(super) nodes: Vec<Node>,
    /// Lower bound of each node's depth, kept while decoding to stop deep input early.
    pub(super) depth: Vec<u32>,
    pub(super) max_depth: u32,
    empty_tuple: Option<Arc<Vec<Value>>>,
    /// Per `EMPTY_LIST` of the pickle ([`Slot::Empty`]): [`FRESH`] while it is an empty list
    /// referred to once, else the arena node it became.
    pub(super) empties: Vec<u32>,
}

/// An empty list without an arena node (see [`ValueSink::empties`]).
pub(super) const FRESH: u32 = u32::MAX;

impl ValueSink {
    pub(crate) fn new(max_depth: u32) -> Self {
        ValueSink {
            nodes: Vec::new(),
            depth: Vec::new(),
            max_depth,
            empty_tuple: None,
            empties: Vec::new(),
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
            Slot::Empty(e) => match self.empties[e as usize] {
                FRESH => d,
                n => self.depth[n as usize],
            },
        }
    }

    /// The arena node of an empty list, made when it is first needed: something is added to
    /// it, or it is referred to a second time (so both places get the one `Arc` at `STOP`).
    fn promote(&mut self, e: u32) -> SinkResult<u32> {
        match self.empties[e as usize] {
            FRESH => {
                let n = self.new_node(Node::List(Seq::default()), 1)?;
                self.empties[e as usize] = n;
                Ok(n)
            }
            n => Ok(n),
        }
    }

    pub(super) fn checked(&self, d: u32) -> SinkResult<u32> {
        if d > self.max_depth {
            Err(K::TooDeep {
                max: self.max_depth,
            })
        } else {
            Ok(d)
        }
    }

    fn node(&mut self, n: Node, depth: u32) -> SinkResult<Item> {
        Ok(Item {
            slot: Slot::Node(self.new_node(n, depth)?),
        })
    }

    /// Adds a node to the arena; returns its index.
    #[inline(always)]
    fn new_node(&mut self, n: Node, depth: u32) -> SinkResult<u32> {
        let depth = self.checked(depth)?;
        // Below `EMPTY`, so a hole can tell nodes from empty lists.
        let idx = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&i| i < EMPTY)
            .ok_or(K::TooManyItems {
                max: EMPTY as usize,
            })?;
        push_arena(&mut self.nodes, n);
        push_arena(&mut self.depth, depth);
        Ok(idx)
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
                    Slot::Node(_) | Slot::Empty(_) => None,
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

    fn target(&mut self, target: &Item) -> SinkResult<u32> {
        match target.slot {
            Slot::Node(i) => Ok(i),
            Slot::Empty(e) => self.promote(e),
            // The interpreter checked the kind; leaves are never mutable containers.
            Slot::Leaf(_) => Err(K::BadOperand {
                opcode: 0,
                found: "immutable value",
            }),
        }
    }
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
            Slot::Empty(_) => Kind::List,
            Slot::Node(i) => match self.nodes.get(*i as usize) {
                Some(Node::List(_)) => Kind::List,
                Some(Node::Dict(_)) => Kind::Dict,
                Some(Node::Set(_)) => Kind::Set,
                Some(Node::Tuple(_)) => Kind::Tuple,
                Some(Node::FrozenSet(_)) => Kind::FrozenSet,
                Some(Node::PersId(_)) => Kind::PersId,
                Some(Node::Object(_)) | Some(Node::Taken) | Some(Node::Done(_)) | None => {
                    Kind::Object
                }
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

    fn empty_list(&mut self, filled: bool) -> SinkResult<Item> {
        if filled {
            // It will be a node at its first `APPENDS`: no detour through `empties`.
            return self.node(Node::List(Seq::default()), 1);
        }
        let e = u32::try_from(self.empties.len())
            .ok()
            .filter(|&e| e < EMPTY)
            .ok_or(K::TooManyItems {
                max: EMPTY as usize,
            })?;
        push_arena(&mut self.empties, FRESH);
        Ok(Item {
            slot: Slot::Empty(e),
        })
    }
    fn copied(&mut self, item: &Item) -> SinkResult<()> {
        if let Slot::Empty(e) = item.slot {
            self.promote(e)?;
        }
        Ok(())
    }
    fn empty_dict(&mut self) -> SinkResult<Item> {
        self.node(Node::Dict(Pairs::default()), 1)
    }
    fn empty_set(&mut self) -> SinkResult<Item> {
        self.node(Node::Set(Seq::default()), 1)
    }
    fn tuple(&mut self, items: Drain<'_, Item>) -> SinkResult<Item> {
        if items.len() == 0 {
            // CPython's empty tuple is a singleton, and the encoder never memoizes it: one
            // shared allocation per decode instead of 48 bytes per `)` (72x the input for a
            // list of empty tuples).
            let t = self.empty_tuple.get_or_insert_with(|| Arc::new(Vec::new()));
            return Ok(Self::leaf(Value::Tuple(t.clone())));
        }
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
        let t = self.target(target)?;
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
        let t = self.target(target)?;
        match &mut self.nodes[t as usize] {
            Node::List(v) => {
                room(&mut v.values, floats.size_hint().0);
                v.values.extend(floats.map(Value::Float))
            }
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
        let t = self.target(target)?;
        match &mut self.nodes[t as usize] {
            Node::List(v) => {
                room(&mut v.values, ints.size_hint().0);
                v.values.extend(ints.map(|i| Value::Int(i64::from(i))))
            }
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
        let t = self.target(target)?;
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
        let t = self.target(target)?;
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
        let t = self.target(target)?;
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
            Slot::Empty(e) => match self.empties[e as usize] {
                FRESH => Ok(Value::list(Vec::new())),
                r => self.convert(r),
            },
        }
    }
}
