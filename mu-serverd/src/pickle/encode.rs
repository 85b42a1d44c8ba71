//! Protocol-4 encoder. CPython loads its output to a value equal to the input: same types, dict
//! order, float bits, big ints, surrogate strings, and the inert global/reduce/newobj/persid
//! values rebuilt as the opcodes that made them. Values shared through one `Arc` are memoized,
//! so aliasing survives. No `FRAME`s (optional for every loader). Iterative: deep values cannot
//! overflow the stack.
//!
//! [`encode_capped`] and [`encoded_len`] stop once the output passes a cap (issue 14: walks that
//! build output are capped by `max_message_bytes`): the server checks with them that a node a
//! Commit edited still encodes to a pickle it could accept and send.

use super::opcodes::*;
use super::value::{is_distinct_empty_list, Call, Object, PyStr, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Items per `APPENDS`/`SETITEMS`/`ADDITEMS` batch, as CPython writes them.
const BATCH: usize = 1000;

enum Task<'a> {
    Val(&'a Value),
    Op(u8),
    /// Memoize the value on top of the Python stack under this `Arc` address.
    Memo(Key),
    Items(std::slice::Iter<'a, Value>),
    Pairs(std::slice::Iter<'a, (Value, Value)>),
}

/// Where the encoder writes: the bytes, or only their count.
trait Out {
    fn push(&mut self, b: u8);
    fn extend_from_slice(&mut self, b: &[u8]);
    fn len(&self) -> usize;
}

impl Out for Vec<u8> {
    #[inline(always)]
    fn push(&mut self, b: u8) {
        Vec::push(self, b)
    }
    #[inline(always)]
    fn extend_from_slice(&mut self, b: &[u8]) {
        Vec::extend_from_slice(self, b)
    }
    #[inline(always)]
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// Counts the bytes [`encode`] would write, without writing them.
struct Count(usize);

impl Out for Count {
    #[inline(always)]
    fn push(&mut self, _: u8) {
        self.0 += 1;
    }
    #[inline(always)]
    fn extend_from_slice(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    #[inline(always)]
    fn len(&self) -> usize {
        self.0
    }
}

struct Encoder<'a, O: Out> {
    out: O,
    memo: HashMap<Key, u32>,
    tasks: Vec<Task<'a>>,
    /// The walk stops once `out` is longer than this.
    cap: usize,
}

/// The encoding of a value would be longer than the cap it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub cap: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "its pickle would be longer than {} bytes", self.cap)
    }
}

impl std::error::Error for TooLarge {}

fn run_encoder<O: Out>(value: &Value, out: O, cap: usize) -> Result<O, TooLarge> {
    let mut e = Encoder {
        out,
        memo: HashMap::new(),
        tasks: Vec::new(),
        cap,
    };
    e.out.extend_from_slice(&[PROTO, 4]);
    e.tasks.push(Task::Val(value));
    e.run();
    e.out.push(STOP);
    if e.out.len() > cap {
        return Err(TooLarge { cap });
    }
    Ok(e.out)
}

/// Encodes `value` as a protocol-4 pickle.
pub fn encode(value: &Value) -> Vec<u8> {
    run_encoder(value, Vec::with_capacity(256), usize::MAX).unwrap_or_default()
}

/// [`encode`], or `TooLarge` once the pickle passes `cap` bytes (the walk stops there, having
/// written at most `cap` bytes plus the last value's).
pub fn encode_capped(value: &Value, cap: usize) -> Result<Vec<u8>, TooLarge> {
    run_encoder(value, Vec::with_capacity(256.min(cap)), cap)
}

/// The length of [`encode`]`(value)` when it is at most `cap`, computed without writing it; the
/// walk stops once it passes `cap`. Values shared through one `Arc` count once and then as a
/// memo reference, as the encoder writes them; a value shared with something outside `value`
/// (another holder of its `Arc`) counts one `MEMOIZE` byte more than when it is not.
pub fn encoded_len(value: &Value, cap: usize) -> Result<usize, TooLarge> {
    run_encoder(value, Count(0), cap).map(|c| c.0)
}

/// A memo key: the allocation address of an `Arc` and the kind of value it is used as (one
/// allocation can back two kinds, e.g. a bytearray made from a bytes object).
type Key = (usize, u8);

/// The memo key of an `Arc` when something else shares it (only those need a memo slot).
fn shared<T: ?Sized>(a: &Arc<T>, kind: u8) -> Option<Key> {
    (Arc::strong_count(a) > 1).then_some((Arc::as_ptr(a) as *const u8 as usize, kind))
}

impl<'a, O: Out> Encoder<'a, O> {
    fn run(&mut self) {
        while let Some(t) = self.tasks.pop() {
            if self.out.len() > self.cap {
                return;
            }
            match t {
                Task::Val(v) => self.value(v),
                Task::Op(op) => self.out.push(op),
                Task::Memo(key) => self.memoize(key),
                Task::Items(mut it) => {
                    while let Some(v) = it.next() {
                        if !self.leaf(v) {
                            self.tasks.push(Task::Items(it));
                            self.tasks.push(Task::Val(v));
                            break;
                        }
                    }
                }
                Task::Pairs(mut it) => {
                    while let Some((k, v)) = it.next() {
                        let k_done = self.leaf(k);
                        if k_done && self.leaf(v) {
                            continue;
                        }
                        self.tasks.push(Task::Pairs(it));
                        self.tasks.push(Task::Val(v));
                        if !k_done {
                            // `v` must come after `k`: undo nothing, just order the tasks.
                            self.tasks.push(Task::Val(k));
                        }
                        break;
                    }
                }
            }
        }
    }

    fn memoize(&mut self, key: Key) {
        let idx = self.memo.len() as u32;
        self.memo.insert(key, idx);
        self.out.push(MEMOIZE);
    }

    /// Emits a memo reference if `key` was written before.
    fn recall(&mut self, key: Option<Key>) -> bool {
        let Some(idx) = key.and_then(|k| self.memo.get(&k).copied()) else {
            return false;
        };
        if idx < 256 {
            self.out.extend_from_slice(&[BINGET, idx as u8]);
        } else {
            self.out.push(LONG_BINGET);
            self.out.extend_from_slice(&idx.to_le_bytes());
        }
        true
    }

    fn sized(&mut self, short: u8, long: u8, long8: u8, data: &[u8]) {
        let n = data.len();
        if n < 256 {
            self.out.extend_from_slice(&[short, n as u8]);
        } else if let Ok(n32) = u32::try_from(n) {
            self.out.push(long);
            self.out.extend_from_slice(&n32.to_le_bytes());
        } else {
            self.out.push(long8);
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self.out.extend_from_slice(data);
    }

    fn str(&mut self, raw: &[u8]) {
        self.sized(SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, raw);
    }

    fn int(&mut self, i: i64) {
        if (0..256).contains(&i) {
            self.out.extend_from_slice(&[BININT1, i as u8]);
        } else if (0..65536).contains(&i) {
            self.out.push(BININT2);
            self.out.extend_from_slice(&(i as u16).to_le_bytes());
        } else if let Ok(i32v) = i32::try_from(i) {
            self.out.push(BININT);
            self.out.extend_from_slice(&i32v.to_le_bytes());
        } else {
            let b = i.to_le_bytes();
            let mut n = 8;
            while n > 1
                && ((b[n - 1] == 0 && b[n - 2] & 0x80 == 0)
                    || (b[n - 1] == 0xff && b[n - 2] & 0x80 != 0))
            {
                n -= 1;
            }
            self.out.extend_from_slice(&[LONG1, n as u8]);
            self.out.extend_from_slice(&b[..n]);
        }
    }

    /// A `str`, memoized when its `Arc` is shared (also when it names a global, so a name
    /// string used elsewhere stays one object).
    fn shared_str(&mut self, s: &PyStr) {
        let key = shared(&s.0, 1);
        if !self.recall(key) {
            self.str(&s.0);
            if let Some(k) = key {
                self.memoize(k);
            }
        }
    }

    fn global(&mut self, module: &PyStr, name: &PyStr) {
        self.shared_str(module);
        self.shared_str(name);
        self.out.push(STACK_GLOBAL);
    }

    /// Writes `v` at once when it holds no container; returns false for containers.
    fn leaf(&mut self, v: &Value) -> bool {
        match v {
            Value::None => self.out.push(NONE),
            Value::Bool(b) => self.out.push(if *b { NEWTRUE } else { NEWFALSE }),
            Value::Int(i) => self.int(*i),
            Value::BigInt(b) => {
                let b = &b.0;
                if b.len() < 256 {
                    self.out.extend_from_slice(&[LONG1, b.len() as u8]);
                } else {
                    self.out.push(LONG4);
                    self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                }
                self.out.extend_from_slice(b);
            }
            Value::Float(f) => {
                self.out.push(BINFLOAT);
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Str(s) => self.shared_str(s),
            Value::Bytes(b) => {
                let key = shared(b, 2);
                if !self.recall(key) {
                    self.sized(SHORT_BINBYTES, BINBYTES, BINBYTES8, b);
                    if let Some(k) = key {
                        self.memoize(k);
                    }
                }
            }
            Value::ByteArray(b) => {
                // `bytearray(b'...')`, as CPython writes it below protocol 5.
                let key = shared(b, 3);
                if !self.recall(key) {
                    self.global(&PyStr::new("builtins"), &PyStr::new("bytearray"));
                    self.sized(SHORT_BINBYTES, BINBYTES, BINBYTES8, b);
                    self.out.extend_from_slice(&[TUPLE1, REDUCE]);
                    if let Some(k) = key {
                        self.memoize(k);
                    }
                }
            }
            Value::Global(g) => {
                let key = shared(g, 4);
                if !self.recall(key) {
                    self.global(&g.0, &g.1);
                    if let Some(k) = key {
                        self.memoize(k);
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// Queues the batches `MARK items... op` for `items` (nothing when empty).
    fn batches(&mut self, items: &'a [Value], op: u8) {
        for chunk in items.chunks(BATCH).rev() {
            self.tasks.push(Task::Op(op));
            self.tasks.push(Task::Items(chunk.iter()));
            self.tasks.push(Task::Op(MARK));
        }
    }

    fn pair_batches(&mut self, items: &'a [(Value, Value)]) {
        for chunk in items.chunks(BATCH).rev() {
            self.tasks.push(Task::Op(SETITEMS));
            self.tasks.push(Task::Pairs(chunk.iter()));
            self.tasks.push(Task::Op(MARK));
        }
    }

    fn value(&mut self, v: &'a Value) {
        super::budget::visit();
        if self.leaf(v) {
            return;
        }
        match v {
            Value::Tuple(t) => {
                let key = shared(t, 5);
                if self.recall(key) {
                    return;
                }
                if t.is_empty() {
                    self.out.push(EMPTY_TUPLE);
                    return;
                }
                if let Some(k) = key {
                    self.tasks.push(Task::Memo(k));
                }
                match t.len() {
                    1 => self.tasks.push(Task::Op(TUPLE1)),
                    2 => self.tasks.push(Task::Op(TUPLE2)),
                    3 => self.tasks.push(Task::Op(TUPLE3)),
                    _ => self.tasks.push(Task::Op(TUPLE)),
                }
                self.tasks.push(Task::Items(t.iter()));
                if t.len() > 3 {
                    self.out.push(MARK);
                }
            }
            Value::FrozenSet(s) => {
                let key = shared(s, 6);
                if self.recall(key) {
                    return;
                }
                if let Some(k) = key {
                    self.tasks.push(Task::Memo(k));
                }
                self.tasks.push(Task::Op(FROZENSET));
                self.tasks.push(Task::Items(s.iter()));
                self.out.push(MARK);
            }
            Value::List(l) => {
                if is_distinct_empty_list(l) {
                    // Stands for a separate empty list at each place (never a memo reference).
                    self.out.push(EMPTY_LIST);
                    return;
                }
                let key = shared(l, 7);
                if self.recall(key) {
                    return;
                }
                self.out.push(EMPTY_LIST);
                if let Some(k) = key {
                    self.memoize(k);
                }
                if l.len() == 1 {
                    self.tasks.push(Task::Op(APPEND));
                    self.tasks.push(Task::Val(&l[0]));
                } else {
                    self.batches(l, APPENDS);
                }
            }
            Value::Set(s) => {
                let key = shared(s, 8);
                if self.recall(key) {
                    return;
                }
                self.out.push(EMPTY_SET);
                if let Some(k) = key {
                    self.memoize(k);
                }
                self.batches(s, ADDITEMS);
            }
            Value::Dict(d) => {
                let key = shared(d, 9);
                if self.recall(key) {
                    return;
                }
                self.out.push(EMPTY_DICT);
                if let Some(k) = key {
                    self.memoize(k);
                }
                self.pair_batches(d);
            }
            Value::PersId(p) => {
                let key = shared(p, 10);
                if self.recall(key) {
                    return;
                }
                if let Some(k) = key {
                    self.tasks.push(Task::Memo(k));
                }
                self.tasks.push(Task::Op(BINPERSID));
                self.tasks.push(Task::Val(p));
            }
            Value::Object(o) => {
                let key = shared(o, 11);
                if self.recall(key) {
                    return;
                }
                self.object(o, key);
            }
            _ => {}
        }
    }

    /// Queues: the call, its memo slot, `BUILD`s, then the added items.
    fn object(&mut self, o: &'a Object, key: Option<Key>) {
        self.batches(&o.set_items, ADDITEMS);
        self.pair_batches(&o.dict_items);
        self.batches(&o.list_items, APPENDS);
        for state in o.build.iter().rev() {
            self.tasks.push(Task::Op(BUILD));
            self.tasks.push(Task::Val(state));
        }
        if let Some(k) = key {
            self.tasks.push(Task::Memo(k));
        }
        match &o.call {
            Call::Reduce { callable, args } => {
                self.tasks.push(Task::Op(REDUCE));
                self.tasks.push(Task::Val(args));
                self.tasks.push(Task::Val(callable));
            }
            Call::NewObj { cls, args, kwargs } => {
                match kwargs {
                    Some(kw) => {
                        self.tasks.push(Task::Op(NEWOBJ_EX));
                        self.tasks.push(Task::Val(kw));
                    }
                    None => self.tasks.push(Task::Op(NEWOBJ)),
                }
                self.tasks.push(Task::Val(args));
                self.tasks.push(Task::Val(cls));
            }
            Call::Inst { cls, args } => {
                self.tasks.push(Task::Op(OBJ));
                self.tasks.push(Task::Items(args.iter()));
                self.tasks.push(Task::Val(cls));
                self.tasks.push(Task::Op(MARK));
            }
        }
    }
}
