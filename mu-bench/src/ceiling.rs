//! The ceiling server (`mu-bench ceiling-server --port P`): three ROUTER sockets like the real
//! servers, but no protocol work at all, so its figures are what libzmq alone reaches on this
//! machine with the same load generator.
//! - command (P): echoes every message back to its sender (a bare request/reply round trip);
//! - data (P+1): a peer registers with one `HELLO` frame (answered `WELCOME`); every other message
//!   is copied to every registered peer except its sender, in arrival order;
//! - heartbeat (P+2): `INIT` is answered with `PING`, and every peer that sent `INIT` gets a `PING`
//!   once a second (what the protocol needs at least, so the idle row has a floor); `PONG`s are
//!   read and dropped.
//!
//! Sends block when a peer's pipe is full (ROUTER_MANDATORY), so nothing is dropped silently.
//! Relayed frames share their buffer between receivers (`zmq_msg_copy`), as mu-serverd does.

use std::os::raw::c_void;
use std::time::{Duration, Instant};

use zmq::{Message, Socket};

use crate::rawmsg::{self, RawMsg};

/// How often every heartbeat peer gets a `PING` (the reference's and mu-serverd's cadence).
const PING_EVERY: Duration = Duration::from_secs(1);

fn router(ctx: &zmq::Context, port: u16) -> Result<Socket, String> {
    let s = ctx.socket(zmq::ROUTER).map_err(|e| e.to_string())?;
    s.set_linger(0).map_err(|e| e.to_string())?;
    s.set_router_mandatory(true).map_err(|e| e.to_string())?;
    s.bind(&format!("tcp://127.0.0.1:{port}"))
        .map_err(|e| format!("bind {port}: {e}"))?;
    Ok(s)
}

/// Receives one whole message into `parts` (cleared first); false when nothing is waiting.
fn recv_all(s: &Socket, parts: &mut Vec<Message>) -> Result<bool, String> {
    parts.clear();
    loop {
        let mut m = Message::new();
        match s.recv(&mut m, zmq::DONTWAIT) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) if parts.is_empty() => return Ok(false),
            Err(e) => return Err(e.to_string()),
        }
        let more = m.get_more();
        parts.push(m);
        if !more {
            return Ok(true);
        }
    }
}

fn send_parts<'a>(
    s: &Socket,
    to: &[u8],
    frames: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Result<(), String> {
    match s.send(to, zmq::SNDMORE) {
        Ok(()) => {}
        Err(zmq::Error::EHOSTUNREACH) => return Ok(()), // peer gone: nothing to deliver
        Err(e) => return Err(e.to_string()),
    }
    let n = frames.len();
    for (i, f) in frames.enumerate() {
        let flag = if i + 1 < n { zmq::SNDMORE } else { 0 };
        s.send(f, flag).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Receives one whole message as raw frames; false when nothing is waiting.
fn recv_raw(sock: *mut c_void, parts: &mut Vec<RawMsg>) -> Result<bool, String> {
    parts.clear();
    loop {
        let mut m = RawMsg::new();
        match m.recv(sock, zmq::DONTWAIT) {
            Ok(()) => {}
            Err(e) if e == libc::EAGAIN && parts.is_empty() => return Ok(false),
            Err(e) => return Err(format!("recv: errno {e}")),
        }
        let more = m.more();
        parts.push(m);
        if !more {
            return Ok(true);
        }
    }
}

/// Sends `frames` to peer `to`, sharing each frame's buffer instead of copying it.
fn relay_shared(sock: *mut c_void, to: &[u8], frames: &mut [RawMsg]) -> Result<(), String> {
    match rawmsg::send_bytes(sock, to, zmq::SNDMORE) {
        Ok(()) => {}
        Err(e) if e == libc::EHOSTUNREACH => return Ok(()),
        Err(e) => return Err(format!("send: errno {e}")),
    }
    let n = frames.len();
    for (i, f) in frames.iter_mut().enumerate() {
        let flag = if i + 1 < n { zmq::SNDMORE } else { 0 };
        f.send_shared(sock, flag)
            .map_err(|e| format!("send: errno {e}"))?;
    }
    Ok(())
}

/// Runs until killed.
pub fn run(port: u16) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let cmd = router(&ctx, port)?;
    let mut data = router(&ctx, port + 1)?;
    let dptr = data.as_mut_ptr();
    let hb = router(&ctx, port + 2)?;
    let mut peers: Vec<Vec<u8>> = Vec::new();
    let mut hb_peers: Vec<Vec<u8>> = Vec::new();
    let mut next_ping = Instant::now() + PING_EVERY;
    let mut parts: Vec<Message> = Vec::new();
    loop {
        {
            let mut items = [
                cmd.as_poll_item(zmq::POLLIN),
                data.as_poll_item(zmq::POLLIN),
                hb.as_poll_item(zmq::POLLIN),
            ];
            let wait = match hb_peers.is_empty() {
                true => -1,
                false => {
                    next_ping
                        .saturating_duration_since(Instant::now())
                        .as_millis() as i64
                        + 1
                }
            };
            zmq::poll(&mut items, wait).map_err(|e| e.to_string())?;
        }
        if Instant::now() >= next_ping {
            next_ping = Instant::now() + PING_EVERY;
            for p in &hb_peers {
                send_parts(&hb, p, std::iter::once(&b"PING"[..]))?;
            }
        }
        while recv_all(&cmd, &mut parts)? {
            if parts.len() >= 2 {
                send_parts(&cmd, &parts[0], parts[1..].iter().map(|m| &m[..]))?;
            }
        }
        while recv_all(&hb, &mut parts)? {
            if parts.len() == 2 && &parts[1][..] == b"INIT" {
                send_parts(&hb, &parts[0], std::iter::once(&b"PING"[..]))?;
                if !hb_peers.iter().any(|p| p[..] == parts[0][..]) {
                    hb_peers.push(parts[0].to_vec());
                }
            }
        }
        // Bounded batch so the command channel is never starved by a data blast: receive up
        // to 256 messages, then relay them all (fewer wake-ups of libzmq's I/O thread).
        let mut batch: Vec<Vec<RawMsg>> = Vec::new();
        while batch.len() < 256 {
            let mut raw = Vec::new();
            if !recv_raw(dptr, &mut raw)? {
                break;
            }
            batch.push(raw);
        }
        for raw in batch.iter_mut() {
            if raw.len() < 2 {
                continue;
            }
            let from = raw[0].bytes().to_vec();
            if raw.len() == 2 && raw[1].bytes() == b"HELLO" {
                if !peers.contains(&from) {
                    peers.push(from.clone());
                }
                send_parts(&data, &from, std::iter::once(&b"WELCOME"[..]))?;
                continue;
            }
            for p in peers.iter().filter(|p| **p != from) {
                relay_shared(dptr, p, &mut raw[1..])?;
            }
        }
    }
}
