//! The interpreter's primitives: reading the input (bytes, fixed arrays, length-checked
//! payloads, lines), the value stack and its marks (with the item limit), pushing scalars and
//! strings, and the memo. Split from [`super::vm`] so the opcode loop there reads as opcodes;
//! [`super::vm_ops`] uses the same primitives for the structural opcodes.

use super::error::DecodeErrorKind as K;
use super::sink::{Kind, Sink};
use super::text::{self, IntRepr};
use super::vm::Vm;

impl<'a, S: Sink> Vm<'a, '_, S> {
    #[inline(always)]
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], K> {
        let remaining = self.input.len() - self.pos;
        if n > remaining {
            return Err(K::Truncated);
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline(always)]
    pub(super) fn u8(&mut self) -> Result<u8, K> {
        Ok(self.take(1)?[0])
    }

    #[inline(always)]
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], K> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A payload whose length came from the input: checked against what is left first.
    pub(super) fn payload(&mut self, len: u64) -> Result<&'a [u8], K> {
        let remaining = self.input.len() - self.pos;
        match usize::try_from(len) {
            Ok(n) if n <= remaining => self.take(n),
            _ => Err(K::LengthExceedsInput { len, remaining }),
        }
    }

    /// A text argument: the bytes up to the next newline (excluded).
    pub(super) fn line(&mut self) -> Result<&'a [u8], K> {
        let rest = &self.input[self.pos..];
        let n = rest.iter().position(|&b| b == b'\n').ok_or(K::Truncated)?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    #[inline(always)]
    pub(super) fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline(always)]
    pub(super) fn push(&mut self, item: S::Item) -> Result<(), K> {
        self.created += 1;
        if self.created > self.limits.max_items {
            return Err(K::TooManyItems {
                max: self.limits.max_items,
            });
        }
        self.stack.push(item);
        Ok(())
    }

    #[inline(always)]
    pub(super) fn pop(&mut self) -> Result<S::Item, K> {
        if self.stack.len() <= self.fence() {
            return Err(K::StackUnderflow);
        }
        self.stack.pop().ok_or(K::StackUnderflow)
    }

    pub(super) fn top(&self) -> Result<&S::Item, K> {
        if self.stack.len() <= self.fence() {
            return Err(K::StackUnderflow);
        }
        self.stack.last().ok_or(K::StackUnderflow)
    }

    pub(super) fn pop_mark(&mut self) -> Result<usize, K> {
        self.marks.pop().ok_or(K::MarkMissing)
    }

    /// Index of the container below a mark (for `APPENDS`, `SETITEMS`, `ADDITEMS`).
    pub(super) fn target_below(&self, mark: usize) -> Result<usize, K> {
        if mark == 0 || mark - 1 < self.fence() {
            return Err(K::StackUnderflow);
        }
        Ok(mark - 1)
    }

    pub(super) fn expect(&self, opcode: u8, item: &S::Item, ok: &[Kind]) -> Result<(), K> {
        let k = self.sink.kind(item);
        if ok.contains(&k) {
            Ok(())
        } else {
            Err(K::BadOperand {
                opcode,
                found: k.name(),
            })
        }
    }

    pub(super) fn push_int(&mut self, v: IntRepr) -> Result<(), K> {
        let item = match v {
            IntRepr::Small(i) => self.sink.int(i),
            IntRepr::Big(b) => self.sink.bigint(b),
        };
        self.push(item)
    }

    pub(super) fn push_str(&mut self, raw: &[u8], at: Option<usize>) -> Result<(), K> {
        if !text::is_surrogatepass_utf8(raw) {
            return Err(K::BadUtf8);
        }
        let item = self.sink.str(raw, at);
        self.push(item)
    }

    pub(super) fn push_binstr(&mut self, len: u64) -> Result<(), K> {
        let raw = self.payload(len)?;
        let at = self.pos - raw.len();
        self.push_str(raw, Some(at))
    }

    /// Python 3 reads protocol 0-2 `STRING`s as ASCII `str` (the default `encoding`).
    pub(super) fn push_ascii(&mut self, raw: &[u8], at: Option<usize>) -> Result<(), K> {
        if !raw.is_ascii() {
            return Err(K::BadText("STRING is not ASCII"));
        }
        self.push_str(raw, at)
    }

    pub(super) fn memo_index(text: &[u8]) -> Result<u64, K> {
        std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(K::BadText("memo index"))
    }

    pub(super) fn get(&mut self, idx: u64) -> Result<(), K> {
        let v = self.memo.get(idx).ok_or(K::MemoMissing(idx))?.clone();
        self.sink.copied(&v)?;
        self.push(v)
    }

    pub(super) fn put(&mut self, idx: u64) -> Result<(), K> {
        let v = self.top()?.clone();
        self.memo.put(idx, v, self.limits.max_memo)
    }

    pub(super) fn utf8_name(text: &'a [u8]) -> Result<&'a [u8], K> {
        std::str::from_utf8(text)
            .map(|_| text)
            .map_err(|_| K::BadText("global name"))
    }
}
