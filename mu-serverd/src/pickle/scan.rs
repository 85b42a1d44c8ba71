//! The plain-data validator: runs the same interpreter as the decoder but builds no values. It
//! tracks, per stack item, only its type, depth, hashability and whether something non-plain
//! is inside; containers keep just their links to other containers, so cycles and the exact
//! depth are found as the decoder finds them. Its verdict equals `decode` + `check_plain`;
//! the relay path runs it on every frame it forwards unchanged.
//!
//! Fast path: while every container is linked into at most one parent, is never changed after
//! it was linked and never into itself (what CPython's pickler always writes), the containers
//! form a tree whose depth and refusal reasons are final when each one is linked, so they are
//! summed up on the way and the final walk over the links is skipped. A memo `GET` or `DUP`
//! of a container that breaks this (sharing, cycles, late changes) sets `aliased`, and then the
//! links are walked as the decoder would.

use super::error::DecodeErrorKind as K;
use super::sink::{Kind, Sink, SinkResult};
use std::vec::Drain;

const LEAF: u32 = u32::MAX;

#[derive(Clone, Copy)]
pub(crate) struct SItem {
    kind: Kind,
    /// Depth of a leaf (nodes keep theirs).
    depth: u32,
    /// Arena index, or `LEAF`.
    node: u32,
    hashable: bool,
    /// 0 = plain, else 1 + index into `reasons`.
    bad: u32,
    /// For `str` leaves sliced from the input: where, to name globals in refusals.
    at: u32,
    len: u32,
}

struct SNode {
    /// Lower bound while decoding (exact when linked, on the fast path).
    depth: u32,
    /// Deepest leaf inside (leaves never change).
    leaf_depth: u32,
    hashable: bool,
    /// Its own reason or the first one among what was linked into it.
    bad: u32,
    /// Already inside another container.
    linked: bool,
}

/// The validator's growable state, reused between runs (see [`super::vm::Buffers`]).
#[derive(Default)]
pub(crate) struct ScanBuffers {
    nodes: Vec<SNode>,
    /// (parent, child) container links, in the order they were made.
    links: Vec<(u32, u32)>,
}

pub(crate) struct ScanSink<'a, 'b> {
    input: &'a [u8],
    nodes: &'b mut Vec<SNode>,
    links: &'b mut Vec<(u32, u32)>,
    reasons: Vec<String>,
    max_depth: u32,
    /// The containers stopped being a tree built bottom-up: walk the links at the end.
    aliased: bool,
}

impl<'a, 'b> ScanSink<'a, 'b> {
    pub(crate) fn new(input: &'a [u8], max_depth: u32, bufs: &'b mut ScanBuffers) -> Self {
        // A huge pickle's buffers are not kept for the next one.
        const KEEP: usize = super::vm::KEEP_CAPACITY;
        if bufs.nodes.capacity() > KEEP || bufs.links.capacity() > KEEP {
            *bufs = ScanBuffers::default();
        }
        bufs.nodes.clear();
        bufs.links.clear();
        ScanSink {
            input,
            nodes: &mut bufs.nodes,
            links: &mut bufs.links,
            reasons: Vec::new(),
            max_depth,
            aliased: false,
        }
    }

    fn leaf(kind: Kind, hashable: bool) -> SItem {
        SItem {
            kind,
            depth: 0,
            node: LEAF,
            hashable,
            bad: 0,
            at: 0,
            len: 0,
        }
    }

    fn reason(&mut self, r: String) -> u32 {
        self.reasons.push(r);
        self.reasons.len() as u32
    }

    fn depth_of(&self, it: &SItem) -> u32 {
        if it.node == LEAF {
            it.depth
        } else {
            self.nodes[it.node as usize].depth
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

    fn hashable(&self, it: &SItem) -> bool {
        if it.node == LEAF {
            it.hashable
        } else {
            self.nodes[it.node as usize].hashable
        }
    }

    fn new_node(&mut self, kind: Kind, depth: u32, hashable: bool, bad: u32) -> SinkResult<SItem> {
        let depth = self.checked(depth)?;
        let idx =
            u32::try_from(self.nodes.len()).map_err(|_| K::TooManyItems { max: LEAF as usize })?;
        if idx == LEAF {
            return Err(K::TooManyItems { max: LEAF as usize });
        }
        self.nodes.push(SNode {
            depth,
            leaf_depth: 0,
            hashable,
            bad,
            linked: false,
        });
        Ok(SItem {
            node: idx,
            ..Self::leaf(kind, hashable)
        })
    }

    /// Records `items` as contents of node `n`; `need_hash` for dict keys / set items (`step`
    /// selects which: every item, or every other one starting at the first).
    fn add(&mut self, n: u32, items: &[SItem], hash_step: Option<usize>) -> SinkResult<()> {
        let mut deepest = 0;
        let mut leaf_depth = 0;
        let mut bad = 0;
        if self.nodes[n as usize].linked {
            self.aliased = true; // changed after it was placed: its parents' sums are stale
        }
        for (i, it) in items.iter().enumerate() {
            deepest = deepest.max(self.depth_of(it));
            if it.node == LEAF {
                leaf_depth = leaf_depth.max(it.depth);
                if bad == 0 {
                    bad = it.bad;
                }
            } else {
                let child = &mut self.nodes[it.node as usize];
                if child.linked || it.node == n {
                    self.aliased = true; // shared, or inside itself
                }
                child.linked = true;
                if bad == 0 {
                    bad = child.bad;
                }
                self.links.push((n, it.node));
            }
            if let Some(step) = hash_step {
                if i % step == 0 && bad == 0 && !self.hashable(it) {
                    bad = self.reason(format!(
                        "unhashable {} as a dict key or set item",
                        it.kind.name()
                    ));
                }
            }
        }
        let d = self.checked(deepest.saturating_add(1))?;
        let node = &mut self.nodes[n as usize];
        node.depth = node.depth.max(d);
        node.leaf_depth = node.leaf_depth.max(leaf_depth);
        if node.bad == 0 {
            node.bad = bad;
        }
        Ok(())
    }

    /// Tuple, frozenset, persistent id, object: a leaf if every part is one (except objects).
    fn immutable(
        &mut self,
        items: &[SItem],
        kind: Kind,
        hashable: bool,
        bad: u32,
    ) -> SinkResult<SItem> {
        let all_leaves = items.iter().all(|it| it.node == LEAF);
        if all_leaves && kind != Kind::Object {
            let depth = items
                .iter()
                .map(|it| it.depth)
                .max()
                .unwrap_or(0)
                .saturating_add(1);
            let depth = self.checked(depth)?;
            let mut bad = bad;
            for it in items {
                if bad == 0 {
                    bad = it.bad;
                }
                if kind == Kind::FrozenSet && bad == 0 && !it.hashable {
                    bad = self.reason(format!("unhashable {} in a frozenset", it.kind.name()));
                }
            }
            let hashable = hashable && (kind != Kind::Tuple || items.iter().all(|it| it.hashable));
            return Ok(SItem {
                depth,
                bad,
                ..Self::leaf(kind, hashable)
            });
        }
        let hashable =
            hashable && (kind != Kind::Tuple || items.iter().all(|it| self.hashable(it)));
        let deepest = items.iter().map(|it| self.depth_of(it)).max().unwrap_or(0);
        let item = self.new_node(kind, deepest.saturating_add(1), hashable, bad)?;
        let step = (kind == Kind::FrozenSet).then_some(1);
        self.add(item.node, items, step)?;
        Ok(item)
    }

    fn name_of(&self, it: &SItem) -> String {
        let s = self
            .input
            .get(it.at as usize..(it.at as usize).saturating_add(it.len as usize));
        match s {
            Some(s) if it.len > 0 || it.at > 0 => String::from_utf8_lossy(s).into_owned(),
            _ => "?".to_string(),
        }
    }

    fn object(&mut self, parts: &[SItem], what: &str) -> SinkResult<SItem> {
        let callee = parts
            .first()
            .filter(|c| c.kind == Kind::Global && c.bad != 0);
        let r = match callee {
            Some(c) => format!("{what} of {}", self.reasons[c.bad as usize - 1]),
            None => format!(
                "{what} of a {}",
                parts.first().map_or("?", |c| c.kind.name())
            ),
        };
        let bad = self.reason(r);
        self.immutable(parts, Kind::Object, false, bad)
    }
}

impl Sink for ScanSink<'_, '_> {
    type Item = SItem;
    /// The first refusal reason reachable from the root, if any.
    type Output = Option<String>;

    fn kind(&self, item: &SItem) -> Kind {
        item.kind
    }
    fn none(&mut self) -> SItem {
        Self::leaf(Kind::None, true)
    }
    fn bool(&mut self, _b: bool) -> SItem {
        Self::leaf(Kind::Bool, true)
    }
    fn int(&mut self, _i: i64) -> SItem {
        Self::leaf(Kind::Int, true)
    }
    fn bigint(&mut self, _le: Vec<u8>) -> SItem {
        Self::leaf(Kind::Int, true)
    }
    fn float(&mut self, _f: f64) -> SItem {
        Self::leaf(Kind::Float, true)
    }
    fn str(&mut self, raw: &[u8], at: Option<usize>) -> SItem {
        let mut it = Self::leaf(Kind::Str, true);
        if let Some(at) = at {
            it.at = at as u32;
            it.len = raw.len() as u32;
        }
        it
    }
    fn bytes(&mut self, _b: &[u8]) -> SItem {
        Self::leaf(Kind::Bytes, true)
    }
    fn bytearray(&mut self, _b: &[u8]) -> SItem {
        let bad = self.reason("bytearray".to_string());
        SItem {
            bad,
            ..Self::leaf(Kind::ByteArray, false)
        }
    }
    fn global(&mut self, module: &[u8], name: &[u8]) -> SItem {
        let r = format!(
            "global {}.{}",
            String::from_utf8_lossy(module),
            String::from_utf8_lossy(name)
        );
        let bad = self.reason(r);
        SItem {
            bad,
            ..Self::leaf(Kind::Global, true)
        }
    }
    fn global_from(&mut self, module: SItem, name: SItem) -> SItem {
        let r = format!("global {}.{}", self.name_of(&module), self.name_of(&name));
        let bad = self.reason(r);
        SItem {
            bad,
            ..Self::leaf(Kind::Global, true)
        }
    }

    fn empty_list(&mut self, _filled: bool) -> SinkResult<SItem> {
        self.new_node(Kind::List, 1, false, 0)
    }
    fn empty_dict(&mut self) -> SinkResult<SItem> {
        self.new_node(Kind::Dict, 1, false, 0)
    }
    fn empty_set(&mut self) -> SinkResult<SItem> {
        self.new_node(Kind::Set, 1, false, 0)
    }
    fn tuple(&mut self, items: Drain<'_, SItem>) -> SinkResult<SItem> {
        let items = items.as_slice();
        self.immutable(items, Kind::Tuple, true, 0)
    }
    fn frozenset(&mut self, items: Drain<'_, SItem>) -> SinkResult<SItem> {
        self.immutable(items.as_slice(), Kind::FrozenSet, true, 0)
    }
    fn list(&mut self, items: Drain<'_, SItem>) -> SinkResult<SItem> {
        let items = items.as_slice();
        let deepest = items.iter().map(|it| self.depth_of(it)).max().unwrap_or(0);
        let l = self.new_node(Kind::List, deepest.saturating_add(1), false, 0)?;
        self.add(l.node, items, None)?;
        Ok(l)
    }
    fn dict(&mut self, items: Drain<'_, SItem>) -> SinkResult<SItem> {
        let items = items.as_slice();
        let deepest = items.iter().map(|it| self.depth_of(it)).max().unwrap_or(0);
        let d = self.new_node(Kind::Dict, deepest.saturating_add(1), false, 0)?;
        self.add(d.node, items, Some(2))?;
        Ok(d)
    }
    fn append(&mut self, target: &SItem, items: Drain<'_, SItem>) -> SinkResult<()> {
        self.add(target.node, items.as_slice(), None)
    }
    fn append_floats(
        &mut self,
        target: &SItem,
        _floats: impl Iterator<Item = f64>,
    ) -> SinkResult<()> {
        self.add(target.node, &[], None)
    }
    fn append_small_ints(
        &mut self,
        target: &SItem,
        _ints: impl Iterator<Item = u8>,
    ) -> SinkResult<()> {
        self.add(target.node, &[], None)
    }
    fn setitems(&mut self, target: &SItem, items: Drain<'_, SItem>) -> SinkResult<()> {
        self.add(target.node, items.as_slice(), Some(2))
    }
    fn additems(&mut self, target: &SItem, items: Drain<'_, SItem>) -> SinkResult<()> {
        self.add(target.node, items.as_slice(), Some(1))
    }
    fn build(&mut self, target: &SItem, state: SItem) -> SinkResult<()> {
        self.add(target.node, &[state], None)
    }
    fn reduce(&mut self, callable: SItem, args: SItem) -> SinkResult<SItem> {
        self.object(&[callable, args], "call")
    }
    fn newobj(&mut self, cls: SItem, args: SItem, kwargs: Option<SItem>) -> SinkResult<SItem> {
        match kwargs {
            Some(k) => self.object(&[cls, args, k], "instance"),
            None => self.object(&[cls, args], "instance"),
        }
    }
    fn inst(&mut self, cls: SItem, args: Drain<'_, SItem>) -> SinkResult<SItem> {
        let mut parts = Vec::with_capacity(args.len() + 1);
        parts.push(cls);
        parts.extend(args);
        self.object(&parts, "instance")
    }
    fn persid(&mut self, pid: SItem) -> SinkResult<SItem> {
        let bad = self.reason("persistent id".to_string());
        self.immutable(&[pid], Kind::PersId, true, bad)
    }

    fn finish(&mut self, root: SItem) -> SinkResult<Option<String>> {
        let first_bad = if root.node == LEAF {
            root.bad
        } else if !self.aliased {
            self.nodes[root.node as usize].bad
        } else {
            self.walk(root.node)?
        };
        Ok((first_bad != 0).then(|| self.reasons[first_bad as usize - 1].clone()))
    }
}

impl ScanSink<'_, '_> {
    /// Iterative DFS over the containers reachable from `root`: cycles and exact depth are
    /// decode errors (as in the decoder); returns the first refusal reason found.
    fn walk(&mut self, root: u32) -> SinkResult<u32> {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let n = self.nodes.len();
        // Links grouped by parent (stable, so children keep their order).
        let mut first = vec![0u32; n + 1];
        for &(p, _) in self.links.iter() {
            first[p as usize + 1] += 1;
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut child_of = vec![0u32; self.links.len()];
        for &(p, c) in self.links.iter() {
            child_of[fill[p as usize] as usize] = c;
            fill[p as usize] += 1;
        }
        let children = |i: usize| &child_of[first[i] as usize..first[i + 1] as usize];
        let mut state = vec![NEW; n];
        let mut exact = vec![0u32; n];
        let mut first_bad = 0;
        let mut work: Vec<(u32, bool)> = vec![(root, false)];
        while let Some((i, post)) = work.pop() {
            let iu = i as usize;
            if post {
                let node = &self.nodes[iu];
                let deepest = children(iu)
                    .iter()
                    .map(|&c| exact[c as usize])
                    .max()
                    .unwrap_or(0);
                exact[iu] = self.checked(deepest.max(node.leaf_depth).saturating_add(1))?;
                state[iu] = DONE;
                continue;
            }
            match state[iu] {
                DONE => continue,
                OPEN => return Err(K::Cyclic),
                _ => {}
            }
            state[iu] = OPEN;
            if first_bad == 0 {
                first_bad = self.nodes[iu].bad;
            }
            work.push((i, true));
            for &c in children(iu) {
                match state[c as usize] {
                    OPEN => return Err(K::Cyclic),
                    NEW => work.push((c, false)),
                    _ => {}
                }
            }
        }
        Ok(first_bad)
    }
}
