//! The pre-built messages mu-bench sends, generated once per run by `py/gen_frames.py` with the
//! venv's real `replication` objects and deepdiff, so every byte on the wire is what an unmodified
//! client would send. Per-client names and per-request uuids are swapped in by replacing a
//! same-length placeholder, which keeps every pickle valid.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// One message: its frames in order.
pub type Msg = Vec<Vec<u8>>;

/// The client name written into every generated Auth/Snapshot/Node owner (`gen_frames.py`).
pub const NAME_PLACEHOLDER: &[u8] = b"bench-c000";
/// The uuid written into the Snapshot GET template.
pub const UUID_PLACEHOLDER: &[u8] = b"ffffffff-ffff-4fff-bfff-ffffffffffff";

/// The dependency uuid of every relayed Node/Commit (`gen_frames.py`): its last 12 characters
/// carry a decimal sequence number per message.
pub const SEQ_PREFIX: &[u8] = b"5e9e9e9e-0000-4000-8000-";
pub const SEQ_DIGITS: usize = 12;

/// (frame index, byte offset) of the sequence digits in `msg`, if it carries them.
pub fn seq_slot(msg: &Msg) -> Option<(usize, usize)> {
    msg.iter().enumerate().find_map(|(i, f)| {
        let at = f.windows(SEQ_PREFIX.len()).position(|w| w == SEQ_PREFIX)?;
        let off = at + SEQ_PREFIX.len();
        (off + SEQ_DIGITS <= f.len()).then_some((i, off))
    })
}

/// Writes `n` as the 12 sequence digits.
pub fn write_seq(slot: &mut [u8], n: u64) {
    let digits = format!("{:012}", n % 1_000_000_000_000);
    slot[..SEQ_DIGITS].copy_from_slice(digits.as_bytes());
}

/// Reads the 12 sequence digits.
pub fn read_seq(slot: &[u8]) -> Option<u64> {
    std::str::from_utf8(slot.get(..SEQ_DIGITS)?)
        .ok()?
        .parse()
        .ok()
}

/// Every generated message by name (`auth`, `node/1k`, `join1000/set/17`, ...).
pub struct Frames {
    msgs: HashMap<String, Msg>,
}

impl Frames {
    /// Runs the generator with `python` and loads its output. `join_counts` are the dataset sizes
    /// (`joinN/...`) to build in addition to the fixed fan-out and commit messages.
    pub fn generate(
        python: &Path,
        script: &Path,
        tmp: &Path,
        join_counts: &[usize],
    ) -> Result<Self, String> {
        let out = tmp.join("frames.bin");
        let status = Command::new(python)
            .arg(script)
            .arg(&out)
            .args(join_counts.iter().map(|n| n.to_string()))
            .status()
            .map_err(|e| format!("cannot run {} (run tests/setup.sh): {e}", python.display()))?;
        if !status.success() {
            return Err(format!("{} failed: {status}", script.display()));
        }
        let bytes = std::fs::read(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        Self::parse(&bytes)
    }

    fn parse(mut b: &[u8]) -> Result<Self, String> {
        fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
            if b.len() < n {
                return Err("frames file truncated".into());
            }
            let (head, rest) = b.split_at(n);
            *b = rest;
            Ok(head)
        }
        fn u32le(b: &mut &[u8]) -> Result<usize, String> {
            let h = take(b, 4)?;
            Ok(u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize)
        }
        let mut msgs = HashMap::new();
        while !b.is_empty() {
            let n = u32le(&mut b)?;
            let name = String::from_utf8(take(&mut b, n)?.to_vec()).map_err(|e| e.to_string())?;
            let count = u32le(&mut b)?;
            let mut msg = Vec::with_capacity(count);
            for _ in 0..count {
                let len = u32le(&mut b)?;
                msg.push(take(&mut b, len)?.to_vec());
            }
            msgs.insert(name, msg);
        }
        Ok(Self { msgs })
    }

    /// The message called `name`; a missing one is a bug in the generator, reported as an error.
    pub fn get(&self, name: &str) -> Result<&Msg, String> {
        self.msgs
            .get(name)
            .ok_or_else(|| format!("generated frames lack {name:?}"))
    }

    /// Number of nodes in an uploaded dataset (`NAME/set/0..n`).
    pub fn dataset_len(&self, name: &str) -> usize {
        (0..)
            .take_while(|i| self.msgs.contains_key(&format!("{name}/set/{i}")))
            .count()
    }
}

/// A copy of `msg` with every occurrence of `from` replaced by `to` (same length) in every frame.
pub fn substitute(msg: &Msg, from: &[u8], to: &[u8]) -> Msg {
    assert_eq!(from.len(), to.len(), "placeholder lengths must match");
    msg.iter()
        .map(|f| {
            let mut f = f.clone();
            let mut i = 0;
            while i + from.len() <= f.len() {
                if &f[i..i + from.len()] == from {
                    f[i..i + from.len()].copy_from_slice(to);
                    i += from.len();
                } else {
                    i += 1;
                }
            }
            f
        })
        .collect()
}

/// The bench client name for index `i`, same length as [`NAME_PLACEHOLDER`].
pub fn client_name(i: usize) -> Vec<u8> {
    format!("bench-c{:03}", i % 1000).into_bytes()
}

/// Total bytes of a message, all frames.
pub fn msg_bytes(msg: &Msg) -> usize {
    msg.iter().map(Vec::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitute_replaces_every_occurrence_same_length() {
        let m = vec![b"xxbench-c000yybench-c000".to_vec(), b"bench-c000".to_vec()];
        let out = substitute(&m, NAME_PLACEHOLDER, &client_name(7));
        assert_eq!(out[0], b"xxbench-c007yybench-c007");
        assert_eq!(out[1], b"bench-c007");
    }

    #[test]
    fn sequence_digits_round_trip_in_place() {
        let mut m = vec![
            b"x".to_vec(),
            b"..5e9e9e9e-0000-4000-8000-000000000000..".to_vec(),
        ];
        let (i, off) = seq_slot(&m).unwrap();
        assert_eq!((i, off), (1, 26));
        write_seq(&mut m[i][off..], 4711);
        assert_eq!(m[1], b"..5e9e9e9e-0000-4000-8000-000000004711..");
        assert_eq!(read_seq(&m[i][off..]), Some(4711));
        assert_eq!(seq_slot(&vec![b"none".to_vec()]), None);
    }

    #[test]
    fn parse_reads_records_and_rejects_truncation() {
        let mut b = Vec::new();
        b.extend(3u32.to_le_bytes());
        b.extend(b"abc");
        b.extend(2u32.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(b"x");
        b.extend(0u32.to_le_bytes());
        let f = Frames::parse(&b).unwrap();
        assert_eq!(f.get("abc").unwrap(), &vec![b"x".to_vec(), vec![]]);
        assert!(Frames::parse(&b[..b.len() - 1]).is_err());
    }
}
