//! One ROUTER socket with a bounded outbound queue per peer.
//!
//! Sends use `DONTWAIT` with ZMQ_ROUTER_MANDATORY, so libzmq tells us instead of silently
//! dropping: `EAGAIN` when the peer's pipe is at its high-water mark (the message is parked in
//! that peer's queue, order kept), `EHOSTUNREACH` when the identity is not connected. Only the
//! identity frame can fail: once it is accepted, libzmq takes the rest of the message whole.

use super::zmsg;
use crate::session::io::{Channel, Frame, Frames, Identity, PeerAddr};
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::RawFd;
use std::sync::Arc;

/// Messages with more frames than this are read to the end and dropped (the replication
/// protocol uses at most 5 frames after the identity).
pub(crate) const MAX_FRAMES: usize = 64;

/// What became of one outbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    Now,
    Parked,
    /// Not connected on this socket (ROUTER_MANDATORY said EHOSTUNREACH).
    Unreachable,
    /// The peer's queue passed the limit; its queue was dropped.
    Overflow,
    /// The peer overflowed earlier and the core has not dropped it yet: nothing was sent.
    Discarded,
}

/// One received message, identity split off, with the address of the connection it came on.
pub(crate) enum Received {
    Message(Identity, Option<PeerAddr>, Vec<Frame>),
    /// A message that broke a shell-level limit, already drained and dropped.
    Dropped(Identity, usize),
}

pub(crate) struct Router {
    pub channel: Channel,
    sock: zmq::Socket,
    queues: HashMap<Identity, VecDeque<Frames>>,
    /// Peers whose queue overflowed and that the core has not dropped yet. Sends to them are
    /// discarded, so the rest of the batch that overflowed a peer (up to 256 messages already
    /// turned into actions) neither rebuilds its queue nor reports a second overflow; the core's
    /// `DropPeer` clears the mark before its `Disconnect` is sent.
    overflowed: HashSet<Identity>,
    limit: usize,
    buf: zmsg::RecvBuf,
    /// The peer address of the last message: a message from the same address shares it
    /// instead of allocating (a few peers send most messages).
    last_addr: Option<PeerAddr>,
    /// Frames fanned out in the current batch, one libzmq message each.
    shared: zmsg::SharedFrames,
    /// The TCP address each identity last sent from (libzmq's `Peer-Address` message property),
    /// for `mu-ctl users`. Only kept on the command channel, whose traffic is small.
    peer_addresses: Option<HashMap<Identity, Arc<str>>>,
    pub messages_in: u64,
    pub messages_out: u64,
}

/// Most peer addresses remembered; past it the map starts over, so peers that never log in
/// cannot grow it without bound (logged-in clients reappear with their next command).
const MAX_PEER_ADDRESSES: usize = 4096;

impl Router {
    pub(crate) fn new(channel: Channel, sock: zmq::Socket, limit: usize) -> Router {
        Router {
            channel,
            sock,
            queues: HashMap::new(),
            overflowed: HashSet::new(),
            limit,
            buf: zmsg::RecvBuf::default(),
            last_addr: None,
            shared: zmsg::SharedFrames::default(),
            peer_addresses: (channel == Channel::Command).then(HashMap::new),
            messages_in: 0,
            messages_out: 0,
        }
    }

    pub(crate) fn fd(&self) -> std::io::Result<RawFd> {
        self.sock.get_fd().map_err(std::io::Error::other)
    }

    /// How long closing may wait for queued messages to leave (shutdown only).
    pub(crate) fn set_linger(&self, ms: i32) {
        let _ = self.sock.set_linger(ms);
    }

    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub(crate) fn has_parked(&self) -> bool {
        !self.queues.is_empty()
    }

    pub(crate) fn parked(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    /// ZMQ_EVENTS. Also processes libzmq's pending commands and re-arms ZMQ_FD's edge, so the
    /// loop may sleep only right after this call.
    /// Ends the current batch of sends too (see [`zmsg::SharedFrames`]).
    pub(crate) fn events(&mut self) -> zmq::PollEvents {
        self.shared.clear();
        match self.sock.get_events() {
            Ok(e) => e,
            Err(e) => {
                log::error!("{:?} socket: ZMQ_EVENTS failed: {e}", self.channel);
                zmq::PollEvents::empty()
            }
        }
    }

    /// Sends now, or parks behind what is already queued for that peer.
    pub(crate) fn send(&mut self, to: &Identity, frames: Frames) -> Sent {
        if self.overflowed.contains(to) {
            return Sent::Discarded;
        }
        if let Some(q) = self.queues.get_mut(to) {
            q.push_back(frames);
            if q.len() > self.limit {
                self.queues.remove(to);
                self.overflowed.insert(to.clone());
                return Sent::Overflow;
            }
            return Sent::Parked;
        }
        match self.try_send(to, &frames) {
            Ok(()) => Sent::Now,
            Err(zmq::Error::EAGAIN) => {
                self.queues.insert(to.clone(), VecDeque::from([frames]));
                Sent::Parked
            }
            Err(zmq::Error::EHOSTUNREACH) => Sent::Unreachable,
            Err(e) => {
                log::error!("{:?} socket: send failed: {e}", self.channel);
                Sent::Unreachable
            }
        }
    }

    fn try_send(&mut self, to: &Identity, frames: &Frames) -> Result<(), zmq::Error> {
        zmsg::send_frame(&mut self.sock, to, !frames.is_empty())?;
        if let Err(e) = self.shared.send(&mut self.sock, frames) {
            // Cannot happen with libzmq 4.3 ROUTER once the identity frame was accepted.
            log::error!(
                "{:?} socket: a frame of a message failed: {e}",
                self.channel
            );
            return Ok(());
        }
        self.messages_out += 1;
        Ok(())
    }

    /// Retries every parked queue in order until each is empty or its peer is full again.
    /// Returns whether anything went out, and the peers that turned out to be gone.
    pub(crate) fn flush(&mut self) -> (bool, Vec<Identity>) {
        let mut progress = false;
        let mut gone = Vec::new();
        let peers: Vec<Identity> = self.queues.keys().cloned().collect();
        for peer in peers {
            loop {
                let Some(front) = self.queues.get_mut(&peer).and_then(|q| q.pop_front()) else {
                    self.queues.remove(&peer);
                    break;
                };
                match self.try_send(&peer, &front) {
                    Ok(()) => progress = true,
                    Err(zmq::Error::EAGAIN) => {
                        if let Some(q) = self.queues.get_mut(&peer) {
                            q.push_front(front);
                        }
                        break;
                    }
                    Err(e) => {
                        if e != zmq::Error::EHOSTUNREACH {
                            log::error!("{:?} socket: send failed: {e}", self.channel);
                        }
                        self.queues.remove(&peer);
                        gone.push(peer.clone());
                        break;
                    }
                }
            }
        }
        (progress, gone)
    }

    /// Forgets a peer's parked messages.
    pub(crate) fn drop_peer(&mut self, peer: &Identity) {
        self.queues.remove(peer);
        self.overflowed.remove(peer);
        if let Some(map) = self.peer_addresses.as_mut() {
            map.remove(peer);
        }
    }

    /// The address `peer` last sent from on this socket, if this socket keeps them.
    pub(crate) fn peer_address(&self, peer: &Identity) -> Option<String> {
        let map = self.peer_addresses.as_ref()?;
        map.get(peer).map(|a| a.to_string())
    }

    fn remember_address(&mut self, identity: &Identity, addr: &PeerAddr) {
        let Some(map) = self.peer_addresses.as_mut() else {
            return;
        };
        if map
            .get(identity)
            .is_some_and(|known| Arc::ptr_eq(known, addr))
        {
            return;
        }
        if map.len() >= MAX_PEER_ADDRESSES && !map.contains_key(identity) {
            map.clear();
        }
        map.insert(identity.clone(), addr.clone());
    }

    /// The `Peer-Address` of the frame in `buf` (a frame the peer sent), shared with the previous message's when equal.
    /// Read for every message: with ROUTER_HANDOVER off a connection keeps its identity, but
    /// the same identity may come back on a new connection (a reconnect) at any message, and
    /// only this property tells. It costs one libzmq map lookup (see docs/operations.md).
    fn read_address(&mut self) -> Option<PeerAddr> {
        let addr = self.buf.peer_address()?;
        match &self.last_addr {
            Some(last) if last.as_bytes() == addr => Some(last.clone()),
            _ => {
                let fresh: PeerAddr = Arc::from(std::str::from_utf8(addr).ok()?);
                self.last_addr = Some(fresh.clone());
                Some(fresh)
            }
        }
    }

    /// Receives one whole message if one is ready.
    pub(crate) fn recv(&mut self) -> Option<Received> {
        match self.buf.recv(&mut self.sock) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) => return None,
            Err(e) => {
                log::error!("{:?} socket: recv failed: {e}", self.channel);
                return None;
            }
        }
        self.messages_in += 1;
        let identity: Identity = Arc::from(self.buf.data());
        let mut addr = None;
        // A replication message has at most 5 frames after the identity: one allocation.
        let mut frames = Vec::with_capacity(8);
        let mut count = 0usize;
        while self.buf.more() {
            if self.buf.recv(&mut self.sock).is_err() {
                break; // libzmq delivers messages atomically; nothing more to read
            }
            count += 1;
            // Read on the first frame after the identity: libzmq 4.3.4's ROUTER builds the
            // identity frame without the connection's metadata when ZMQ_EVENTS prefetched
            // the message (`router_t::xhas_in`), so only the peer's own frames always carry it.
            if count == 1 {
                addr = self.read_address();
            }
            if count <= MAX_FRAMES {
                frames.push(Arc::from(self.buf.data()));
            }
        }
        if let Some(a) = &addr {
            self.remember_address(&identity, a);
        }
        if count > MAX_FRAMES {
            return Some(Received::Dropped(identity, count));
        }
        Some(Received::Message(identity, addr, frames))
    }
}
