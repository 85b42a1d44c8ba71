//! Pickles whose memo references make their values DAGs: each node may refer to any earlier
//! one, so a few hundred bytes can describe 2^40 leaves. Written opcode by opcode, as a hostile
//! client would, not through the encoder.

/// A protocol-4 pickle under construction; every value is memoized and named by its index.
pub(crate) struct P {
    pub out: Vec<u8>,
    next: u32,
}

impl P {
    pub(crate) fn new() -> P {
        P {
            out: vec![0x80, 4],
            next: 0,
        }
    }
    fn memo(&mut self) -> u32 {
        self.out.push(0x94); // MEMOIZE
        self.next += 1;
        self.next - 1
    }
    pub(crate) fn get(&mut self, i: u32) {
        match u8::try_from(i) {
            Ok(b) => self.out.extend_from_slice(&[b'h', b]), // BINGET
            Err(_) => {
                self.out.push(b'j'); // LONG_BINGET
                self.out.extend_from_slice(&i.to_le_bytes());
            }
        }
    }
    fn gets(&mut self, items: &[u32]) {
        self.out.push(b'('); // MARK
        for &i in items {
            self.get(i);
        }
    }
    pub(crate) fn str(&mut self, s: &str) -> u32 {
        self.out.push(0x8c); // SHORT_BINUNICODE
        self.out.push(s.len() as u8);
        self.out.extend_from_slice(s.as_bytes());
        self.memo()
    }
    pub(crate) fn int(&mut self, i: u8) -> u32 {
        self.out.extend_from_slice(&[b'K', i]); // BININT1
        self.memo()
    }
    /// A `LONG4` integer of `n` bytes (all 0x11: positive).
    pub(crate) fn big_int(&mut self, n: u32) -> u32 {
        self.out.push(0x8b); // LONG4
        self.out.extend_from_slice(&n.to_le_bytes());
        self.out.extend(std::iter::repeat_n(0x11, n as usize));
        self.memo()
    }
    pub(crate) fn tuple(&mut self, items: &[u32]) -> u32 {
        self.gets(items);
        self.out.push(b't');
        self.memo()
    }
    pub(crate) fn frozenset(&mut self, items: &[u32]) -> u32 {
        self.gets(items);
        self.out.push(0x91); // FROZENSET
        self.memo()
    }
    pub(crate) fn list(&mut self, items: &[u32]) -> u32 {
        self.out.push(b']');
        let m = self.memo();
        self.gets(items);
        self.out.push(b'e'); // APPENDS
        m
    }
    pub(crate) fn set(&mut self, items: &[u32]) -> u32 {
        self.out.push(0x8f); // EMPTY_SET
        let m = self.memo();
        self.gets(items);
        self.out.push(0x90); // ADDITEMS
        m
    }
    pub(crate) fn dict(&mut self, pairs: &[(u32, u32)]) -> u32 {
        self.out.push(b'}');
        let m = self.memo();
        self.out.push(b'(');
        for &(k, v) in pairs {
            self.get(k);
            self.get(v);
        }
        self.out.push(b'u'); // SETITEMS
        m
    }
    /// `builtins.<name>` (protocol 0 `GLOBAL`, which every loader reads).
    pub(crate) fn builtin(&mut self, name: &str) -> u32 {
        self.out
            .extend_from_slice(format!("cbuiltins\n{name}\n").as_bytes());
        self.memo()
    }
    /// `{key: value}` of strings to earlier values.
    pub(crate) fn sdict(&mut self, items: &[(&str, u32)]) -> u32 {
        let keyed: Vec<(u32, u32)> = items.iter().map(|(k, v)| (self.str(k), *v)).collect();
        self.dict(&keyed)
    }
    pub(crate) fn finish(mut self, top: u32) -> Vec<u8> {
        self.get(top);
        self.out.push(b'.');
        self.out
    }
    /// `x_0 = leaf`, `x_{i+1} = (x_i, x_i)`: 2^depth leaves in ~4 bytes per level.
    pub(crate) fn chain(&mut self, leaf: u32, depth: u32) -> u32 {
        (0..depth).fold(leaf, |x, _| self.tuple(&[x, x]))
    }
}

/// The shape of one random DAG: node `i` is `kind` over children picked among nodes `< i`.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub nodes: Vec<(u8, Vec<usize>)>,
}

/// Writes `spec` into `p`; returns the top node and whether it is hashable.
pub(crate) fn build(p: &mut P, spec: &Spec) -> (u32, bool) {
    let mut ids: Vec<(u32, bool)> = vec![(p.str("leaf"), true), (p.int(7), true)];
    for (kind, children) in &spec.nodes {
        let picked: Vec<(u32, bool)> = children.iter().map(|c| ids[c % ids.len()]).collect();
        let items: Vec<u32> = picked.iter().map(|x| x.0).collect();
        let all_hashable = picked.iter().all(|x| x.1);
        let hashable_items: Vec<u32> = picked.iter().filter(|x| x.1).map(|x| x.0).collect();
        let node = match kind % 10 {
            0..=5 => (p.tuple(&items), all_hashable),
            6 => (p.list(&items), false),
            7 if !hashable_items.is_empty() => (p.frozenset(&hashable_items), true),
            8 if !hashable_items.is_empty() => (p.set(&hashable_items), false),
            9 if !hashable_items.is_empty() => {
                let pairs: Vec<(u32, u32)> =
                    hashable_items.iter().map(|&k| (k, items[0])).collect();
                (p.dict(&pairs), false)
            }
            _ => (p.tuple(&items), all_hashable),
        };
        ids.push(node);
    }
    *ids.last().unwrap_or(&ids[0])
}

/// Leaves of the tree the DAG stands for (saturating), to show what a naive walk would face.
pub(crate) fn tree_size(spec: &Spec) -> u64 {
    let mut sizes: Vec<u64> = vec![1, 1];
    for (_, children) in &spec.nodes {
        let n = sizes.len();
        let s = children
            .iter()
            .fold(1u64, |a, c| a.saturating_add(sizes[c % n]));
        sizes.push(s);
    }
    *sizes.last().unwrap_or(&1)
}
