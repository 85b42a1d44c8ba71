//! The seam between the opcode interpreter ([`super::vm`]) and what it produces. The decoder
//! builds [`Value`](super::Value)s ([`super::build`]); the plain-data validator only tracks types
//! and container links ([`super::scan`]). Both share one interpreter, so they accept and refuse
//! exactly the same inputs.

use super::error::DecodeErrorKind;
use std::vec::Drain;

/// The Python type of a stack item, as far as the interpreter needs to check operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    ByteArray,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
    Global,
    PersId,
    Object,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::None => "NoneType",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Str => "str",
            Kind::Bytes => "bytes",
            Kind::ByteArray => "bytearray",
            Kind::Tuple => "tuple",
            Kind::List => "list",
            Kind::Dict => "dict",
            Kind::Set => "set",
            Kind::FrozenSet => "frozenset",
            Kind::Global => "global",
            Kind::PersId => "persistent id",
            Kind::Object => "object",
        }
    }
}

pub(crate) type SinkResult<T> = Result<T, DecodeErrorKind>;

/// What the interpreter asks of a builder. Operand types are checked by the interpreter (via
/// [`Sink::kind`]) before these are called; a sink only enforces depth and its own invariants.
pub(crate) trait Sink {
    type Item: Clone;
    type Output;

    fn kind(&self, item: &Self::Item) -> Kind;

    fn none(&mut self) -> Self::Item;
    fn bool(&mut self, b: bool) -> Self::Item;
    fn int(&mut self, i: i64) -> Self::Item;
    /// Minimal little-endian two's complement, too large for `i64`.
    fn bigint(&mut self, le: Vec<u8>) -> Self::Item;
    fn float(&mut self, f: f64) -> Self::Item;
    /// `raw` is `surrogatepass` UTF-8 (already validated); `at` is its offset in the input when it
    /// is a slice of it (binary opcodes), `None` when it was unescaped from text.
    fn str(&mut self, raw: &[u8], at: Option<usize>) -> Self::Item;
    fn bytes(&mut self, b: &[u8]) -> Self::Item;
    fn bytearray(&mut self, b: &[u8]) -> Self::Item;
    /// `GLOBAL`/`INST` names (UTF-8/ASCII, already validated).
    fn global(&mut self, module: &[u8], name: &[u8]) -> Self::Item;
    /// `STACK_GLOBAL`; both items are `str`.
    fn global_from(&mut self, module: Self::Item, name: Self::Item) -> Self::Item;

    /// `EMPTY_LIST`; `filled`: items follow at once (`MARK` next, after a memo put), a hint
    /// that changes nothing in the result.
    fn empty_list(&mut self, filled: bool) -> SinkResult<Self::Item>;
    /// `item` now exists in one more place (`GET`, `DUP`): the same object twice.
    fn copied(&mut self, _item: &Self::Item) -> SinkResult<()> {
        Ok(())
    }
    fn empty_dict(&mut self) -> SinkResult<Self::Item>;
    fn empty_set(&mut self) -> SinkResult<Self::Item>;
    fn tuple(&mut self, items: Drain<'_, Self::Item>) -> SinkResult<Self::Item>;
    fn frozenset(&mut self, items: Drain<'_, Self::Item>) -> SinkResult<Self::Item>;
    /// `LIST`: a new list of the marked items.
    fn list(&mut self, items: Drain<'_, Self::Item>) -> SinkResult<Self::Item>;
    /// `DICT`: a new dict of the marked key/value pairs (even count, checked).
    fn dict(&mut self, items: Drain<'_, Self::Item>) -> SinkResult<Self::Item>;

    /// `APPEND(S)` to a list or object.
    fn append(&mut self, target: &Self::Item, items: Drain<'_, Self::Item>) -> SinkResult<()>;
    /// `MARK`, a run of `BINFLOAT`, `APPENDS` onto a list: the values never touch the stack.
    fn append_floats(
        &mut self,
        target: &Self::Item,
        floats: impl Iterator<Item = f64>,
    ) -> SinkResult<()>;
    /// The same for a run of `BININT1`.
    fn append_small_ints(
        &mut self,
        target: &Self::Item,
        ints: impl Iterator<Item = u8>,
    ) -> SinkResult<()>;
    /// `SETITEM(S)` on a dict or object (even count, checked).
    fn setitems(&mut self, target: &Self::Item, items: Drain<'_, Self::Item>) -> SinkResult<()>;
    /// `ADDITEMS` to a set or object.
    fn additems(&mut self, target: &Self::Item, items: Drain<'_, Self::Item>) -> SinkResult<()>;
    /// `BUILD` on an object.
    fn build(&mut self, target: &Self::Item, state: Self::Item) -> SinkResult<()>;

    /// `REDUCE`; `args` is a tuple.
    fn reduce(&mut self, callable: Self::Item, args: Self::Item) -> SinkResult<Self::Item>;
    /// `NEWOBJ`/`NEWOBJ_EX`; `args` is a tuple, `kwargs` a dict.
    fn newobj(
        &mut self,
        cls: Self::Item,
        args: Self::Item,
        kwargs: Option<Self::Item>,
    ) -> SinkResult<Self::Item>;
    /// `INST`/`OBJ`.
    fn inst(&mut self, cls: Self::Item, args: Drain<'_, Self::Item>) -> SinkResult<Self::Item>;
    fn persid(&mut self, pid: Self::Item) -> SinkResult<Self::Item>;

    /// `STOP` reached with `root` on top: check the whole graph (cycles, exact depth) and
    /// produce the result.
    fn finish(&mut self, root: Self::Item) -> SinkResult<Self::Output>;
}
