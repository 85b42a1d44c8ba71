//! A small reader for the replies mu-bench must understand (Auth answers, snapshot catalogs, node
//! frames inside Snapshot SET). It reads plain-data pickles only; anything else is an error.
//! It is deliberately separate from `mu_serverd::pickle`: the benchmark must not depend on the
//! code it measures, and it only needs to check what the servers answered.
//!
//! Limitation: the memo stores a copy taken when the object is memoized, so a container that is
//! referenced again (BINGET) after being filled would read back empty. Server replies never do
//! that; strings and bytes, the only things they repeat, are immutable.

/// A decoded plain-data value.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<V>),
    Tuple(Vec<V>),
    Dict(Vec<(V, V)>),
    Set(Vec<V>),
}

impl V {
    /// The value under string key `k` of a dict.
    pub fn get(&self, k: &str) -> Option<&V> {
        match self {
            V::Dict(items) => items
                .iter()
                .find(|(key, _)| matches!(key, V::Str(s) if s == k))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Decodes one pickle (protocols 2-5, plain data only).
pub fn loads(b: &[u8]) -> Result<V, String> {
    let mut stack: Vec<V> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: Vec<V> = Vec::new();
    let mut i = 0usize;
    let take = |i: &mut usize, n: usize| -> Result<&[u8], String> {
        let end = i
            .checked_add(n)
            .filter(|&e| e <= b.len())
            .ok_or("truncated pickle")?;
        let s = &b[*i..end];
        *i = end;
        Ok(s)
    };
    let uint = |s: &[u8]| s.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64);
    loop {
        let op = *take(&mut i, 1)?.first().ok_or("truncated pickle")?;
        match op {
            0x80 => {
                take(&mut i, 1)?;
            }
            0x95 => {
                take(&mut i, 8)?;
            }
            b'.' => return stack.pop().ok_or_else(|| "empty stack at STOP".into()),
            b'(' => marks.push(stack.len()),
            b'}' => stack.push(V::Dict(Vec::new())),
            b']' => stack.push(V::List(Vec::new())),
            b')' => stack.push(V::Tuple(Vec::new())),
            0x8f => stack.push(V::Set(Vec::new())),
            b'N' => stack.push(V::None),
            0x88 => stack.push(V::Bool(true)),
            0x89 => stack.push(V::Bool(false)),
            b'K' => stack.push(V::Int(uint(take(&mut i, 1)?) as i64)),
            b'M' => stack.push(V::Int(uint(take(&mut i, 2)?) as i64)),
            b'J' => stack.push(V::Int(uint(take(&mut i, 4)?) as u32 as i32 as i64)),
            0x8a => {
                let n = uint(take(&mut i, 1)?) as usize;
                let s = take(&mut i, n)?;
                if n > 8 {
                    return Err("LONG1 wider than 64 bits".into());
                }
                let mut v = uint(s) as i64;
                if n > 0 && n < 8 && s[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                stack.push(V::Int(v));
            }
            b'G' => {
                let s = take(&mut i, 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                stack.push(V::Float(f64::from_be_bytes(a)));
            }
            0x8c | b'X' | 0x8d => {
                let w = match op {
                    0x8c => 1,
                    b'X' => 4,
                    _ => 8,
                };
                let n = uint(take(&mut i, w)?) as usize;
                let s = std::str::from_utf8(take(&mut i, n)?).map_err(|e| e.to_string())?;
                stack.push(V::Str(s.to_string()));
            }
            b'C' | b'B' | 0x8e => {
                let w = match op {
                    b'C' => 1,
                    b'B' => 4,
                    _ => 8,
                };
                let n = uint(take(&mut i, w)?) as usize;
                stack.push(V::Bytes(take(&mut i, n)?.to_vec()));
            }
            0x94 => memo.push(stack.last().cloned().ok_or("MEMOIZE on empty stack")?),
            b'q' | b'r' => {
                let w = if op == b'q' { 1 } else { 4 };
                let idx = uint(take(&mut i, w)?) as usize;
                let v = stack.last().cloned().ok_or("PUT on empty stack")?;
                if memo.len() <= idx {
                    memo.resize(idx + 1, V::None);
                }
                memo[idx] = v;
            }
            b'h' | b'j' => {
                let w = if op == b'h' { 1 } else { 4 };
                let idx = uint(take(&mut i, w)?) as usize;
                stack.push(memo.get(idx).cloned().ok_or("GET of unknown memo")?);
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err("TUPLEn underflow".into());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(V::Tuple(items));
            }
            b't' | b'e' | b'u' | 0x90 | 0x91 => {
                let m = marks.pop().ok_or("missing MARK")?;
                if m > stack.len() {
                    return Err("bad MARK".into());
                }
                let items = stack.split_off(m);
                match op {
                    b't' => stack.push(V::Tuple(items)),
                    0x91 => stack.push(V::Set(items)),
                    _ => extend(stack.last_mut().ok_or("no container")?, items, op)?,
                }
            }
            b'a' | b's' => {
                let n = if op == b'a' { 1 } else { 2 };
                if stack.len() < n + 1 {
                    return Err("APPEND/SETITEM underflow".into());
                }
                let items = stack.split_off(stack.len() - n);
                extend(stack.last_mut().ok_or("no container")?, items, op)?;
            }
            _ => return Err(format!("unsupported pickle opcode 0x{op:02x} at {}", i - 1)),
        }
    }
}

fn extend(container: &mut V, items: Vec<V>, op: u8) -> Result<(), String> {
    match (container, op) {
        (V::List(l), b'a' | b'e') => l.extend(items),
        (V::Set(s), 0x90) => s.extend(items),
        (V::Dict(d), b's' | b'u') => {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                d.push((k, v));
            }
        }
        _ => return Err("container/opcode mismatch".into()),
    }
    Ok(())
}

/// The replication type number in frame 0 of a message.
pub fn type_num(frame0: &[u8]) -> Option<i64> {
    match loads(frame0) {
        Ok(V::Int(n)) => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpython_protocol4_dict_of_list() {
        // pickle.dumps({'STATE': 'INIT', 'CATALOG': ['a', 'b']}, protocol=4) from CPython 3.11
        let b = b"\x80\x04\x95*\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x05STATE\x94\x8c\x04INIT\x94\x8c\x07CATALOG\x94]\x94(\x8c\x01a\x94\x8c\x01b\x94eu.";
        let v = loads(b).unwrap();
        assert_eq!(v.get("STATE").and_then(V::as_str), Some("INIT"));
        assert_eq!(
            v.get("CATALOG"),
            Some(&V::List(vec![V::Str("a".into()), V::Str("b".into())]))
        );
    }

    #[test]
    fn reads_type_frames_and_rejects_globals() {
        assert_eq!(type_num(b"\x80\x04K\t."), Some(9));
        assert!(loads(b"\x80\x04\x8c\x02os\x8c\x06system\x93.").is_err());
        assert!(loads(b"\x80\x04\x8c").is_err());
    }
}
