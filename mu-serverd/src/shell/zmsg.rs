//! Moving frames between libzmq and `Arc<[u8]>` with as few copies as possible.
//!
//! Sending: a frame of at least [`ZERO_COPY_MIN`] bytes is handed to libzmq by reference with
//! `zmq_msg_init_data`; libzmq calls [`release_arc`] when it is done with it (possibly on its I/O
//! thread), which drops one `Arc` reference. A relay of one node to K clients therefore costs K
//! reference counts, not K copies. Smaller frames are copied: the encoder batches them (copying)
//! anyway, and the by-reference bookkeeping costs more than the copy.
//!
//! Fan-out: a message sent to several peers in a row becomes one libzmq message per frame, and
//! every peer gets a `zmq_msg_copy` of each ([`SharedFrames`]): a reference count instead of an
//! allocation and a copy per peer and frame (what the ceiling relay in mu-bench does).
//!
//! Receiving: one copy, from libzmq's buffer into the `Arc` the core keeps. [`RecvBuf`] also
//! reads libzmq's `Peer-Address` message property without the `zmq` crate's per-call `CString`.

use crate::session::io::{Frame, Frames};
use std::os::raw::c_void;
use std::sync::Arc;

/// Frames at least this long are sent by reference. 8 KiB is libzmq's `out_batch_size`: larger
/// messages are written to the socket straight from their buffer, so below it the encoder
/// copies anyway. Measured (tests/shell_zerocopy_bench.rs, 8 peers, loopback): by reference
/// is 1.7-2.4x faster at 64 KiB-1 MiB, a wash at 4-32 KiB, slower at <= 256 B. It also keeps
/// one copy in memory however many clients have the frame queued.
pub const ZERO_COPY_MIN: usize = 8192;

/// libzmq's free callback for by-reference frames: `data` is the Arc's data pointer and `hint`
/// its length, which together rebuild the fat pointer `Arc::into_raw` produced.
unsafe extern "C" fn release_arc(data: *mut c_void, hint: *mut c_void) {
    let raw = std::ptr::slice_from_raw_parts(data as *const u8, hint as usize);
    // SAFETY: `raw` is exactly the pointer `Arc::into_raw` returned in `init_msg`, and libzmq
    // calls this once per message.
    drop(unsafe { Arc::from_raw(raw) });
}

/// Initializes `msg` with `frame`'s bytes: by reference or copied.
fn init_msg(msg: &mut zmq_sys::zmq_msg_t, frame: &Frame, by_ref: bool) -> Result<(), zmq::Error> {
    let len = frame.len();
    // SAFETY: `msg` is a valid zmq_msg_t to initialize; the copied path writes exactly `len`
    // bytes into a buffer libzmq just allocated with that size.
    let rc = unsafe {
        if by_ref && len > 0 {
            let raw = Arc::into_raw(frame.clone()) as *const u8;
            let rc = zmq_sys::zmq_msg_init_data(
                msg,
                raw as *mut c_void,
                len,
                Some(release_arc),
                len as *mut c_void,
            );
            if rc != 0 {
                release_arc(raw as *mut c_void, len as *mut c_void);
            }
            rc
        } else {
            let rc = zmq_sys::zmq_msg_init_size(msg, len);
            if rc == 0 && len > 0 {
                std::ptr::copy_nonoverlapping(
                    frame.as_ptr(),
                    zmq_sys::zmq_msg_data(msg) as *mut u8,
                    len,
                );
            }
            rc
        }
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

fn last_error() -> zmq::Error {
    // SAFETY: zmq_errno only reads thread-local errno.
    zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() })
}

/// Sends one frame on `sock` with `DONTWAIT` (and `SNDMORE` when `more`).
/// On failure the message is closed, releasing its reference.
pub fn send_frame(sock: &mut zmq::Socket, frame: &Frame, more: bool) -> Result<(), zmq::Error> {
    send_frame_with(sock, frame, more, frame.len() >= ZERO_COPY_MIN)
}

/// [`send_frame`] with the path chosen by the caller (benchmarks compare both).
pub fn send_frame_with(
    sock: &mut zmq::Socket,
    frame: &Frame,
    more: bool,
    by_ref: bool,
) -> Result<(), zmq::Error> {
    let mut msg = zmq_sys::zmq_msg_t::default();
    init_msg(&mut msg, frame, by_ref)?;
    send_msg(sock, &mut msg, more)
}

/// Sends an initialized message (`DONTWAIT`, `SNDMORE` when `more`); closes it on failure.
fn send_msg(
    sock: &mut zmq::Socket,
    msg: &mut zmq_sys::zmq_msg_t,
    more: bool,
) -> Result<(), zmq::Error> {
    let sock = sock.as_mut_ptr();
    let flags = zmq::DONTWAIT | if more { zmq::SNDMORE } else { 0 };
    // SAFETY: `sock` is a live socket owned by the caller on this thread; `msg` was initialized
    // above. On success libzmq owns the message; on failure we still own it and close it.
    unsafe {
        if zmq_sys::zmq_msg_send(msg, sock, flags) >= 0 {
            Ok(())
        } else {
            let e = last_error();
            zmq_sys::zmq_msg_close(msg);
            Err(e)
        }
    }
}

/// The message fanned out last: one libzmq message per frame (the masters), so that each peer
/// getting the same message (the same `Frames`) gets a reference-counted copy of every frame.
/// A broadcast queues its sends one after another, so remembering the last message is enough.
/// It holds a clone of the `Frames`, so the address it is recognized by cannot be reused while
/// it is here. Cleared by the shell at the end of each batch of actions, so a large frame is not
/// kept alive afterwards.
#[derive(Default)]
pub struct SharedFrames {
    frames: Option<Frames>,
    masters: Vec<zmq_sys::zmq_msg_t>,
}

impl SharedFrames {
    /// Sends every frame of `frames` (`SNDMORE` on all but the last), sharing each frame's
    /// libzmq message with earlier sends of the same `frames`.
    pub fn send(&mut self, sock: &mut zmq::Socket, frames: &Frames) -> Result<(), zmq::Error> {
        if !self.frames.as_ref().is_some_and(|f| Arc::ptr_eq(f, frames)) {
            self.clear();
            for f in frames.iter() {
                let mut master = zmq_sys::zmq_msg_t::default();
                if let Err(e) = init_msg(&mut master, f, f.len() >= ZERO_COPY_MIN) {
                    self.clear();
                    return Err(e);
                }
                self.masters.push(master);
            }
            self.frames = Some(frames.clone());
        }
        let n = self.masters.len();
        for (i, master) in self.masters.iter_mut().enumerate() {
            let mut msg = zmq_sys::zmq_msg_t::default();
            // SAFETY: both messages are initialized zmq_msg_t's owned here; zmq_msg_copy makes
            // `msg` share the master's content (an atomic reference count, or a copy of a
            // message small enough to live inside the zmq_msg_t).
            let rc = unsafe {
                zmq_sys::zmq_msg_init(&mut msg);
                zmq_sys::zmq_msg_copy(&mut msg, master)
            };
            if rc != 0 {
                let e = last_error();
                // SAFETY: `msg` was initialized above and is not used again.
                unsafe { zmq_sys::zmq_msg_close(&mut msg) };
                return Err(e);
            }
            send_msg(sock, &mut msg, i + 1 < n)?;
        }
        Ok(())
    }

    /// Gives back every shared message (the copies already sent live on in libzmq).
    pub fn clear(&mut self) {
        self.frames = None;
        for mut msg in self.masters.drain(..) {
            // SAFETY: each master was initialized by `init_msg` and is closed exactly once.
            unsafe { zmq_sys::zmq_msg_close(&mut msg) };
        }
    }
}

impl Drop for SharedFrames {
    fn drop(&mut self) {
        self.clear();
    }
}

/// One reusable receive buffer (a `zmq_msg_t`).
pub struct RecvBuf {
    msg: zmq_sys::zmq_msg_t,
}

impl Default for RecvBuf {
    fn default() -> Self {
        let mut msg = zmq_sys::zmq_msg_t::default();
        // SAFETY: initializes an empty message; it cannot fail.
        unsafe { zmq_sys::zmq_msg_init(&mut msg) };
        RecvBuf { msg }
    }
}

impl RecvBuf {
    /// Receives the next frame into the buffer (`DONTWAIT`).
    pub fn recv(&mut self, sock: &mut zmq::Socket) -> Result<(), zmq::Error> {
        let sock = sock.as_mut_ptr();
        // SAFETY: `sock` is a live socket used on this thread; `msg` is initialized, and
        // zmq_msg_recv releases its previous content first.
        let rc = unsafe { zmq_sys::zmq_msg_recv(&mut self.msg, sock, zmq::DONTWAIT) };
        if rc >= 0 {
            Ok(())
        } else {
            Err(last_error())
        }
    }

    pub fn data(&self) -> &[u8] {
        // SAFETY: libzmq does not modify a message it handed over; the slice lives as long as
        // the borrow of `self`, and the next `recv` needs `&mut self`.
        unsafe {
            let msg = &self.msg as *const _ as *mut zmq_sys::zmq_msg_t;
            let len = zmq_sys::zmq_msg_size(msg);
            if len == 0 {
                return &[];
            }
            std::slice::from_raw_parts(zmq_sys::zmq_msg_data(msg) as *const u8, len)
        }
    }

    /// More frames of the same message follow.
    pub fn more(&self) -> bool {
        // SAFETY: reads a flag of an initialized message.
        unsafe { zmq_sys::zmq_msg_more(&self.msg) != 0 }
    }

    /// libzmq's `Peer-Address` property: the IP address of the TCP connection the frame came
    /// on (no port). Every frame the peer sent carries it; the identity frame a ROUTER adds
    /// does not always (see `Router::recv`).
    /// Raw bytes: the caller validates them only when they differ from the last address.
    pub fn peer_address(&self) -> Option<&[u8]> {
        const PROPERTY: &std::ffi::CStr = c"Peer-Address";
        // SAFETY: the returned string belongs to the message's metadata, which lives at least
        // as long as the message (so as the borrow of `self`); NULL when there is none.
        unsafe {
            let v = zmq_sys::zmq_msg_gets(&self.msg, PROPERTY.as_ptr());
            if v.is_null() {
                return None;
            }
            Some(std::ffi::CStr::from_ptr(v).to_bytes())
        }
    }
}

impl Drop for RecvBuf {
    fn drop(&mut self) {
        // SAFETY: the message was initialized and is closed once.
        unsafe { zmq_sys::zmq_msg_close(&mut self.msg) };
    }
}

/// The same send through the `zmq` crate's copying API, kept for the benchmark comparison.
pub fn send_frame_copy(sock: &zmq::Socket, frame: &Frame, more: bool) -> Result<(), zmq::Error> {
    let flags = zmq::DONTWAIT | if more { zmq::SNDMORE } else { 0 };
    sock.send(&frame[..], flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The by-reference path must give every reference back once libzmq is done.
    #[test]
    fn by_reference_frames_are_released() {
        let ctx = zmq::Context::new();
        let mut a = ctx.socket(zmq::PAIR).unwrap();
        let b = ctx.socket(zmq::PAIR).unwrap();
        a.set_linger(0).unwrap();
        b.set_linger(0).unwrap();
        b.bind("inproc://zmsg-test").unwrap();
        a.connect("inproc://zmsg-test").unwrap();
        let big: Frame = Arc::from(vec![7u8; 16384]);
        let small: Frame = Arc::from(vec![1u8; 8]);
        for _ in 0..10 {
            send_frame(&mut a, &big, true).unwrap();
            send_frame(&mut a, &small, false).unwrap();
        }
        for _ in 0..10 {
            let m = b.recv_multipart(0).unwrap();
            assert_eq!(m, vec![vec![7u8; 16384], vec![1u8; 8]]);
        }
        drop(a);
        drop(b);
        assert_eq!(Arc::strong_count(&big), 1);
        assert_eq!(Arc::strong_count(&small), 1);
    }

    /// Shared sends deliver every message whole and in order to the peer, whether the
    /// masters were reused (the same `Frames` again), replaced (another message) or cleared,
    /// and give every reference back. Frames of all three kinds: inside the zmq_msg_t (<= 33
    /// bytes), copied, and by reference (>= ZERO_COPY_MIN).
    #[test]
    fn shared_frames_deliver_every_copy_and_release() {
        let ctx = zmq::Context::new();
        let mut a = ctx.socket(zmq::PAIR).unwrap();
        let b = ctx.socket(zmq::PAIR).unwrap();
        a.set_linger(0).unwrap();
        b.set_linger(0).unwrap();
        b.bind("inproc://zmsg-shared").unwrap();
        a.connect("inproc://zmsg-shared").unwrap();
        let messages: Vec<Frames> = (0..6u8)
            .map(|i| {
                let tiny: Frame = Arc::from(vec![i; 4]);
                let mid: Frame = Arc::from(vec![i; 40 + usize::from(i) * 700]);
                let big: Frame = Arc::from(vec![i; ZERO_COPY_MIN + usize::from(i)]);
                Frames::from(vec![tiny, mid, big])
            })
            .collect();
        let mut shared = SharedFrames::default();
        let mut sent = Vec::new();
        for round in 0..3 {
            for m in &messages {
                // Twice in a row (reused masters), then the next message (replaced).
                for _ in 0..2 {
                    shared.send(&mut a, m).unwrap();
                    sent.push(m.clone());
                }
            }
            if round == 1 {
                shared.clear();
            }
        }
        for m in &sent {
            let got = b.recv_multipart(0).unwrap();
            let want: Vec<Vec<u8>> = m.iter().map(|f| f.to_vec()).collect();
            assert_eq!(got, want);
        }
        drop(sent);
        drop(shared);
        drop(a);
        drop(b);
        for m in &messages {
            assert_eq!(Arc::strong_count(m), 1);
            for f in m.iter() {
                assert_eq!(Arc::strong_count(f), 1);
            }
        }
    }
}
