//! Framing shared by the journal and the snapshot files: every record is
//! `len: u32 LE | crc32: u32 LE | payload (len bytes)`, where the CRC covers the length bytes and
//! the payload. A crash in the middle of an append leaves a *torn* record at the end of a file;
//! the reader tells a torn tail (the file simply ends too early, or the last record's checksum is
//! wrong) apart from a clean end, so recovery can truncate exactly the broken bytes.

use std::io::{self, IoSlice, Write};

/// Bytes before each payload.
pub(crate) const HEADER_LEN: usize = 8;

/// No record may be larger than this. A length above it is treated as corruption, so a flipped
/// bit in a length field never makes the reader allocate gigabytes.
pub(crate) const MAX_RECORD_LEN: usize = 1 << 30;

/// Appends one framed record to `out` (tests and in-memory buffers).
pub(crate) fn frame_into(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&header(payload));
    out.extend_from_slice(payload);
}

/// The 8 header bytes of a record around `payload`.
pub(crate) fn header(payload: &[u8]) -> [u8; HEADER_LEN] {
    let len_bytes = (payload.len() as u32).to_le_bytes();
    let mut h = crc32fast::Hasher::new();
    h.update(&len_bytes);
    h.update(payload);
    let crc = h.finalize().to_le_bytes();
    [
        len_bytes[0],
        len_bytes[1],
        len_bytes[2],
        len_bytes[3],
        crc[0],
        crc[1],
        crc[2],
        crc[3],
    ]
}

/// Writes one framed record with one `writev(2)` of header and payload (no copy of the payload
/// into a staging buffer), so that a process crash leaves either the whole record or a torn
/// tail, never a gap. A short write (rare: a signal, a full disk) is completed with further
/// writes. Returns the bytes written.
pub(crate) fn write_record<W: Write>(w: &mut W, payload: &[u8]) -> io::Result<usize> {
    if payload.len() > MAX_RECORD_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "record larger than 1 GiB",
        ));
    }
    let hdr = header(payload);
    let total = HEADER_LEN + payload.len();
    let mut done = 0;
    while done < total {
        let n = if done < HEADER_LEN {
            w.write_vectored(&[IoSlice::new(&hdr[done..]), IoSlice::new(payload)])
        } else {
            w.write(&payload[done - HEADER_LEN..])
        };
        match n {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// Why reading stopped before the end of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The buffer ends inside a record header or payload.
    Truncated { offset: usize },
    /// A record's checksum does not match, or its length is absurd.
    BadChecksum { offset: usize },
}

impl Damage {
    pub fn offset(&self) -> usize {
        match self {
            Damage::Truncated { offset } | Damage::BadChecksum { offset } => *offset,
        }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Truncated { offset } => write!(f, "record cut short at byte {offset}"),
            Damage::BadChecksum { offset } => write!(f, "bad checksum at byte {offset}"),
        }
    }
}

/// Iterates over the payloads of a buffer of framed records. After `None`, [`Records::damage`]
/// says whether the buffer ended cleanly, and [`Records::good_len`] how many bytes were whole.
pub(crate) struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    damage: Option<Damage>,
}

impl<'a> Records<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Records {
            buf,
            pos: 0,
            damage: None,
        }
    }
    /// Bytes covered by whole, valid records read so far.
    pub(crate) fn good_len(&self) -> usize {
        self.pos
    }
    pub(crate) fn damage(&self) -> Option<&Damage> {
        self.damage.as_ref()
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.damage.is_some() || self.pos == self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let offset = self.pos;
        if rest.len() < HEADER_LEN {
            self.damage = Some(Damage::Truncated { offset });
            return None;
        }
        let len_bytes = [rest[0], rest[1], rest[2], rest[3]];
        let len = u32::from_le_bytes(len_bytes) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_LEN {
            self.damage = Some(Damage::BadChecksum { offset });
            return None;
        }
        if rest.len() - HEADER_LEN < len {
            self.damage = Some(Damage::Truncated { offset });
            return None;
        }
        let payload = &rest[HEADER_LEN..HEADER_LEN + len];
        let mut h = crc32fast::Hasher::new();
        h.update(&len_bytes);
        h.update(payload);
        if h.finalize() != crc {
            self.damage = Some(Damage::BadChecksum { offset });
            return None;
        }
        self.pos += HEADER_LEN + len;
        Some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            frame_into(&mut out, p);
        }
        out
    }

    #[test]
    fn round_trip_including_empty_payload() {
        let buf = framed(&[b"one", b"", b"three"]);
        let mut r = Records::new(&buf);
        let got: Vec<&[u8]> = r.by_ref().collect();
        assert_eq!(got, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(r.damage(), None);
        assert_eq!(r.good_len(), buf.len());
    }

    #[test]
    fn every_cut_of_the_last_record_is_a_torn_tail() {
        let whole = framed(&[b"first record", b"second record"]);
        let first_len = HEADER_LEN + b"first record".len();
        for cut in first_len + 1..whole.len() {
            let mut r = Records::new(&whole[..cut]);
            assert_eq!(r.next(), Some(&b"first record"[..]));
            assert_eq!(r.next(), None, "cut at {cut}");
            assert_eq!(r.damage(), Some(&Damage::Truncated { offset: first_len }));
            assert_eq!(r.good_len(), first_len);
        }
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let whole = framed(&[b"payload bytes"]);
        for byte in 0..whole.len() {
            for bit in 0..8 {
                let mut b = whole.clone();
                b[byte] ^= 1 << bit;
                let mut r = Records::new(&b);
                assert_eq!(r.next(), None, "flip {byte}.{bit} went unnoticed");
                assert!(r.damage().is_some());
                assert_eq!(r.good_len(), 0);
            }
        }
    }

    #[test]
    fn absurd_length_is_damage_not_an_allocation() {
        let mut b = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        b.extend_from_slice(&[0; 16]);
        let mut r = Records::new(&b);
        assert_eq!(r.next(), None);
        assert_eq!(r.damage(), Some(&Damage::BadChecksum { offset: 0 }));
    }
}
