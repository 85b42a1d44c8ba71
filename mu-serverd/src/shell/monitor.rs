//! The libzmq socket monitor of each ROUTER, read inside the mio loop, so that a peer that
//! connects and never speaks ZeroMQ (replication 0.9.12 and later) gets one WARN line with its
//! address instead of silence ([`super::handshakes`] decides who that is).
//!
//! Each monitor is a PAIR socket connected to `inproc://` where libzmq publishes the ROUTER's
//! connection events, in the version 2 format that names the peer's address in every event
//! (version 1 gives only the fd, which libzmq has already closed when a non-ZeroMQ peer's
//! events are read). Its ZMQ_FD sits in the poll under its own token and it is read only when
//! that token fires, so messages never pay for it. The ZMQ_FD edge rules of notes/crates.md
//! §1.3 apply: a drain ends on a `ZMQ_EVENTS` reading without POLLIN, or reports that it
//! stopped on its budget so that the loop comes back at once.

use super::handshakes::{Event, Limiter, Watch};
use crate::session::io::Channel;
use std::os::fd::RawFd;
use std::time::Instant;

/// Events read per drain before the loop gets a turn.
const DRAIN_BUDGET: usize = 1024;

/// The events the watch needs: connections and handshakes, nothing per message.
fn wanted() -> i32 {
    use zmq::SocketEvent as E;
    [
        E::ACCEPTED,
        E::DISCONNECTED,
        E::HANDSHAKE_SUCCEEDED,
        E::HANDSHAKE_FAILED_NO_DETAIL,
        E::HANDSHAKE_FAILED_PROTOCOL,
        E::HANDSHAKE_FAILED_AUTH,
    ]
    .iter()
    .fold(0, |acc, e| acc | *e as i32)
}

pub(crate) struct Monitor {
    channel: Channel,
    port: u16,
    sock: zmq::Socket,
    watch: Watch,
}

impl Monitor {
    /// Starts monitoring `router` (bound to `port`) and connects the reading end.
    pub(crate) fn attach(
        ctx: &zmq::Context,
        router: &mut zmq::Socket,
        channel: Channel,
        port: u16,
    ) -> Result<Monitor, String> {
        let ep = format!("inproc://mu-serverd-monitor-{channel:?}");
        let what = |e: zmq::Error| format!("{channel:?} socket monitor: {e}");
        monitor_v2(router, &ep, wanted()).map_err(what)?;
        let sock = ctx.socket(zmq::PAIR).map_err(what)?;
        sock.set_linger(0).map_err(what)?;
        // libzmq publishes monitor events with a blocking send: at a full pipe its I/O thread
        // would wait for this loop. A receive HWM of 0 makes the inproc pipe unbounded (set
        // before connecting); it holds only events that arrived while the loop was busy.
        sock.set_rcvhwm(0).map_err(what)?;
        sock.connect(&ep).map_err(what)?;
        Ok(Monitor {
            channel,
            port,
            sock,
            watch: Watch::default(),
        })
    }

    pub(crate) fn fd(&self) -> std::io::Result<RawFd> {
        self.sock.get_fd().map_err(std::io::Error::other)
    }

    /// Reads the pending events and logs a WARN line (rate-limited) for each peer that closed
    /// without speaking ZeroMQ. Returns true when it stopped on its budget with events left.
    pub(crate) fn drain(&mut self, limiter: &mut Limiter) -> bool {
        let mut n = 0;
        loop {
            while n < DRAIN_BUDGET {
                match self.sock.recv_multipart(zmq::DONTWAIT) {
                    Ok(parts) => {
                        n += 1;
                        let Some(ev) = parse(&parts) else { continue };
                        log::debug!("{:?} socket: {ev:?}", self.channel);
                        if let Some(addr) = self.watch.feed(ev) {
                            self.warn(&addr, limiter);
                        }
                    }
                    Err(zmq::Error::EAGAIN) => break,
                    Err(e) => {
                        // ETERM at shutdown; nothing else is expected from a PAIR receive.
                        log::debug!("{:?} socket monitor: {e}", self.channel);
                        return false;
                    }
                }
            }
            // The last zmq call before sleeping must be ZMQ_EVENTS without POLLIN.
            match self.sock.get_events() {
                Ok(ev) if ev.contains(zmq::POLLIN) => {
                    if n >= DRAIN_BUDGET {
                        return true;
                    }
                }
                _ => return false,
            }
        }
    }

    fn warn(&self, peer: &str, limiter: &mut Limiter) {
        // One line per host, not per connection: such a client opens three at once.
        let host = peer.rsplit_once(':').map_or(peer, |(h, _)| h);
        let Some(held_back) = limiter.allow(host, Instant::now()) else {
            return;
        };
        let more = if held_back > 0 {
            format!(" ({held_back} similar line(s) held back before this one)")
        } else {
            String::new()
        };
        log::warn!(
            "peer {peer} on the {} port {} does not speak ZeroMQ (its connection closed before \
             any ZeroMQ handshake): replication 0.9.12 and later use a single-port transport \
             that this server does not serve; it speaks the ZeroMQ protocol of replication \
             0.9.9 to 0.9.11 (see docs/compatibility.md){more}",
            channel_word(self.channel),
            self.port
        );
    }
}

fn channel_word(ch: Channel) -> &'static str {
    match ch {
        Channel::Command => "command",
        Channel::Data => "data",
        Channel::Heartbeat => "heartbeat",
    }
}

// libzmq 4.3.4 (built by zmq-sys 0.12) compiles `zmq_socket_monitor_versioned` but declares it
// only in its draft header, so the symbol has C++ linkage: it is linked here by its mangled
// name (`(void*, char const*, unsigned long, int, int)`). A libzmq without it fails the link,
// never silently.
unsafe extern "C" {
    #[link_name = "_Z28zmq_socket_monitor_versionedPvPKcmii"]
    fn zmq_socket_monitor_versioned(
        s: *mut std::os::raw::c_void,
        addr: *const std::os::raw::c_char,
        events: u64,
        event_version: std::os::raw::c_int,
        socket_type: std::os::raw::c_int,
    ) -> std::os::raw::c_int;
}

/// `zmq_socket_monitor` with event format 2, published on a PAIR socket at `ep`.
fn monitor_v2(router: &mut zmq::Socket, ep: &str, events: i32) -> Result<(), zmq::Error> {
    let ep = std::ffi::CString::new(ep).map_err(|_| zmq::Error::EINVAL)?;
    // SAFETY: the socket pointer is live for the call (we hold `&mut`), `ep` is NUL-terminated,
    // and the signature matches libzmq 4.3.4's definition.
    let rc = unsafe {
        zmq_socket_monitor_versioned(
            router.as_mut_ptr(),
            ep.as_ptr(),
            events as u64,
            2,
            zmq_sys::ZMQ_PAIR as std::os::raw::c_int,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        // SAFETY: reads the calling thread's libzmq errno.
        Err(zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() }))
    }
}

/// A version 2 monitor message: `u64 event`, `u64 n`, n × `u64 value`, then the local and the
/// remote endpoint (`tcp://ip:port`). All integers in native byte order.
fn parse(parts: &[Vec<u8>]) -> Option<Event> {
    let u64_of = |b: &Vec<u8>| b.as_slice().try_into().ok().map(u64::from_ne_bytes);
    let event = u64_of(parts.first()?)?;
    let remote = parts.last()?;
    if parts.len() < 4 {
        return None;
    }
    let peer = String::from_utf8_lossy(remote);
    let peer = peer.strip_prefix("tcp://").unwrap_or(&peer).to_owned();
    use zmq::SocketEvent as E;
    Some(match E::from_raw(u16::try_from(event).ok()?) {
        E::ACCEPTED => Event::Accepted { peer },
        E::DISCONNECTED => Event::Disconnected { peer },
        E::HANDSHAKE_SUCCEEDED | E::HANDSHAKE_FAILED_NO_DETAIL | E::HANDSHAKE_FAILED_AUTH => {
            Event::Handshake { peer }
        }
        E::HANDSHAKE_FAILED_PROTOCOL => Event::ProtocolError { peer },
        _ => return None,
    })
}

/// The three monitors, with what the loop needs to know about them.
pub(crate) struct Monitors {
    list: Vec<Monitor>,
    limiter: Limiter,
    /// Per monitor: its ZMQ_FD fired (or a drain stopped on its budget).
    dirty: Vec<bool>,
}

impl Monitors {
    pub(crate) fn new(list: Vec<Monitor>) -> Monitors {
        let dirty = vec![true; list.len()];
        Monitors {
            list,
            limiter: Limiter::default(),
            dirty,
        }
    }

    pub(crate) fn fds(&self) -> std::io::Result<Vec<RawFd>> {
        self.list.iter().map(Monitor::fd).collect()
    }

    pub(crate) fn note(&mut self, i: usize) {
        if let Some(d) = self.dirty.get_mut(i) {
            *d = true;
        }
    }

    /// Drains the monitors whose token fired (all of them when `all`).
    pub(crate) fn drain(&mut self, all: bool) {
        for (m, dirty) in self.list.iter_mut().zip(self.dirty.iter_mut()) {
            if *dirty || all {
                *dirty = m.drain(&mut self.limiter);
            }
        }
    }

    /// A drain stopped on its budget: the loop must not sleep.
    pub(crate) fn busy(&self) -> bool {
        self.dirty.iter().any(|d| *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(event: zmq::SocketEvent, value: u64, remote: &str) -> Vec<Vec<u8>> {
        vec![
            (event as u64).to_ne_bytes().to_vec(),
            1u64.to_ne_bytes().to_vec(),
            value.to_ne_bytes().to_vec(),
            b"tcp://127.0.0.1:5555".to_vec(),
            remote.as_bytes().to_vec(),
        ]
    }

    #[test]
    fn monitor_frames_decode() {
        use zmq::SocketEvent as E;
        let peer = || "127.0.0.1:40000".to_string();
        assert_eq!(
            parse(&msg(E::ACCEPTED, 12, "tcp://127.0.0.1:40000")),
            Some(Event::Accepted { peer: peer() })
        );
        assert_eq!(
            parse(&msg(E::DISCONNECTED, 12, "tcp://127.0.0.1:40000")),
            Some(Event::Disconnected { peer: peer() })
        );
        assert_eq!(
            parse(&msg(E::HANDSHAKE_SUCCEEDED, 0, "tcp://127.0.0.1:40000")),
            Some(Event::Handshake { peer: peer() })
        );
        assert_eq!(
            parse(&msg(
                E::HANDSHAKE_FAILED_NO_DETAIL,
                32,
                "tcp://127.0.0.1:40000"
            )),
            Some(Event::Handshake { peer: peer() })
        );
        assert_eq!(
            parse(&msg(E::HANDSHAKE_FAILED_PROTOCOL, 1, "tcp://[::1]:7")),
            Some(Event::ProtocolError {
                peer: "[::1]:7".into()
            })
        );
        assert_eq!(parse(&msg(E::LISTENING, 3, "")), None);
        assert_eq!(parse(&[vec![1, 2]]), None);
        assert_eq!(parse(&[]), None);
    }

    /// A ROUTER bound to a free loopback port: the socket, its endpoint and its port.
    fn loopback_router(ctx: &zmq::Context) -> (zmq::Socket, String, u16) {
        let router = ctx.socket(zmq::ROUTER).unwrap();
        router.set_linger(0).unwrap();
        router.bind("tcp://127.0.0.1:0").unwrap();
        let ep = router.get_last_endpoint().unwrap().unwrap();
        let port: u16 = ep.rsplit(':').next().unwrap().parse().unwrap();
        (router, ep, port)
    }

    /// libzmq sends monitor events with a blocking send: events nobody reads must not stall its
    /// I/O thread (the default pipe would fill after 2000 events, about 700 connections).
    #[test]
    fn unread_monitor_events_never_stall_libzmq() {
        let ctx = zmq::Context::new();
        let (mut router, ep, port) = loopback_router(&ctx);
        let m = Monitor::attach(&ctx, &mut router, Channel::Command, port).unwrap();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        for i in 0..800 {
            // 3 events each: past the default pipe's 2000, libzmq stops accepting
            let c = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2));
            assert!(c.is_ok(), "libzmq stalled at connection {i}");
        }
        let dealer = ctx.socket(zmq::DEALER).unwrap();
        dealer.set_linger(0).unwrap();
        dealer.connect(&ep).unwrap();
        dealer.send("still served", 0).unwrap();
        assert!(
            router.poll(zmq::POLLIN, 10_000).unwrap() > 0,
            "libzmq stalled"
        );
        let got = router.recv_multipart(0).unwrap();
        assert_eq!(got.last().map(Vec::as_slice), Some(&b"still served"[..]));
        drop(m);
    }

    /// The real libzmq: a ZeroMQ peer is not named, a peer sending a replication 0.9.12+
    /// handshake (first byte 0x00) is, with its own address.
    #[test]
    fn libzmq_reports_the_peer_of_a_non_zeromq_connection() {
        use std::io::Write;
        let ctx = zmq::Context::new();
        let (mut router, ep, port) = loopback_router(&ctx);
        let mut m = Monitor::attach(&ctx, &mut router, Channel::Command, port).unwrap();
        let dealer = ctx.socket(zmq::DEALER).unwrap();
        dealer.set_linger(0).unwrap();
        dealer.connect(&ep).unwrap();
        dealer.send("hi", 0).unwrap();
        assert!(router.poll(zmq::POLLIN, 5000).unwrap() > 0);
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let me = tcp.local_addr().unwrap().to_string();
        tcp.write_all(b"\x00\x00\x00\x100123456789abcdefC").unwrap();
        let mut named = Vec::new();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while named.is_empty() && Instant::now() < deadline {
            if m.sock.poll(zmq::POLLIN, 100).unwrap() > 0 {
                while let Ok(parts) = m.sock.recv_multipart(zmq::DONTWAIT) {
                    if let Some(peer) = parse(&parts).and_then(|ev| m.watch.feed(ev)) {
                        named.push(peer);
                    }
                }
            }
        }
        assert_eq!(named, vec![me]);
        drop(dealer);
        drop(m);
    }
}
