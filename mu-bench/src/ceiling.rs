//! The ceiling server (`mu-bench ceiling-server --port P`): three ROUTER sockets like the real
//! servers, but no protocol work at all, so its figures are what libzmq alone reaches on this
//! machine with the same load generator.
//! - command (P): echoes every message back to its sender (a bare request/reply round trip);
//! - data (P+1): a peer registers with one `HELLO` frame (answered `WELCOME`); every other message
//!   is copied to every registered peer except its sender, in arrival order;
//! - heartbeat (P+2): `INIT` is answered with `PING`, nothing else.
//!
//! Sends block when a peer's pipe is full (ROUTER_MANDATORY), so nothing is dropped silently.

use zmq::{Message, Socket};

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

/// Runs until killed.
pub fn run(port: u16) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let cmd = router(&ctx, port)?;
    let data = router(&ctx, port + 1)?;
    let hb = router(&ctx, port + 2)?;
    let mut peers: Vec<Vec<u8>> = Vec::new();
    let mut parts: Vec<Message> = Vec::new();
    loop {
        {
            let mut items = [
                cmd.as_poll_item(zmq::POLLIN),
                data.as_poll_item(zmq::POLLIN),
                hb.as_poll_item(zmq::POLLIN),
            ];
            zmq::poll(&mut items, -1).map_err(|e| e.to_string())?;
        }
        while recv_all(&cmd, &mut parts)? {
            if parts.len() >= 2 {
                send_parts(&cmd, &parts[0], parts[1..].iter().map(|m| &m[..]))?;
            }
        }
        while recv_all(&hb, &mut parts)? {
            if parts.len() == 2 && &parts[1][..] == b"INIT" {
                send_parts(&hb, &parts[0], std::iter::once(&b"PING"[..]))?;
            }
        }
        // Bounded batch so the command channel is never starved by a data blast.
        let mut n = 0;
        while n < 256 && recv_all(&data, &mut parts)? {
            n += 1;
            if parts.len() < 2 {
                continue;
            }
            let from = &parts[0][..];
            if parts.len() == 2 && &parts[1][..] == b"HELLO" {
                if !peers.iter().any(|p| p == from) {
                    peers.push(from.to_vec());
                }
                send_parts(&data, from, std::iter::once(&b"WELCOME"[..]))?;
                continue;
            }
            for p in peers.iter().filter(|p| p.as_slice() != from) {
                send_parts(&data, p, parts[1..].iter().map(|m| &m[..]))?;
            }
        }
    }
}
