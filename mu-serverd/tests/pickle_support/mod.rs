//! Shared helpers of the codec's differential tests: finding the venv's CPython, the framed
//! pipe protocol of `tests/py/pickle_oracle.py`, and the type-exact description format of
//! `tests/py/pickle_describe.py`, produced here from decoded values.

#![allow(dead_code)]

use mu_serverd::pickle::{Call, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// The venv python (`MU_TEST_PYTHON` overrides); a missing venv fails the test loudly.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MU_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(p.exists(), "{} is missing: run tests/setup.sh", p.display());
    p
}

pub fn py_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/py")
}

pub fn write_msg(w: &mut impl Write, b: &[u8]) {
    w.write_all(&(b.len() as u32).to_be_bytes())
        .expect("write to oracle");
    w.write_all(b).expect("write to oracle");
}

pub fn read_msg(r: &mut impl Read) -> Vec<u8> {
    let mut head = [0u8; 4];
    r.read_exact(&mut head)
        .expect("oracle closed its output early (see its stderr above)");
    let mut b = vec![0u8; u32::from_be_bytes(head) as usize];
    r.read_exact(&mut b).expect("oracle output truncated");
    b
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn int_hex(i: i64) -> String {
    let b = i.to_le_bytes();
    let mut n = 8;
    while n > 1
        && ((b[n - 1] == 0 && b[n - 2] & 0x80 == 0) || (b[n - 1] == 0xff && b[n - 2] & 0x80 != 0))
    {
        n -= 1;
    }
    hex(&b[..n])
}

/// The description of `v` in the format of `pickle_describe.py`.
pub fn describe(v: &Value, sort_sets: bool) -> String {
    let mut d = Describer {
        ids: HashMap::new(),
        out: String::new(),
        sort_sets,
    };
    d.walk(v);
    d.out
}

struct Describer {
    ids: HashMap<usize, usize>,
    out: String,
    sort_sets: bool,
}

impl Describer {
    /// Writes `tag<id>:` on first sight and returns true; `@<id>;` afterwards.
    fn mutable(&mut self, ptr: usize, tag: &str) -> bool {
        if let Some(id) = self.ids.get(&ptr) {
            let _ = write!(self.out, "@{id};");
            return false;
        }
        let id = self.ids.len();
        self.ids.insert(ptr, id);
        let _ = write!(self.out, "{tag}{id}:");
        true
    }

    fn items(&mut self, xs: &[Value], is_set: bool) {
        if is_set && self.sort_sets {
            let mut parts: Vec<String> = xs.iter().map(|x| describe(x, true)).collect();
            parts.sort();
            parts.iter().for_each(|p| self.out.push_str(p));
        } else {
            xs.iter().for_each(|x| self.walk(x));
        }
    }

    fn walk(&mut self, v: &Value) {
        match v {
            Value::None => self.out.push('N'),
            Value::Bool(b) => self.out.push(if *b { 'T' } else { 'F' }),
            Value::Int(i) => {
                let _ = write!(self.out, "i{};", int_hex(*i));
            }
            Value::BigInt(b) => {
                let _ = write!(self.out, "i{};", hex(&b.0));
            }
            Value::Float(f) => {
                let _ = write!(self.out, "f{};", hex(&f.to_be_bytes()));
            }
            Value::Str(s) => {
                let _ = write!(self.out, "s{};", hex(s.as_bytes()));
            }
            Value::Bytes(b) => {
                let _ = write!(self.out, "y{};", hex(b));
            }
            Value::ByteArray(b) => {
                if self.mutable(Arc::as_ptr(b) as *const u8 as usize, "Y") {
                    let _ = write!(self.out, "{};", hex(b));
                }
            }
            Value::Tuple(t) => {
                self.out.push('(');
                self.items(t, false);
                self.out.push(')');
            }
            Value::FrozenSet(t) => {
                self.out.push_str("F(");
                self.items(t, true);
                self.out.push(')');
            }
            Value::List(l) => {
                // The decoder's stand-in for unshared empty lists: a new object at each place.
                let ptr = if mu_serverd::pickle::value::is_distinct_empty_list(l) {
                    usize::MAX - self.ids.len()
                } else {
                    Arc::as_ptr(l) as usize
                };
                if self.mutable(ptr, "[") {
                    self.items(l, false);
                    self.out.push(']');
                }
            }
            Value::Dict(d) => {
                if self.mutable(Arc::as_ptr(d) as usize, "{") {
                    for (k, x) in d.iter() {
                        self.walk(k);
                        self.walk(x);
                    }
                    self.out.push('}');
                }
            }
            Value::Set(s) => {
                if self.mutable(Arc::as_ptr(s) as usize, "<") {
                    self.items(s, true);
                    self.out.push('>');
                }
            }
            Value::Global(g) => {
                let _ = write!(
                    self.out,
                    "g{}.{};",
                    hex(g.0.as_bytes()),
                    hex(g.1.as_bytes())
                );
            }
            Value::PersId(p) => {
                self.out.push('p');
                self.walk(p);
            }
            Value::Object(o) => {
                if !self.mutable(Arc::as_ptr(o) as usize, "o") {
                    return;
                }
                match &o.call {
                    Call::Reduce { callable, args } => {
                        self.out.push('R');
                        self.walk(callable);
                        self.walk(args);
                    }
                    Call::NewObj { cls, args, kwargs } => {
                        self.out.push('N');
                        self.walk(cls);
                        self.walk(args);
                        match kwargs {
                            Some(Value::Dict(d)) if d.is_empty() => {}
                            Some(k) => self.walk(k),
                            None => {}
                        }
                    }
                    Call::Inst { cls, args } => {
                        self.out.push('I');
                        self.walk(cls);
                        self.out.push('(');
                        self.items(args, false);
                        self.out.push(')');
                    }
                }
                self.out.push('|');
                self.items(&o.build, false);
                self.out.push('|');
                self.items(&o.list_items, false);
                self.out.push('|');
                for (k, x) in &o.dict_items {
                    self.walk(k);
                    self.walk(x);
                }
                self.out.push('|');
                self.items(&o.set_items, false);
                self.out.push(';');
            }
        }
    }
}
