//! The opcode interpreter: one loop over the input, a value stack with marks, and the memo. It
//! never recurses and checks every limit before the allocation it guards. What the values
//! become is the [`Sink`]'s business. The primitives the loop stands on (input reads, stack,
//! marks, memo) are in [`super::vm_prims`], the structural opcodes in [`super::vm_ops`].

use super::error::{DecodeError, DecodeErrorKind as K};
use super::limits::Limits;
use super::memo::Memo;
use super::opcodes::*;
use super::sink::{Kind, Sink};
use super::text;
use std::collections::HashMap;

pub(super) struct Vm<'a, 'l, S: Sink> {
    pub(super) input: &'a [u8],
    pub(super) pos: usize,
    pub(super) limits: &'l Limits,
    pub(super) stack: Vec<S::Item>,
    pub(super) marks: Vec<usize>,
    pub(super) memo: Memo<S::Item>,
    /// Values created so far (and marks), against `limits.max_items`.
    pub(super) created: usize,
    pub(super) sink: S,
}

/// Runs the interpreter over `input`, feeding `sink`.
pub(crate) fn run<S: Sink>(
    input: &[u8],
    limits: &Limits,
    sink: S,
) -> Result<S::Output, DecodeError> {
    run_reusing(input, limits, sink, &mut Buffers::default())
}

/// The interpreter's growable state, kept between runs by callers that validate many pickles
/// (the relay checks every forwarded node): growing a fresh stack and memo for each one was a
/// good part of the validator's cost on 1 KiB nodes.
pub(crate) struct Buffers<T> {
    stack: Vec<T>,
    marks: Vec<usize>,
    memo: Vec<Option<T>>,
}

impl<T> Default for Buffers<T> {
    fn default() -> Self {
        Buffers {
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
        }
    }
}

/// Buffers that grew past this many entries (a huge pickle) are not kept for the next run.
pub(super) const KEEP_CAPACITY: usize = 1 << 16;

fn recycle<T>(mut v: Vec<T>) -> Vec<T> {
    if v.capacity() > KEEP_CAPACITY {
        return Vec::new();
    }
    v.clear();
    v
}

/// [`run`] with the stack, marks and memo taken from (and given back to) `bufs`.
pub(crate) fn run_reusing<S: Sink>(
    input: &[u8],
    limits: &Limits,
    sink: S,
    bufs: &mut Buffers<S::Item>,
) -> Result<S::Output, DecodeError> {
    if input.len() > limits.max_input {
        return Err(DecodeError {
            kind: K::InputTooLarge {
                len: input.len(),
                max: limits.max_input,
            },
            offset: 0,
        });
    }
    let mut vm = Vm {
        input,
        pos: 0,
        limits,
        stack: std::mem::take(&mut bufs.stack),
        marks: std::mem::take(&mut bufs.marks),
        memo: Memo {
            dense: std::mem::take(&mut bufs.memo),
            sparse: HashMap::new(),
            count: 0,
        },
        created: 0,
        sink,
    };
    let result = loop {
        let at = vm.pos;
        match vm.step() {
            Ok(Some(out)) => break Ok(out),
            Ok(None) => {}
            Err(kind) => break Err(DecodeError { kind, offset: at }),
        }
    };
    bufs.stack = recycle(vm.stack);
    bufs.marks = recycle(vm.marks);
    bufs.memo = recycle(vm.memo.dense);
    result
}

impl<'a, S: Sink> Vm<'a, '_, S> {
    /// Right after a `MARK`: the batch CPython writes for a list of floats (or small ints),
    /// `MARK BINFLOAT* APPENDS`, goes straight into the list. Anything that does not match
    /// exactly (or could fail) is left to the general path, so results and errors are the same.
    fn scalar_batch(&mut self) -> Result<(), K> {
        let rest = &self.input[self.pos..];
        let (op, width) = match rest.first() {
            Some(&BINFLOAT) => (BINFLOAT, 9),
            Some(&BININT1) => (BININT1, 2),
            _ => return Ok(()),
        };
        let budget = self.limits.max_items - self.created;
        let run = rest
            .chunks_exact(width)
            .take(budget)
            .take_while(|c| c[0] == op)
            .count();
        if run == 0 || rest.get(run * width) != Some(&APPENDS) {
            return Ok(());
        }
        // The target is below the new mark and above the previous one.
        let mark = self.stack.len();
        let outer = self.marks.len().checked_sub(2).map_or(0, |i| self.marks[i]);
        if mark == 0 || mark - 1 < outer || self.sink.kind(&self.stack[mark - 1]) != Kind::List {
            return Ok(());
        }
        let target = self.stack[mark - 1].clone();
        let body = &rest[..run * width];
        if op == BINFLOAT {
            let floats = body.chunks_exact(9).map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&c[1..]);
                f64::from_be_bytes(b)
            });
            self.sink.append_floats(&target, floats)?;
        } else {
            self.sink
                .append_small_ints(&target, body.chunks_exact(2).map(|c| c[1]))?;
        }
        self.pos += run * width + 1;
        self.created += run;
        self.marks.pop();
        Ok(())
    }

    /// One opcode. `Ok(Some(..))` at `STOP`.
    fn step(&mut self) -> Result<Option<S::Output>, K> {
        let op = self.u8()?;
        match op {
            MARK => {
                self.created += 1;
                if self.created > self.limits.max_items {
                    return Err(K::TooManyItems {
                        max: self.limits.max_items,
                    });
                }
                self.marks.push(self.stack.len());
                self.scalar_batch()?;
            }
            STOP => {
                let root = self.pop()?;
                // The memo and the stack are not needed to finish; buffers too big to be kept
                // for the next run are freed now, not after the values are built (they were a
                // third of a large decode's peak memory).
                if self.memo.dense.capacity() > KEEP_CAPACITY {
                    self.memo.dense = Vec::new();
                }
                self.memo.sparse = HashMap::new();
                if self.stack.capacity() > KEEP_CAPACITY {
                    self.stack = Vec::new();
                }
                return self.sink.finish(root).map(Some);
            }
            POP => {
                if self.stack.len() > self.fence() {
                    self.stack.pop();
                } else {
                    // CPython: POP with nothing above the mark discards the mark.
                    self.pop_mark()?;
                }
            }
            POP_MARK => {
                let m = self.pop_mark()?;
                self.stack.truncate(m);
            }
            DUP => {
                let v = self.top()?.clone();
                self.sink.copied(&v)?;
                self.push(v)?;
            }
            FLOAT => {
                let t = self.line()?;
                let f = std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or(K::BadText("float"))?;
                let item = self.sink.float(f);
                self.push(item)?;
            }
            INT => {
                let t = self.line()?;
                match t {
                    b"00" => {
                        let item = self.sink.bool(false);
                        self.push(item)?;
                    }
                    b"01" => {
                        let item = self.sink.bool(true);
                        self.push(item)?;
                    }
                    _ => self.push_int(text::int_from_decimal(t)?)?,
                }
            }
            LONG => {
                let t = self.line()?;
                let t = t.strip_suffix(b"L").unwrap_or(t);
                self.push_int(text::int_from_decimal(t)?)?;
            }
            BININT => {
                let v = i32::from_le_bytes(self.array()?);
                let item = self.sink.int(i64::from(v));
                self.push(item)?;
            }
            BININT1 => {
                let v = self.u8()?;
                let item = self.sink.int(i64::from(v));
                self.push(item)?;
                // Runs of small ints, as for BINFLOAT.
                let rest = &self.input[self.pos..];
                let budget = self.limits.max_items - self.created;
                let run = rest
                    .chunks_exact(2)
                    .take(budget)
                    .take_while(|c| c[0] == BININT1)
                    .count();
                let sink = &mut self.sink;
                self.stack.extend(
                    rest[..run * 2]
                        .chunks_exact(2)
                        .map(|c| sink.int(i64::from(c[1]))),
                );
                self.pos += run * 2;
                self.created += run;
            }
            BININT2 => {
                let v = u16::from_le_bytes(self.array()?);
                let item = self.sink.int(i64::from(v));
                self.push(item)?;
            }
            LONG1 => {
                let n = self.u8()?;
                let b = self.payload(u64::from(n))?;
                self.push_int(text::int_from_le(b))?;
            }
            LONG4 => {
                let n = i32::from_le_bytes(self.array()?);
                let n = u64::try_from(n).map_err(|_| K::BadText("negative LONG4 length"))?;
                let b = self.payload(n)?;
                self.push_int(text::int_from_le(b))?;
            }
            NONE => {
                let item = self.sink.none();
                self.push(item)?;
            }
            NEWTRUE | NEWFALSE => {
                let item = self.sink.bool(op == NEWTRUE);
                self.push(item)?;
            }
            BINFLOAT => {
                let f = f64::from_be_bytes(self.array()?);
                let item = self.sink.float(f);
                self.push(item)?;
                // Lists of floats are runs of BINFLOAT: take the whole run at once (those that
                // cannot fail: complete, within the item budget), so errors keep their exact
                // offset in the general path and the values go straight into the stack.
                let rest = &self.input[self.pos..];
                let budget = self.limits.max_items - self.created;
                let run = rest
                    .chunks_exact(9)
                    .take(budget)
                    .take_while(|c| c[0] == BINFLOAT)
                    .count();
                let sink = &mut self.sink;
                self.stack.extend(rest[..run * 9].chunks_exact(9).map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&c[1..]);
                    sink.float(f64::from_be_bytes(b))
                }));
                self.pos += run * 9;
                self.created += run;
            }
            STRING => {
                let t = self.line()?;
                let s = text::string_literal(t)?;
                self.push_str(&s, None)?;
            }
            BINSTRING => {
                let n = i32::from_le_bytes(self.array()?);
                let n = u64::try_from(n).map_err(|_| K::BadText("negative BINSTRING length"))?;
                let raw = self.payload(n)?;
                let at = self.pos - raw.len();
                self.push_ascii(raw, Some(at))?;
            }
            SHORT_BINSTRING => {
                let n = self.u8()?;
                let raw = self.payload(u64::from(n))?;
                let at = self.pos - raw.len();
                self.push_ascii(raw, Some(at))?;
            }
            UNICODE => {
                let t = self.line()?;
                let s = text::raw_unicode_escape(t)?;
                self.push_str(&s, None)?;
            }
            SHORT_BINUNICODE => {
                let n = self.u8()?;
                self.push_binstr(u64::from(n))?;
            }
            BINUNICODE => {
                let n = u32::from_le_bytes(self.array()?);
                self.push_binstr(u64::from(n))?;
            }
            BINUNICODE8 => {
                let n = u64::from_le_bytes(self.array()?);
                self.push_binstr(n)?;
            }
            SHORT_BINBYTES | BINBYTES | BINBYTES8 | BYTEARRAY8 => {
                let n = match op {
                    SHORT_BINBYTES => u64::from(self.u8()?),
                    BINBYTES => u64::from(u32::from_le_bytes(self.array()?)),
                    _ => u64::from_le_bytes(self.array()?),
                };
                let b = self.payload(n)?;
                let item = if op == BYTEARRAY8 {
                    self.sink.bytearray(b)
                } else {
                    self.sink.bytes(b)
                };
                self.push(item)?;
            }
            NEXT_BUFFER => return Err(K::Unsupported(op)),
            READONLY_BUFFER => {
                // Makes a buffer read-only; the value model has no buffer objects to change.
                let top = self.top()?;
                self.expect(op, top, &[Kind::Bytes, Kind::ByteArray])?;
            }
            GET => {
                let idx = Self::memo_index(self.line()?)?;
                self.get(idx)?;
            }
            BINGET => {
                let idx = self.u8()?;
                self.get(u64::from(idx))?;
            }
            LONG_BINGET => {
                let idx = u32::from_le_bytes(self.array()?);
                self.get(u64::from(idx))?;
            }
            PUT => {
                let idx = Self::memo_index(self.line()?)?;
                self.put(idx)?;
            }
            BINPUT => {
                let idx = self.u8()?;
                self.put(u64::from(idx))?;
            }
            LONG_BINPUT => {
                let idx = u32::from_le_bytes(self.array()?);
                self.put(u64::from(idx))?;
            }
            MEMOIZE => {
                let idx = self.memo.count as u64;
                self.put(idx)?;
            }
            PROTO => {
                let v = self.u8()?;
                if v > HIGHEST_PROTOCOL {
                    return Err(K::UnsupportedProtocol(v));
                }
            }
            FRAME => {
                // Frames only batch reads; the whole input is in memory. The length must still
                // be honest.
                let n = u64::from_le_bytes(self.array()?);
                let remaining = self.input.len() - self.pos;
                if usize::try_from(n).map_or(true, |n| n > remaining) {
                    return Err(K::LengthExceedsInput { len: n, remaining });
                }
            }
            EXT1 | EXT2 | EXT4 => return Err(K::Unsupported(op)),
            _ => self.structure(op)?,
        }
        Ok(None)
    }
}
