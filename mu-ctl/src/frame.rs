//! Length-prefixed framing for the control socket: a `u32` big-endian body length, then the
//! postcard body. The length is checked against a cap ([`MAX_FRAME`] for requests, which the
//! daemon reads; [`MAX_REPLY`] for replies, which mu-ctl reads) before a single body byte is
//! buffered or allocated, and a body must decode completely (no trailing bytes), so a short,
//! long or garbled frame is an error rather than a half-understood message.

use serde::{de::DeserializeOwned, Serialize};
use std::fmt;
use std::io::{self, Read, Write};

/// Largest request body (1 MiB): far above any real request (the longest is an export path)
/// and small enough that a hostile local peer can never make the daemon buffer much.
pub const MAX_FRAME: u32 = 1 << 20;

/// Largest reply body (16 MiB): a `Users` reply is about 100 bytes per user, so even the
/// configurable maximum of 10000 users fits many times over.
pub const MAX_REPLY: u32 = 16 << 20;

/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;

/// Why a frame could not be produced or understood.
#[derive(Debug)]
pub enum FrameError {
    /// The announced (or encoded) body length exceeds the cap.
    TooLarge {
        len: u64,
        max: u32,
    },
    /// The stream ended inside a frame: `have` of `want` bytes arrived.
    Truncated {
        have: usize,
        want: usize,
    },
    /// The body is not a valid message of the expected type.
    Decode(postcard::Error),
    /// The body decoded but `extra` bytes were left over.
    TrailingBytes {
        extra: usize,
    },
    /// Encoding failed (cannot happen for our types, but postcard's API says it may).
    Encode(postcard::Error),
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max}-byte limit")
            }
            FrameError::Truncated { have, want } => {
                write!(
                    f,
                    "connection closed inside a frame ({have} of {want} bytes)"
                )
            }
            FrameError::Decode(e) => write!(f, "undecodable message: {e}"),
            FrameError::TrailingBytes { extra } => {
                write!(f, "message followed by {extra} unexpected bytes")
            }
            FrameError::Encode(e) => write!(f, "cannot encode message: {e}"),
            FrameError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FrameError::Decode(e) | FrameError::Encode(e) => Some(e),
            FrameError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// Encodes one request-sized message (at most [`MAX_FRAME`]) with its length prefix.
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    encode_max(msg, MAX_FRAME)
}

/// Encodes one message with its length prefix, refusing bodies over `max`.
pub fn encode_max<T: Serialize>(msg: &T, max: u32) -> Result<Vec<u8>, FrameError> {
    let mut out = postcard::to_extend(msg, vec![0u8; HEADER_LEN]).map_err(FrameError::Encode)?;
    let len = out.len() - HEADER_LEN;
    if len > max as usize {
        return Err(FrameError::TooLarge {
            len: len as u64,
            max,
        });
    }
    out[..HEADER_LEN].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(out)
}

/// Decodes a whole body; leftover bytes are an error (postcard's `from_bytes` would ignore them).
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    let (msg, rest) = postcard::take_from_bytes(body).map_err(FrameError::Decode)?;
    if !rest.is_empty() {
        return Err(FrameError::TrailingBytes { extra: rest.len() });
    }
    Ok(msg)
}

fn check_len(header: [u8; HEADER_LEN], max: u32) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header);
    if len > max {
        return Err(FrameError::TooLarge {
            len: len as u64,
            max,
        });
    }
    Ok(len as usize)
}

/// Blocking write of one framed message (used by mu-ctl).
pub fn write_frame<T: Serialize, W: Write>(w: &mut W, msg: &T) -> Result<(), FrameError> {
    w.write_all(&encode(msg)?)?;
    w.flush()?;
    Ok(())
}

/// Blocking read of one request-sized message (at most [`MAX_FRAME`]). `Ok(None)` on a clean
/// end of stream before the first header byte.
pub fn read_frame<T: DeserializeOwned, R: Read>(r: &mut R) -> Result<Option<T>, FrameError> {
    read_frame_max(r, MAX_FRAME)
}

/// Blocking read of one framed message of at most `max` body bytes (mu-ctl reads replies with
/// [`MAX_REPLY`]).
pub fn read_frame_max<T: DeserializeOwned, R: Read>(
    r: &mut R,
    max: u32,
) -> Result<Option<T>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_full(r, &mut header)?;
    if got == 0 {
        return Ok(None);
    }
    if got < HEADER_LEN {
        return Err(FrameError::Truncated {
            have: got,
            want: HEADER_LEN,
        });
    }
    let len = check_len(header, max)?;
    let mut body = vec![0u8; len];
    let got = read_full(r, &mut body)?;
    if got < len {
        return Err(FrameError::Truncated {
            have: HEADER_LEN + got,
            want: HEADER_LEN + len,
        });
    }
    decode_body(&body).map(Some)
}

/// Reads until `buf` is full or the stream ends; returns how many bytes arrived.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Incremental decoder for non-blocking streams: feed whatever `read` returned, then take
/// whole messages out. It never holds more than one frame plus one read chunk, because an
/// oversized length prefix is refused as soon as its 4 bytes are in.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    max: u32,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder for requests (bodies up to [`MAX_FRAME`]).
    pub fn new() -> Self {
        Self::with_max(MAX_FRAME)
    }

    /// A decoder refusing bodies over `max`.
    pub fn with_max(max: u32) -> Self {
        Decoder {
            buf: Vec::new(),
            max,
        }
    }

    /// Appends received bytes. Fails at once if a buffered header announces an oversized body.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.buf.extend_from_slice(bytes);
        self.pending_len().map(|_| ())
    }

    /// Takes the next complete message out, if one is buffered.
    pub fn next_message<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        let Some(len) = self.pending_len()? else {
            return Ok(None);
        };
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let msg = decode_body(&self.buf[HEADER_LEN..HEADER_LEN + len]);
        self.buf.drain(..HEADER_LEN + len);
        msg.map(Some)
    }

    /// Bytes of an incomplete frame still buffered (non-zero at end of stream = truncated).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The error to report when the stream ends now, if a frame was cut short.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let want = match self.pending_len() {
            Ok(Some(len)) => HEADER_LEN + len,
            _ => HEADER_LEN,
        };
        Err(FrameError::Truncated {
            have: self.buf.len(),
            want,
        })
    }

    fn pending_len(&self) -> Result<Option<usize>, FrameError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&self.buf[..HEADER_LEN]);
        check_len(header, self.max).map(Some)
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
