//! One accepted control connection: non-blocking reads into a frame decoder, and a bounded
//! output buffer drained whenever the socket is writable.

use mio::net::UnixStream;
use mu_ctl::frame::{Decoder, FrameError};
use mu_ctl::proto::Request;
use std::collections::VecDeque;
use std::io::{self, IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use super::peer::PeerInfo;

/// Replies buffered for a peer that does not read them; past this the connection is dropped.
const MAX_OUT: usize = 2 * mu_ctl::frame::MAX_REPLY as usize;
const READ_CHUNK: usize = 8192;
/// Descriptors one `recvmsg` may carry; a request carries one, so more is hostile (the kernel
/// closes any beyond the buffer and flags the truncation).
const FDS_PER_READ: usize = 4;
/// Descriptors waiting for their request; more means the peer sends descriptors for nothing.
const MAX_PENDING_FDS: usize = 2;

pub(super) struct Conn {
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
    /// Descriptors received (SCM_RIGHTS) and not yet paired with a request.
    fds: VecDeque<OwnedFd>,
    /// Last time the peer sent bytes or took some of our output (idle timeout).
    pub last_active: Instant,
}

/// What one read pass produced.
pub(super) enum ReadOutcome {
    /// Complete requests, in order (possibly none), with their file descriptors.
    Requests(Vec<(Request, Option<OwnedFd>)>),
    /// The stream broke the protocol or failed; close the connection and log this.
    Broken(String),
}

impl Conn {
    pub(super) fn new(stream: UnixStream, peer: PeerInfo, generation: u64) -> Conn {
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
            fds: VecDeque::new(),
            last_active: Instant::now(),
        }
    }

    /// Reads until `WouldBlock` or end of stream, returning every complete request, each with
    /// the file descriptor that came with it if it is a request that carries one.
    pub(super) fn read_requests(&mut self) -> ReadOutcome {
        let mut reqs = Vec::new();
        let mut chunk = [0u8; READ_CHUNK];
        while !self.read_closed {
            match recv_with_fds(&self.stream, &mut chunk, &mut self.fds) {
                Ok(_) if self.fds.len() > MAX_PENDING_FDS => {
                    return ReadOutcome::Broken("sent file descriptors nothing asked for".into());
                }
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
                    self.last_active = Instant::now();
                    loop {
                        match self.decoder.next_message::<Request>() {
                            Ok(Some(r)) => {
                                // The descriptor travels with the frame's first byte, so the
                                // oldest one received belongs to this request.
                                let fd = if r.carries_file() {
                                    self.fds.pop_front()
                                } else {
                                    None
                                };
                                reqs.push((r, fd));
                            }
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
    pub(super) fn queue(&mut self, frame: &[u8]) -> bool {
        if self.out.len() - self.sent + frame.len() > MAX_OUT {
            return false;
        }
        self.out.extend_from_slice(frame);
        true
    }

    /// Writes as much buffered output as the socket takes. `Err` means the peer is gone.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    self.last_active = Instant::now();
                }
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

    pub(super) fn has_output(&self) -> bool {
        self.sent < self.out.len()
    }

    /// Nothing more will happen on this connection: it can be closed.
    pub(super) fn finished(&self) -> bool {
        !self.has_output() && (self.close_after_flush || (self.read_closed && self.awaiting == 0))
    }
}

fn describe(e: &FrameError) -> String {
    match e {
        FrameError::TooLarge { .. } => format!("oversized request: {e}"),
        _ => format!("malformed request: {e}"),
    }
}

/// One `recvmsg`: bytes into `buf`, any descriptors (close-on-exec) appended to `fds`.
fn recv_with_fds(
    stream: &UnixStream,
    buf: &mut [u8],
    fds: &mut VecDeque<OwnedFd>,
) -> io::Result<usize> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut space = nix::cmsg_space!([RawFd; FDS_PER_READ]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    let n = msg.bytes;
    let truncated = msg.flags.contains(MsgFlags::MSG_CTRUNC);
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmRights(raw) = c {
                for fd in raw {
                    // SAFETY: the kernel just installed `fd` in our table for us alone.
                    fds.push_back(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
    }
    if truncated {
        return Err(io::Error::other("too many file descriptors in one message"));
    }
    Ok(n)
}
