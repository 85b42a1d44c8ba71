//! `Debug` for [`Value`], bounded: the derived one would print a memo DAG in full (2^40 leaves
//! from a few hundred bytes) wherever a value reaches a log or error message. The format is the
//! derived one; after [`DEBUG_CAP`] bytes the rest is elided as `…`.

use super::value::{Call, Object, Value};
use std::fmt::{self, Write};

/// Most bytes one `{:?}` of a value writes.
pub(super) const DEBUG_CAP: usize = 4096;

struct Capped<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    left: usize,
    elided: bool,
}

impl Capped<'_, '_> {
    fn full(&self) -> bool {
        self.elided
    }
    fn put(&mut self, s: &str) -> fmt::Result {
        if self.elided {
            return Ok(());
        }
        if s.len() <= self.left {
            self.left -= s.len();
            return self.f.write_str(s);
        }
        let mut cut = self.left;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.elided = true;
        self.f.write_str(&s[..cut])?;
        self.f.write_str("…")
    }
    fn show(&mut self, d: &dyn fmt::Debug) -> fmt::Result {
        let mut s = String::new();
        // Leaves only (strings, byte strings, numbers): bounded by their own size.
        let _ = write!(s, "{d:?}");
        self.put(&s)
    }
    fn seq(&mut self, items: &[Value]) -> fmt::Result {
        self.put("[")?;
        for (i, v) in items.iter().enumerate() {
            if self.full() {
                break;
            }
            if i > 0 {
                self.put(", ")?;
            }
            self.value(v)?;
        }
        self.put("]")
    }
    fn pairs(&mut self, items: &[(Value, Value)]) -> fmt::Result {
        self.put("[")?;
        for (i, (k, v)) in items.iter().enumerate() {
            if self.full() {
                break;
            }
            if i > 0 {
                self.put(", ")?;
            }
            self.put("(")?;
            self.value(k)?;
            self.put(", ")?;
            self.value(v)?;
            self.put(")")?;
        }
        self.put("]")
    }
    fn wrapped(&mut self, name: &str, inner: impl FnOnce(&mut Self) -> fmt::Result) -> fmt::Result {
        self.put(name)?;
        self.put("(")?;
        inner(self)?;
        self.put(")")
    }
    fn value(&mut self, v: &Value) -> fmt::Result {
        super::budget::visit();
        if self.full() {
            return Ok(());
        }
        match v {
            Value::None => self.put("None"),
            Value::Bool(b) => self.wrapped("Bool", |c| c.show(b)),
            Value::Int(i) => self.wrapped("Int", |c| c.show(i)),
            Value::BigInt(b) => self.wrapped("BigInt", |c| {
                c.put("BigInt(")?;
                c.show_bytes(&b.0)?;
                c.put(")")
            }),
            Value::Float(x) => self.wrapped("Float", |c| c.show(x)),
            Value::Str(s) => self.wrapped("Str", |c| c.show(s)),
            Value::Bytes(b) => self.wrapped("Bytes", |c| c.show_bytes(b)),
            Value::ByteArray(b) => self.wrapped("ByteArray", |c| c.show_bytes(b)),
            Value::Tuple(x) => self.wrapped("Tuple", |c| c.seq(x)),
            Value::List(x) => self.wrapped("List", |c| c.seq(x)),
            Value::Dict(d) => self.wrapped("Dict", |c| c.pairs(d)),
            Value::Set(x) => self.wrapped("Set", |c| c.seq(x)),
            Value::FrozenSet(x) => self.wrapped("FrozenSet", |c| c.seq(x)),
            Value::Global(g) => self.wrapped("Global", |c| {
                c.put("(")?;
                c.show(&g.0)?;
                c.put(", ")?;
                c.show(&g.1)?;
                c.put(")")
            }),
            Value::PersId(p) => self.wrapped("PersId", |c| c.value(p)),
            Value::Object(o) => self.wrapped("Object", |c| c.object(o)),
        }
    }
    fn show_bytes(&mut self, b: &[u8]) -> fmt::Result {
        // `[1, 2, 3]` as derived, written piecewise so a huge payload stops at the cap.
        self.put("[")?;
        for (i, x) in b.iter().enumerate() {
            if self.full() {
                break;
            }
            if i > 0 {
                self.put(", ")?;
            }
            self.put(&x.to_string())?;
        }
        self.put("]")
    }
    fn object(&mut self, o: &Object) -> fmt::Result {
        self.put("Object { call: ")?;
        match &o.call {
            Call::Reduce { callable, args } => {
                self.put("Reduce { callable: ")?;
                self.value(callable)?;
                self.put(", args: ")?;
                self.value(args)?;
            }
            Call::NewObj { cls, args, kwargs } => {
                self.put("NewObj { cls: ")?;
                self.value(cls)?;
                self.put(", args: ")?;
                self.value(args)?;
                self.put(", kwargs: ")?;
                match kwargs {
                    Some(k) => self.wrapped("Some", |c| c.value(k))?,
                    None => self.put("None")?,
                }
            }
            Call::Inst { cls, args } => {
                self.put("Inst { cls: ")?;
                self.value(cls)?;
                self.put(", args: ")?;
                self.seq(args)?;
            }
        }
        self.put(" }, build: ")?;
        self.seq(&o.build)?;
        self.put(", list_items: ")?;
        self.seq(&o.list_items)?;
        self.put(", dict_items: ")?;
        self.pairs(&o.dict_items)?;
        self.put(", set_items: ")?;
        self.seq(&o.set_items)?;
        self.put(" }")
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Capped {
            f,
            left: DEBUG_CAP,
            elided: false,
        }
        .value(self)
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Capped {
            f,
            left: DEBUG_CAP,
            elided: false,
        }
        .object(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn small_values_print_as_derived() {
        let v = Value::dict(vec![(
            Value::str("a"),
            Value::list(vec![Value::Int(1), Value::None, Value::bytes(b"\x01")]),
        )]);
        assert_eq!(
            format!("{v:?}"),
            r#"Dict([(Str("a"), List([Int(1), None, Bytes([1])]))])"#
        );
    }

    #[test]
    fn a_memo_dag_prints_at_most_the_cap() {
        let mut v = Value::str("x");
        for _ in 0..64 {
            v = Value::Tuple(Arc::new(vec![v.clone(), v]));
        }
        let s = format!("{v:?}");
        assert!(s.len() <= DEBUG_CAP + 4, "{}", s.len());
        assert!(s.ends_with('…'));
    }
}
