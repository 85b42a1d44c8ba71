//! One accepted control connection: non-blocking reads into a frame decoder, and a bounded
//! output buffer drained whenever the socket is writable.

use mio::net::UnixStream;
use mu_ctl::frame::{Decoder, FrameError};
use mu_ctl::proto::Request;
use std::io::{self, Read, Write};

use super::peer::PeerInfo;

/// Replies buffered for a peer that does not read them; past this the connection is dropped.
const MAX_OUT: usize = 2 * mu_ctl::frame::MAX_REPLY as usize;
const READ_CHUNK: usize = 8192;

pub struct Conn {
    pub stream: UnixStream,
    pub peer: PeerInfo,
    /// Which accepted connection this is (slots are reused).
    pub generation: u64,
    decoder: Decoder,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    sent: usize,
    /// The handshake happened.
    pub greeted: bool,
    /// Requests handed to the daemon that have not been answered yet.
    pub awaiting: usize,
    /// The peer half-closed (or we decided to stop reading): close once everything is answered
    /// and flushed.
    pub read_closed: bool,
    /// Close once `out` is flushed, whatever else is pending (refusals, version mismatch).
    pub close_after_flush: bool,
    /// WRITABLE interest is registered (only while output is pending).
    pub writable_armed: bool,
}

/// What one read pass produced.
pub enum ReadOutcome {
    /// Complete requests, in order (possibly none).
    Requests(Vec<Request>),
    /// The stream broke the protocol or failed; close the connection and log this.
    Broken(String),
}

impl Conn {
    pub fn new(stream: UnixStream, peer: PeerInfo, generation: u64) -> Conn {
        Conn {
            stream,
            peer,
            generation,
            decoder: Decoder::new(),
            out: Vec::new(),
            sent: 0,
            greeted: false,
            awaiting: 0,
            read_closed: false,
            close_after_flush: false,
            writable_armed: false,
        }
    }

    /// Reads until `WouldBlock` or end of stream, returning every complete request.
    pub fn read_requests(&mut self) -> ReadOutcome {
        let mut reqs = Vec::new();
        let mut chunk = [0u8; READ_CHUNK];
        while !self.read_closed {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.read_closed = true;
                    if let Err(e) = self.decoder.finish() {
                        return ReadOutcome::Broken(format!("truncated request: {e}"));
                    }
                }
                Ok(n) => {
                    if let Err(e) = self.decoder.push(&chunk[..n]) {
                        return ReadOutcome::Broken(describe(&e));
                    }
                    loop {
                        match self.decoder.next_message::<Request>() {
                            Ok(Some(r)) => reqs.push(r),
                            Ok(None) => break,
                            Err(e) => return ReadOutcome::Broken(describe(&e)),
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return ReadOutcome::Broken(format!("read failed: {e}")),
            }
        }
        ReadOutcome::Requests(reqs)
    }

    /// Queues an encoded frame. Returns false if the peer let too much pile up.
    pub fn queue(&mut self, frame: &[u8]) -> bool {
        if self.out.len() - self.sent + frame.len() > MAX_OUT {
            return false;
        }
        self.out.extend_from_slice(frame);
        true
    }

    /// Writes as much buffered output as the socket takes. `Err` means the peer is gone.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.sent == self.out.len() {
            self.out.clear();
            self.sent = 0;
        }
        Ok(())
    }

    pub fn has_output(&self) -> bool {
        self.sent < self.out.len()
    }

    /// Nothing more will happen on this connection: it can be closed.
    pub fn finished(&self) -> bool {
        !self.has_output() && (self.close_after_flush || (self.read_closed && self.awaiting == 0))
    }
}

fn describe(e: &FrameError) -> String {
    match e {
        FrameError::TooLarge { .. } => format!("oversized request: {e}"),
        _ => format!("malformed request: {e}"),
    }
}
