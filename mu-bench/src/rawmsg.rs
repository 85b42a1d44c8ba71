//! Owned libzmq messages for the ceiling relay's data path. rust-zmq 0.10 has no `zmq_msg_copy`,
//! and without it a relay must copy every frame once per receiver; libzmq's own copy shares the
//! buffer by reference count. mu-serverd sends large frames by reference too, so a copying
//! ceiling would not be a ceiling.

use std::os::raw::c_void;

use zmq_sys::zmq_msg_t;

pub struct RawMsg(zmq_msg_t);

fn errno() -> i32 {
    // SAFETY: reads libzmq's thread-local errno.
    unsafe { zmq_sys::zmq_errno() }
}

impl RawMsg {
    pub fn new() -> Self {
        let mut m = zmq_msg_t { __: [0; 64] };
        // SAFETY: initializes an empty message in memory we own; cannot fail.
        unsafe { zmq_sys::zmq_msg_init(&mut m) };
        RawMsg(m)
    }

    /// Receives one frame from `sock` (a libzmq socket pointer); Err(errno) on failure.
    pub fn recv(&mut self, sock: *mut c_void, flags: i32) -> Result<(), i32> {
        // SAFETY: `sock` is a live socket owned by the caller; `self.0` is an initialized message.
        let rc = unsafe { zmq_sys::zmq_msg_recv(&mut self.0, sock, flags) };
        if rc < 0 {
            Err(errno())
        } else {
            Ok(())
        }
    }

    pub fn more(&self) -> bool {
        // SAFETY: `self.0` is an initialized message.
        unsafe { zmq_sys::zmq_msg_more(&self.0) != 0 }
    }

    pub fn bytes(&mut self) -> &[u8] {
        // SAFETY: data/size describe the message's own buffer, valid while `self` is borrowed.
        unsafe {
            let n = zmq_sys::zmq_msg_size(&self.0);
            if n == 0 {
                return &[];
            }
            std::slice::from_raw_parts(zmq_sys::zmq_msg_data(&mut self.0) as *const u8, n)
        }
    }

    /// Sends a reference-counted copy of this frame (the buffer is shared, not copied).
    pub fn send_shared(&mut self, sock: *mut c_void, flags: i32) -> Result<(), i32> {
        let mut c = RawMsg::new();
        // SAFETY: both messages are initialized; zmq_msg_copy shares the buffer; on success
        // zmq_msg_send takes ownership of `c`'s content and leaves it empty (closed on drop).
        unsafe {
            if zmq_sys::zmq_msg_copy(&mut c.0, &mut self.0) != 0 {
                return Err(errno());
            }
            if zmq_sys::zmq_msg_send(&mut c.0, sock, flags) < 0 {
                return Err(errno());
            }
        }
        Ok(())
    }
}

impl Drop for RawMsg {
    fn drop(&mut self) {
        // SAFETY: closes the message we initialized; releases its share of the buffer.
        unsafe { zmq_sys::zmq_msg_close(&mut self.0) };
    }
}

/// Sends `bytes` as one frame (copied; used for identities).
pub fn send_bytes(sock: *mut c_void, bytes: &[u8], flags: i32) -> Result<(), i32> {
    // SAFETY: libzmq copies `bytes` before returning.
    let rc =
        unsafe { zmq_sys::zmq_send(sock, bytes.as_ptr() as *const c_void, bytes.len(), flags) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}
