//! The end of a decode: the arena reachable from the root becomes values, bottom-up and once
//! per node (shared nodes become shared `Arc`s), with the exact depth and cycle detection.
//! Iterative, so no input can exhaust the stack. An empty list that never got a node (referred
//! to once, nothing added) becomes [`Value::distinct_empty_list`]: no allocation of its own.

use super::arena::{CallNode, Item, Node, Seq, Slot, EMPTY};
use super::build::{ValueSink, FRESH};
use super::error::DecodeErrorKind as K;
use super::sink::SinkResult;
use super::value::{Call, Object, Value};
use std::sync::Arc;

impl ValueSink {
    /// Converts the arena reachable from `root` into values: iterative post-order, each node
    /// once (so shared nodes become shared `Arc`s), exact depth, cycle detection.
    pub(super) fn convert(&mut self, root: u32) -> SinkResult<Value> {
        // The arena lives until the last value is built, beside all of them: its doubling's
        // slack (up to half of it) was a tenth of the peak on pickles of tiny containers.
        shrink(&mut self.nodes);
        shrink(&mut self.depth);
        shrink(&mut self.empties);
        let empty = Value::distinct_empty_list();
        let n = self.nodes.len();
        let mut open = vec![false; n];
        let mut work: Vec<(u32, bool)> = vec![(root, false)];
        let mut children = Vec::new();
        let done = |nodes: &[Node], i: usize| matches!(nodes[i], Node::Done(_));
        while let Some((i, post)) = work.pop() {
            let iu = i as usize;
            if post {
                let node = std::mem::replace(&mut self.nodes[iu], Node::Taken);
                let (v, d) = self.assemble(node, &self.nodes, &self.depth, &empty)?;
                open[iu] = false;
                // The lower bound kept while decoding covers the node's leaves (see
                // `Seq::extend`); its children's exact depths are in `d`.
                let d = self.checked(d.max(self.depth[iu]))?;
                self.depth[iu] = d;
                self.nodes[iu] = Node::Done(v);
                continue;
            }
            if done(&self.nodes, iu) {
                continue;
            }
            if open[iu] {
                return Err(K::Cyclic);
            }
            open[iu] = true;
            work.push((i, true));
            children.clear();
            node_children(&self.nodes[iu], &self.empties, &mut children);
            for &c in &children {
                if open[c as usize] {
                    return Err(K::Cyclic);
                }
                if !done(&self.nodes, c as usize) {
                    work.push((c, false));
                }
            }
        }
        match std::mem::replace(&mut self.nodes[root as usize], Node::Taken) {
            Node::Done(v) => Ok(v),
            _ => Err(K::Cyclic),
        }
    }

    /// The value of `node` and the depth its children give it (`done`, `depths`: the converted
    /// nodes and their exact depths).
    fn assemble(
        &self,
        node: Node,
        done: &[Node],
        depths: &[u32],
        empty: &Value,
    ) -> SinkResult<(Value, u32)> {
        let empties = &self.empties[..];
        let mut depth = 0u32;
        // A converted node, or a fresh empty list (a hole's number with `EMPTY` set).
        let node_value = |n: u32, depth: &mut u32| -> SinkResult<Value> {
            let n = match n {
                n if n & EMPTY == 0 => n,
                e => match empties[(e & !EMPTY) as usize] {
                    FRESH => {
                        *depth = (*depth).max(1);
                        return Ok(empty.clone());
                    }
                    n => n,
                },
            };
            match done.get(n as usize) {
                Some(Node::Done(v)) => {
                    *depth = (*depth).max(depths[n as usize]);
                    Ok(v.clone())
                }
                _ => Err(K::Cyclic),
            }
        };
        let mut val = |it: Item| -> SinkResult<Value> {
            let d = it.depth();
            match it.slot {
                Slot::Leaf(v) => {
                    depth = depth.max(d);
                    Ok(v)
                }
                Slot::Node(c) => node_value(c, &mut depth),
                Slot::Empty(e) => node_value(e | EMPTY, &mut depth),
            }
        };
        let seq = |items: Vec<Item>, val: &mut dyn FnMut(Item) -> SinkResult<Value>| {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(val(it)?);
            }
            Ok::<_, K>(out)
        };
        let filled = |s: Seq, depth: &mut u32| -> SinkResult<Vec<Value>> {
            let mut values = s.values;
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
            Node::Taken | Node::Done(_) => return Err(K::Cyclic),
        };
        Ok((v, depth.saturating_add(1)))
    }
}

/// Gives back a large `Vec`'s unused capacity (a small one's is not worth a reallocation on
/// the relay's hot path).
#[inline(always)]
fn shrink<T>(v: &mut Vec<T>) {
    #[cold]
    #[inline(never)]
    fn cold<T>(v: &mut Vec<T>) {
        v.shrink_to_fit();
    }
    if v.capacity() - v.len() > 1024 {
        cold(v);
    }
}

/// The arena node a hole refers to (`None`: an empty list that never became one).
#[inline(always)]
fn hole_node(n: u32, empties: &[u32]) -> Option<u32> {
    if n & EMPTY == 0 {
        return Some(n);
    }
    match empties[(n & !EMPTY) as usize] {
        FRESH => None,
        n => Some(n),
    }
}

/// The arena nodes a node refers to directly.
fn node_children(node: &Node, empties: &[u32], out: &mut Vec<u32>) {
    let mut one = |it: &Item| match it.slot {
        Slot::Node(c) => out.push(c),
        Slot::Empty(e) => out.extend(hole_node(e | EMPTY, empties)),
        Slot::Leaf(_) => {}
    };
    match node {
        Node::List(s) | Node::Set(s) | Node::Tuple(s) | Node::FrozenSet(s) => {
            out.extend(s.holes.iter().filter_map(|&(_, n)| hole_node(n, empties)))
        }
        Node::Dict(p) => out.extend(
            p.holes
                .iter()
                .filter_map(|&(_, _, n)| hole_node(n, empties)),
        ),
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
        Node::Taken | Node::Done(_) => {}
    }
}
