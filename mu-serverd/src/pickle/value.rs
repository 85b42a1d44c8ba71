//! The value model every pickle decodes into and every encoded pickle comes from.
//!
//! It is deliberately *inert*: a global reference, a `REDUCE`, a `NEWOBJ` or a persistent id is
//! kept as a description of what a Python unpickler would have done, never resolved or called.
//!
//! Containers are behind `Arc` so that
//! - a value shared through the pickle memo stays one shared allocation (`Arc::ptr_eq`), which the
//!   encoder turns back into a memo reference;
//! - the Delta engine can copy-on-write (`Arc::make_mut`) only the containers a delta touches
//!   instead of deep-copying a whole node;
//! - values can cross to a persistence thread (`Send + Sync`).
//!
//! A pickle whose object graph is cyclic (a list containing itself) cannot be represented and is
//! refused by the decoder.

use std::sync::Arc;

/// A Python `str` as CPython pickles it: UTF-8, except that lone surrogates are written with
/// `surrogatepass` (three bytes `ED A0..BF xx`), so the bytes are not always valid UTF-8.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PyStr(pub Arc<[u8]>);

impl PyStr {
    pub fn new(s: &str) -> Self {
        PyStr(Arc::from(s.as_bytes()))
    }
    /// The raw bytes, as they appear in a pickle (`surrogatepass` UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The text, when it holds no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl std::fmt::Debug for PyStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "{s:?}"),
            None => write!(f, "str{:?}", String::from_utf8_lossy(&self.0)),
        }
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> Self {
        PyStr::new(s)
    }
}

/// An integer outside `i64`: little-endian two's complement, minimal length, exactly as the
/// payload of `LONG1`/`LONG4`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct BigInt(pub Arc<[u8]>);

/// What a Python unpickler would have built by calling something. Kept inert.
#[derive(Clone, Debug)]
pub enum Call {
    /// `callable(*args)`, from `REDUCE` (callable is usually a [`Value::Global`]).
    Reduce { callable: Value, args: Value },
    /// `cls.__new__(cls, *args, **kwargs)`, from `NEWOBJ` (`kwargs` is `None`) or `NEWOBJ_EX`.
    NewObj {
        cls: Value,
        args: Value,
        kwargs: Option<Value>,
    },
    /// `INST module name` / `OBJ`: instantiate a class with the marked arguments.
    Inst { cls: Value, args: Vec<Value> },
}

/// An object a Python unpickler would have constructed, with everything that was applied to it
/// afterwards, in order.
#[derive(Clone)]
pub struct Object {
    pub call: Call,
    /// `BUILD` states applied to it (usually zero or one).
    pub build: Vec<Value>,
    /// Items added with `APPEND(S)` (an object that behaves like a list).
    pub list_items: Vec<Value>,
    /// Items added with `SETITEM(S)` (an object that behaves like a dict, e.g. `OrderedDictPlus`).
    pub dict_items: Vec<(Value, Value)>,
    /// Items added with `ADDITEMS`.
    pub set_items: Vec<Value>,
}

/// One decoded pickle value. Its `Debug` is bounded (see `debug.rs`).
#[derive(Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// Only for integers that do not fit `i64`; never holds a value that does.
    BigInt(BigInt),
    /// Bit-exact: NaN payloads and `-0.0` are preserved.
    Float(f64),
    Str(PyStr),
    Bytes(Arc<[u8]>),
    ByteArray(Arc<[u8]>),
    Tuple(Arc<Vec<Value>>),
    List(Arc<Vec<Value>>),
    /// Insertion order is kept; keys are unique under Python equality when decoded from CPython.
    Dict(Arc<Vec<(Value, Value)>>),
    /// In pickle order; Python set equality does not depend on it.
    Set(Arc<Vec<Value>>),
    FrozenSet(Arc<Vec<Value>>),
    /// `GLOBAL`/`STACK_GLOBAL`: a name, never looked up.
    Global(Arc<(PyStr, PyStr)>),
    /// A persistent id (`PERSID`/`BINPERSID`), e.g. deepdiff's `'<<NoneType>>'`.
    PersId(Arc<Value>),
    /// The result of `REDUCE`/`NEWOBJ`/`INST`/`OBJ`, possibly with `BUILD`/items applied.
    Object(Arc<Object>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(PyStr::new(s))
    }
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(Arc::from(b))
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }
    /// An empty list that is its own Python object, without an allocation of its own (see
    /// [`is_distinct_empty_list`]).
    pub fn distinct_empty_list() -> Value {
        Value::List(DISTINCT_EMPTY_LIST.clone())
    }
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Arc::new(items))
    }
    pub fn dict(items: Vec<(Value, Value)>) -> Value {
        Value::Dict(Arc::new(items))
    }
    pub fn global(module: &str, name: &str) -> Value {
        Value::Global(Arc::new((PyStr::new(module), PyStr::new(name))))
    }

    /// The Python type name, for error and log messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Global(_) => "global",
            Value::PersId(_) => "persistent id",
            Value::Object(_) => "object",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => s.as_str(),
            _ => None,
        }
    }

    /// Looks a `str` key up in a dict (exact string match; the common case for protocol data).
    pub fn get_str_key(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(items) => items
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s.as_bytes() == key.as_bytes()))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Type-exact structural equality: same types everywhere, same dict order, floats compared
    /// by bits, sets compared as multisets (order-insensitive). This is what the differential
    /// tests mean by "equal"; Python `==` (where `1 == 1.0 == True`) lives in the Delta engine.
    ///
    /// A container compared with itself (one `Arc`) is equal without a walk; every other
    /// container compared is charged to the work meter ([`super::budget`]): once it runs out the
    /// answer is `false` and the caller must check [`super::budget::exhausted`].
    pub fn strict_eq(&self, other: &Value) -> bool {
        super::budget::visit();
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (BigInt(a), BigInt(b)) => charge_bytes(a.0.len()) && a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Str(a), Str(b)) => charge_bytes(a.0.len()) && a == b,
            (Bytes(a), Bytes(b)) | (ByteArray(a), ByteArray(b)) => charge_bytes(a.len()) && a == b,
            (Tuple(a), Tuple(b)) | (List(a), List(b)) => {
                Arc::ptr_eq(a, b) || (charge_items(a.len()) && seq_strict_eq(a, b))
            }
            (Dict(a), Dict(b)) => {
                Arc::ptr_eq(a, b)
                    || (a.len() == b.len()
                        && charge_items(a.len())
                        && a.iter()
                            .zip(b.iter())
                            .all(|((ka, va), (kb, vb))| ka.strict_eq(kb) && va.strict_eq(vb)))
            }
            (Set(a), Set(b)) | (FrozenSet(a), FrozenSet(b)) => {
                Arc::ptr_eq(a, b) || multiset_strict_eq(a, b)
            }
            (Global(a), Global(b)) => a == b,
            (PersId(a), PersId(b)) => Arc::ptr_eq(a, b) || a.strict_eq(b),
            (Object(a), Object(b)) => {
                Arc::ptr_eq(a, b) || (charge_items(object_len(a)) && object_strict_eq(a, b))
            }
            _ => false,
        }
    }
}

/// The one allocation behind every empty list the decoder found unshared (issue 14: a
/// pickle of memoized empty lists is 2 bytes per list, and an `Arc<Vec>` of its own is 40 more
/// bytes each). Each place holding it is a *distinct* empty list, as in the pickle it came from:
/// the encoder writes it afresh every time (never as a memo reference), and anything that edits
/// it goes through `Arc::make_mut`, which copies it (the static keeps its count above one).
static DISTINCT_EMPTY_LIST: std::sync::LazyLock<Arc<Vec<Value>>> =
    std::sync::LazyLock::new(|| Arc::new(Vec::new()));

/// Whether `list` is the allocation of [`Value::distinct_empty_list`]: every occurrence is a
/// separate Python object, so identity-aware walks (the encoder's memo, aliasing checks) must
/// not take two occurrences for one object.
#[inline]
pub fn is_distinct_empty_list(list: &Arc<Vec<Value>>) -> bool {
    list.is_empty() && Arc::ptr_eq(list, &DISTINCT_EMPTY_LIST)
}

/// Charges a container visit of `len` items to the work meter.
#[inline]
pub(crate) fn charge_items(len: usize) -> bool {
    super::budget::charge(1 + len as u64)
}

/// Charges a comparison or hash of `len` bytes (one step per 64 bytes; short ones are free).
#[inline]
pub(crate) fn charge_bytes(len: usize) -> bool {
    len < 256 || super::budget::charge((len / 64) as u64)
}

fn object_len(o: &Object) -> usize {
    3 + o.build.len() + o.list_items.len() + o.dict_items.len() + o.set_items.len()
}

fn seq_strict_eq(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.strict_eq(y))
}

fn multiset_strict_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        // Quadratic: every candidate costs a step.
        if !charge_items(b.len()) {
            return false;
        }
        let found = (0..b.len()).find(|&i| !used[i] && x.strict_eq(&b[i]));
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            Option::None => false,
        }
    })
}

fn object_strict_eq(a: &Object, b: &Object) -> bool {
    let call_eq = match (&a.call, &b.call) {
        (
            Call::Reduce {
                callable: c1,
                args: a1,
            },
            Call::Reduce {
                callable: c2,
                args: a2,
            },
        ) => c1.strict_eq(c2) && a1.strict_eq(a2),
        (
            Call::NewObj {
                cls: c1,
                args: a1,
                kwargs: k1,
            },
            Call::NewObj {
                cls: c2,
                args: a2,
                kwargs: k2,
            },
        ) => {
            c1.strict_eq(c2)
                && a1.strict_eq(a2)
                && match (k1, k2) {
                    (Some(x), Some(y)) => x.strict_eq(y),
                    (Option::None, Option::None) => true,
                    _ => false,
                }
        }
        (Call::Inst { cls: c1, args: a1 }, Call::Inst { cls: c2, args: a2 }) => {
            c1.strict_eq(c2) && seq_strict_eq(a1, a2)
        }
        _ => false,
    };
    call_eq
        && seq_strict_eq(&a.build, &b.build)
        && seq_strict_eq(&a.list_items, &b.list_items)
        && a.dict_items.len() == b.dict_items.len()
        && a.dict_items
            .iter()
            .zip(&b.dict_items)
            .all(|((k1, v1), (k2, v2))| k1.strict_eq(k2) && v1.strict_eq(v2))
        && seq_strict_eq(&a.set_items, &b.set_items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_eq_distinguishes_int_float_bool() {
        assert!(!Value::Int(1).strict_eq(&Value::Float(1.0)));
        assert!(!Value::Int(1).strict_eq(&Value::Bool(true)));
        assert!(Value::Float(f64::NAN).strict_eq(&Value::Float(f64::NAN)));
        assert!(!Value::Float(0.0).strict_eq(&Value::Float(-0.0)));
    }

    #[test]
    fn strict_eq_keeps_dict_order_but_not_set_order() {
        let a = Value::dict(vec![
            (Value::str("a"), Value::Int(1)),
            (Value::str("b"), Value::Int(2)),
        ]);
        let b = Value::dict(vec![
            (Value::str("b"), Value::Int(2)),
            (Value::str("a"), Value::Int(1)),
        ]);
        assert!(!a.strict_eq(&b));
        let s1 = Value::Set(Arc::new(vec![Value::Int(1), Value::Int(2)]));
        let s2 = Value::Set(Arc::new(vec![Value::Int(2), Value::Int(1)]));
        assert!(s1.strict_eq(&s2));
    }
}
