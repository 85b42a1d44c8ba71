//! Tells which TCP peers of a ROUTER never spoke ZeroMQ, from the socket monitor's events
//! (issue 17): replication 0.9.12 and later open plain TCP connections whose first byte is
//! 0x00 (a length prefix) where ZMTP's is 0xFF. libzmq closes such a connection without any
//! handshake event, while a ZeroMQ peer reports HANDSHAKE_SUCCEEDED and a port check that
//! connects and closes reports HANDSHAKE_FAILED_NO_DETAIL (measured on libzmq 4.3.4 and 4.3.5).
//!
//! Every event names its connection by the peer's address (monitor events version 2), so the
//! matching is exact. This runs on connection events only, never per message.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A monitor event about the connection from `peer` (`ip:port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Accepted {
        peer: String,
    },
    /// The ZMTP handshake succeeded, or failed for lack of bytes or on authentication: that
    /// peer spoke ZeroMQ, or said nothing at all.
    Handshake {
        peer: String,
    },
    /// The peer sent bytes that are not ZMTP.
    ProtocolError {
        peer: String,
    },
    Disconnected {
        peer: String,
    },
}

/// Connections remembered per socket; past it the map starts over (a flood of half-open
/// connections cannot grow it).
const MAX_CONNS: usize = 4096;

/// One ROUTER's accepted connections that have not shown a ZeroMQ handshake yet: `true` once
/// they sent something that is not ZMTP.
#[derive(Default)]
pub(crate) struct Watch {
    waiting: HashMap<String, bool>,
}

impl Watch {
    /// Feeds one event. Returns the address of a peer that closed without speaking ZeroMQ.
    pub(crate) fn feed(&mut self, ev: Event) -> Option<String> {
        match ev {
            Event::Accepted { peer } => {
                if self.waiting.len() >= MAX_CONNS {
                    self.waiting.clear();
                }
                self.waiting.insert(peer, false);
                None
            }
            Event::Handshake { peer } => {
                self.waiting.remove(&peer);
                None
            }
            Event::ProtocolError { peer } => {
                if let Some(bad) = self.waiting.get_mut(&peer) {
                    *bad = true;
                }
                None
            }
            Event::Disconnected { peer } => self.waiting.remove(&peer).map(|_| peer),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// How often one address may be named, and how many lines all addresses together may take.
pub(crate) const PER_ADDRESS: Duration = Duration::from_secs(60);
pub(crate) const MAX_LINES_PER_WINDOW: u32 = 10;
const MAX_ADDRESSES: usize = 1024;

/// Rate limit of the WARN lines: one per address per [`PER_ADDRESS`], at most
/// [`MAX_LINES_PER_WINDOW`] per window in all; what was held back is counted in the next line.
#[derive(Default)]
pub(crate) struct Limiter {
    last: HashMap<String, Instant>,
    window_start: Option<Instant>,
    lines: u32,
    suppressed: u64,
}

impl Limiter {
    /// Whether to log a line for `addr` now; `Some(n)`: yes, with `n` lines held back since
    /// the previous one.
    pub(crate) fn allow(&mut self, addr: &str, now: Instant) -> Option<u64> {
        if self
            .window_start
            .is_none_or(|s| now.duration_since(s) >= PER_ADDRESS)
        {
            self.window_start = Some(now);
            self.lines = 0;
        }
        let recent = self
            .last
            .get(addr)
            .is_some_and(|t| now.duration_since(*t) < PER_ADDRESS);
        if recent || self.lines >= MAX_LINES_PER_WINDOW {
            self.suppressed += 1;
            return None;
        }
        if self.last.len() >= MAX_ADDRESSES {
            self.last
                .retain(|_, t| now.duration_since(*t) < PER_ADDRESS);
            if self.last.len() >= MAX_ADDRESSES {
                self.last.clear();
            }
        }
        self.last.insert(addr.to_owned(), now);
        self.lines += 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(p: &str) -> Event {
        Event::Accepted { peer: p.into() }
    }
    fn gone(p: &str) -> Event {
        Event::Disconnected { peer: p.into() }
    }

    #[test]
    fn a_connection_closed_without_a_handshake_is_named() {
        let mut w = Watch::default();
        assert_eq!(w.feed(acc("127.0.0.1:4000")), None);
        assert_eq!(
            w.feed(gone("127.0.0.1:4000")).as_deref(),
            Some("127.0.0.1:4000")
        );
        assert!(w.is_empty());
    }

    #[test]
    fn zeromq_peers_and_port_checks_are_not() {
        let mut w = Watch::default();
        w.feed(acc("a:1"));
        w.feed(acc("b:2"));
        w.feed(Event::Handshake { peer: "a:1".into() }); // HANDSHAKE_SUCCEEDED
        w.feed(Event::Handshake { peer: "b:2".into() }); // HANDSHAKE_FAILED_NO_DETAIL
        assert_eq!(w.feed(gone("a:1")), None);
        assert_eq!(w.feed(gone("b:2")), None);
        assert!(w.is_empty());
    }

    #[test]
    fn interleaved_connections_are_told_apart() {
        let mut w = Watch::default();
        for p in ["new:1", "zmq:1", "new:2", "new:3"] {
            w.feed(acc(p));
        }
        w.feed(Event::ProtocolError {
            peer: "new:2".into(),
        });
        w.feed(Event::Handshake {
            peer: "zmq:1".into(),
        });
        assert_eq!(w.feed(gone("new:3")).as_deref(), Some("new:3"));
        assert_eq!(w.feed(gone("zmq:1")), None);
        assert_eq!(w.feed(gone("new:2")).as_deref(), Some("new:2"));
        assert_eq!(w.feed(gone("new:1")).as_deref(), Some("new:1"));
        // a disconnect never seen accepted (monitor queue overflow) names nobody
        assert_eq!(w.feed(gone("other:9")), None);
    }

    #[test]
    fn the_watch_is_bounded() {
        let mut w = Watch::default();
        for i in 0..(MAX_CONNS + 10) {
            w.feed(acc(&format!("x:{i}")));
        }
        assert!(w.len() <= MAX_CONNS);
    }

    #[test]
    fn lines_are_limited_per_address_and_in_all() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        assert_eq!(l.allow("a", t0), Some(0));
        assert_eq!(l.allow("a", t0 + Duration::from_secs(1)), None);
        assert_eq!(l.allow("a", t0 + Duration::from_secs(2)), None);
        // another address is named at once, and says what was held back
        assert_eq!(l.allow("b", t0 + Duration::from_secs(3)), Some(2));
        // the same address again after the window
        assert_eq!(
            l.allow("a", t0 + PER_ADDRESS + Duration::from_secs(1)),
            Some(0)
        );
        // many addresses: at most MAX_LINES_PER_WINDOW lines per window
        let t1 = t0 + PER_ADDRESS * 3;
        let allowed = (0..100)
            .filter(|i| l.allow(&format!("h{i}"), t1).is_some())
            .count();
        assert_eq!(allowed, MAX_LINES_PER_WINDOW as usize);
        assert_eq!(l.allow("z", t1 + PER_ADDRESS), Some(90));
    }
}
