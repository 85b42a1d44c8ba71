//! The opcodes that build structure: tuples, lists, dicts, sets, their items, and the inert
//! globals, calls and persistent ids. Split from [`super::vm`], which reads scalars, strings,
//! the memo and the framing.

use super::error::DecodeErrorKind as K;
use super::opcodes::*;
use super::sink::{Kind, Sink};
use super::vm::Vm;

impl<S: Sink> Vm<'_, '_, S> {
    /// One structural opcode (`op` was already consumed).
    pub(super) fn structure(&mut self, op: u8) -> Result<(), K> {
        match op {
            EMPTY_TUPLE => {
                let n = self.stack.len();
                let t = self.sink.tuple(self.stack.drain(n..))?;
                self.push(t)?;
            }
            TUPLE1 | TUPLE2 | TUPLE3 => {
                let k = usize::from(op - TUPLE1 + 1);
                if self.stack.len() < self.fence() + k {
                    return Err(K::StackUnderflow);
                }
                let n = self.stack.len() - k;
                let t = self.sink.tuple(self.stack.drain(n..))?;
                self.push(t)?;
            }
            TUPLE | LIST | DICT | FROZENSET => {
                let m = self.pop_mark()?;
                if op == DICT && (self.stack.len() - m) % 2 != 0 {
                    return Err(K::OddItems);
                }
                let items = self.stack.drain(m..);
                let v = match op {
                    TUPLE => self.sink.tuple(items)?,
                    LIST => self.sink.list(items)?,
                    DICT => self.sink.dict(items)?,
                    _ => self.sink.frozenset(items)?,
                };
                self.push(v)?;
            }
            EMPTY_LIST => {
                let v = self.sink.empty_list(filled_next(&self.input[self.pos..]))?;
                self.push(v)?;
            }
            EMPTY_DICT => {
                let v = self.sink.empty_dict()?;
                self.push(v)?;
            }
            EMPTY_SET => {
                let v = self.sink.empty_set()?;
                self.push(v)?;
            }
            APPEND => {
                let len = self.stack.len();
                if len < self.fence() + 2 {
                    return Err(K::StackUnderflow);
                }
                let target = self.stack[len - 2].clone();
                self.expect(op, &target, &[Kind::List, Kind::Object])?;
                self.sink.append(&target, self.stack.drain(len - 1..))?;
            }
            SETITEM => {
                let len = self.stack.len();
                if len < self.fence() + 3 {
                    return Err(K::StackUnderflow);
                }
                let target = self.stack[len - 3].clone();
                self.expect(op, &target, &[Kind::Dict, Kind::Object])?;
                self.sink.setitems(&target, self.stack.drain(len - 2..))?;
            }
            APPENDS | SETITEMS | ADDITEMS => {
                let m = self.pop_mark()?;
                let t = self.target_below(m)?;
                let target = self.stack[t].clone();
                let ok: &[Kind] = match op {
                    APPENDS => &[Kind::List, Kind::Object],
                    SETITEMS => &[Kind::Dict, Kind::Object],
                    _ => &[Kind::Set, Kind::Object],
                };
                self.expect(op, &target, ok)?;
                if op == SETITEMS && (self.stack.len() - m) % 2 != 0 {
                    return Err(K::OddItems);
                }
                let items = self.stack.drain(m..);
                match op {
                    APPENDS => self.sink.append(&target, items)?,
                    SETITEMS => self.sink.setitems(&target, items)?,
                    _ => self.sink.additems(&target, items)?,
                }
            }
            BUILD => {
                let state = self.pop()?;
                let target = self.top()?.clone();
                self.expect(op, &target, &[Kind::Object])?;
                self.sink.build(&target, state)?;
            }
            GLOBAL => {
                let module = Self::utf8_name(self.line()?)?;
                let name = Self::utf8_name(self.line()?)?;
                let g = self.sink.global(module, name);
                self.push(g)?;
            }
            STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                self.expect(op, &module, &[Kind::Str])?;
                self.expect(op, &name, &[Kind::Str])?;
                let g = self.sink.global_from(module, name);
                self.push(g)?;
            }
            REDUCE => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.expect(op, &args, &[Kind::Tuple])?;
                let v = self.sink.reduce(callable, args)?;
                self.push(v)?;
            }
            NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                self.expect(op, &args, &[Kind::Tuple])?;
                let v = self.sink.newobj(cls, args, None)?;
                self.push(v)?;
            }
            NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                self.expect(op, &args, &[Kind::Tuple])?;
                self.expect(op, &kwargs, &[Kind::Dict])?;
                let v = self.sink.newobj(cls, args, Some(kwargs))?;
                self.push(v)?;
            }
            INST => {
                let m = self.pop_mark()?;
                let module = self.line()?;
                let name = self.line()?;
                if !module.is_ascii() || !name.is_ascii() {
                    return Err(K::BadText("INST name is not ASCII"));
                }
                let cls = self.sink.global(module, name);
                let v = self.sink.inst(cls, self.stack.drain(m..))?;
                self.push(v)?;
            }
            OBJ => {
                let m = self.pop_mark()?;
                if self.stack.len() <= m {
                    return Err(K::StackUnderflow);
                }
                let cls = self.stack[m].clone();
                let v = self.sink.inst(cls, self.stack.drain(m + 1..))?;
                self.stack.truncate(m);
                self.push(v)?;
            }
            PERSID => {
                let t = self.line()?;
                if !t.is_ascii() {
                    return Err(K::BadText("PERSID is not ASCII"));
                }
                let pid = self.sink.str(t, None);
                let v = self.sink.persid(pid)?;
                self.push(v)?;
            }
            BINPERSID => {
                let pid = self.pop()?;
                let v = self.sink.persid(pid)?;
                self.push(v)?;
            }
            _ => return Err(K::UnknownOpcode(op)),
        }
        Ok(())
    }
}

/// Whether the list an `EMPTY_LIST` just made gets items at once, as CPython writes lists:
/// `] MEMOIZE ( ...` (two or more items) or `] MEMOIZE <number> APPEND` (one). Only a hint to
/// the sink (see [`Sink::empty_list`]): the result is the same either way.
fn filled_next(rest: &[u8]) -> bool {
    let after_memo = match rest.first() {
        Some(&MEMOIZE) => 1,
        Some(&BINPUT) => 2,
        Some(&LONG_BINPUT) => 5,
        _ => 0,
    };
    let rest = rest.get(after_memo..).unwrap_or_default();
    let width = match rest.first() {
        Some(&MARK) => return true,
        Some(&(NONE | NEWTRUE | NEWFALSE)) => 1,
        Some(&BININT1) => 2,
        Some(&BININT2) => 3,
        Some(&BININT) => 5,
        Some(&BINFLOAT) => 9,
        _ => return false,
    };
    rest.get(width) == Some(&APPEND)
}
