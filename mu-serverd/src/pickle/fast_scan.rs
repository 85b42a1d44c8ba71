//! A one-pass shortcut of the plain-data validator for the pickles the relay sees all day:
//! CPython's protocol 4-5 output of dicts, lists, tuples, strings, bytes, numbers, booleans and
//! None, without memo references. It answers only "plain" or "not sure": anything it does not
//! model (a memo `GET`, `DUP`, a global, any other opcode, a limit reached, a malformed stream)
//! is "not sure", and the caller then runs the full interpreter ([`super::scan`]), which gives
//! the exact verdict and error. So it can only ever accept what the interpreter accepts: it
//! never sees an opcode that names or calls anything, and every limit it checks is at least as
//! strict as the interpreter's.
//!
//! Without memo references the containers form a tree filled bottom-up, so a stack of (kind,
//! depth) pairs is all the state needed. On a 1 KiB Blender object node this is several times
//! cheaper than the interpreter with its sink.

use super::limits::Limits;
use super::opcodes::*;
use super::text;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// str, bytes, int, float, bool, None: hashable, depth 0.
    Scalar,
    List,
    Dict,
    Tuple {
        hashable: bool,
    },
}

#[derive(Clone, Copy)]
struct Entry {
    kind: Kind,
    depth: u32,
}

impl Entry {
    fn hashable(&self) -> bool {
        matches!(self.kind, Kind::Scalar | Kind::Tuple { hashable: true })
    }
}

const SCALAR: Entry = Entry {
    kind: Kind::Scalar,
    depth: 0,
};

/// The shortcut's stack and marks, kept between runs by the caller (the relay runs it on
/// every forwarded Node).
#[derive(Default)]
pub(crate) struct Buffers {
    stack: Vec<Entry>,
    marks: Vec<usize>,
}

/// True when `input` is certainly accepted by `decode` + `check_plain`; false means "run the
/// interpreter", not "refused".
pub(crate) fn surely_plain(input: &[u8], limits: &Limits, bufs: &mut Buffers) -> bool {
    let ok = walk(input, limits, &mut bufs.stack, &mut bufs.marks).is_some();
    // A huge pickle's buffers are not kept for the next one.
    const KEEP: usize = super::vm::KEEP_CAPACITY;
    if bufs.stack.capacity() > KEEP || bufs.marks.capacity() > KEEP {
        *bufs = Buffers::default();
    }
    ok
}

fn walk(
    input: &[u8],
    limits: &Limits,
    stack: &mut Vec<Entry>,
    marks: &mut Vec<usize>,
) -> Option<()> {
    stack.clear();
    marks.clear();
    if input.len() > limits.max_input {
        return None;
    }
    // Every opcode takes at least one byte and pushes at most one item or mark, so a pickle no
    // longer than `max_items` cannot go over it: then nothing needs counting.
    if input.len() <= limits.max_items {
        walk_ops::<false>(input, limits, stack, marks)
    } else {
        walk_ops::<true>(input, limits, stack, marks)
    }
}

/// The loop of [`walk`]; `COUNT`: count opcodes against `max_items`.
fn walk_ops<const COUNT: bool>(
    input: &[u8],
    limits: &Limits,
    stack: &mut Vec<Entry>,
    marks: &mut Vec<usize>,
) -> Option<()> {
    let mut pos = 0usize;
    let mut ops = 0usize;
    let mut memos = 0usize;
    let take = |pos: &mut usize, n: usize| -> Option<&[u8]> {
        let s = input.get(*pos..pos.checked_add(n)?)?;
        *pos += n;
        Some(s)
    };
    let max_depth = limits.max_depth;
    loop {
        let op = *input.get(pos)?;
        pos += 1;
        // Every opcode pushes at most one item or mark: the interpreter's item count is lower.
        if COUNT {
            ops += 1;
            if ops > limits.max_items {
                return None;
            }
        }
        match op {
            PROTO => {
                let v = take(&mut pos, 1)?[0];
                if !(4..=HIGHEST_PROTOCOL).contains(&v) {
                    return None;
                }
            }
            FRAME => {
                let n = u64::from_le_bytes(take(&mut pos, 8)?.try_into().ok()?);
                if usize::try_from(n).ok()? > input.len() - pos {
                    return None;
                }
            }
            SHORT_BINUNICODE | BINUNICODE => {
                let n = if op == SHORT_BINUNICODE {
                    usize::from(take(&mut pos, 1)?[0])
                } else {
                    u32::from_le_bytes(take(&mut pos, 4)?.try_into().ok()?) as usize
                };
                if !text::is_surrogatepass_utf8(take(&mut pos, n)?) {
                    return None;
                }
                stack.push(SCALAR);
            }
            SHORT_BINBYTES | BINBYTES => {
                let n = if op == SHORT_BINBYTES {
                    usize::from(take(&mut pos, 1)?[0])
                } else {
                    u32::from_le_bytes(take(&mut pos, 4)?.try_into().ok()?) as usize
                };
                take(&mut pos, n)?;
                stack.push(SCALAR);
            }
            BINFLOAT | BININT1 | BININT2 | BININT => {
                let n = match op {
                    BINFLOAT => 8,
                    BININT1 => 1,
                    BININT2 => 2,
                    _ => 4,
                };
                take(&mut pos, n)?;
                // A list of numbers is a run of the same fixed-width opcode (CPython writes up
                // to 1,000 per MARK ... APPENDS batch): the whole run is read here, instead of
                // one trip through the loop per number (~40 instructions each on a list of
                // 8,000 floats). A truncated last one is left to the loop, which refuses it.
                let mut run = 1usize;
                while input.get(pos) == Some(&op) && input.len() - pos > n {
                    pos += 1 + n;
                    run += 1;
                }
                // More than `max_items` is caught by the check at the top of the loop: an accepted
                // stream has at least one more opcode (STOP).
                if COUNT {
                    ops += run - 1;
                }
                stack.resize(stack.len() + run, SCALAR);
            }
            NONE | NEWTRUE | NEWFALSE => stack.push(SCALAR),
            EMPTY_LIST | EMPTY_DICT | EMPTY_TUPLE => {
                if max_depth < 1 {
                    return None;
                }
                let kind = match op {
                    EMPTY_LIST => Kind::List,
                    EMPTY_DICT => Kind::Dict,
                    _ => Kind::Tuple { hashable: true },
                };
                stack.push(Entry { kind, depth: 1 });
            }
            MEMOIZE => {
                memos += 1;
                if memos > limits.max_memo || stack.len() <= fence(marks) {
                    return None;
                }
            }
            MARK => marks.push(stack.len()),
            APPEND | SETITEM | APPENDS | SETITEMS => {
                let (from, want, pairs) = match op {
                    APPEND => (stack.len().checked_sub(1)?, Kind::List, false),
                    SETITEM => (stack.len().checked_sub(2)?, Kind::Dict, true),
                    APPENDS => (marks.pop()?, Kind::List, false),
                    _ => (marks.pop()?, Kind::Dict, true),
                };
                // After the pop for APPENDS / SETITEMS: the mark around theirs.
                let inner_fence = fence(marks);
                // The target sits right below the items, above the enclosing mark.
                if from < inner_fence + 1 || from > stack.len() {
                    return None;
                }
                let items = &stack[from..];
                if pairs && (items.len() % 2 != 0 || items.iter().step_by(2).any(|k| !k.hashable()))
                {
                    return None;
                }
                let deepest = items.iter().map(|e| e.depth).max().unwrap_or(0);
                let target = stack.get_mut(from - 1)?;
                if target.kind != want {
                    return None;
                }
                target.depth = target.depth.max(deepest.checked_add(1)?);
                if target.depth > max_depth {
                    return None;
                }
                stack.truncate(from);
            }
            TUPLE1 | TUPLE2 | TUPLE3 | TUPLE => {
                let from = match op {
                    TUPLE1 => stack.len().checked_sub(1)?,
                    TUPLE2 => stack.len().checked_sub(2)?,
                    TUPLE3 => stack.len().checked_sub(3)?,
                    _ => marks.pop()?,
                };
                let inner_fence = fence(marks);
                if from < inner_fence || from > stack.len() {
                    return None;
                }
                let items = &stack[from..];
                let hashable = items.iter().all(Entry::hashable);
                let depth = items
                    .iter()
                    .map(|e| e.depth)
                    .max()
                    .unwrap_or(0)
                    .checked_add(1)?;
                if depth > max_depth {
                    return None;
                }
                stack.truncate(from);
                stack.push(Entry {
                    kind: Kind::Tuple { hashable },
                    depth,
                });
            }
            STOP => {
                return (stack.len() == 1 && marks.is_empty()).then_some(());
            }
            _ => return None,
        }
    }
}

/// The stack height at the innermost MARK: what an opcode may not reach below.
#[inline(always)]
fn fence(marks: &[usize]) -> usize {
    marks.last().copied().unwrap_or(0)
}

#[cfg(test)]
#[path = "fast_scan_tests.rs"]
mod tests;
