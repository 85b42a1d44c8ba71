//! [`Shell`]: owns the three routers, registers their ZMQ_FDs, and pumps messages and actions
//! until every socket is quiet (or a round budget is spent, so signals and the watchdog are
//! never starved by a flood).

use super::core::Core;
use super::monitor::{Monitor, Monitors};
use super::router::{Received, Router};
use super::sockets::{self, SocketOptions};
use crate::session::io::{Action, Channel, Identity, Journal, Millis, SendFailure};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::time::{Duration, Instant};

mod actions;
mod lines;

const CHANNELS: [Channel; 3] = [Channel::Command, Channel::Data, Channel::Heartbeat];

/// Messages read from one socket before the others get a turn.
const RECV_BATCH: usize = 256;
/// Rounds per pump before returning to `poll` (with a zero timeout) to look at other sources.
const MAX_ROUNDS: usize = 64;
const RETRY_MIN: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_millis(250);

pub struct Shell {
    routers: [Router; 3],
    origin: Instant,
    retry_every: Duration,
    retry_at: Option<Instant>,
    /// A pump ended on its round budget with work left: poll without sleeping.
    busy: bool,
    /// Wake-ups by the retry timer that found a parked queue able to move (diagnostics).
    pub timer_recoveries: u64,
    /// Core ticks run (a tick can change the session without any message: a lost client).
    ticks: u64,
    /// Reused buffer of the actions being performed (see `drain_actions`); between a message
    /// that journaled a change and the batch's flush, the actions waiting for that flush.
    actions: Vec<Action>,
    /// A change was recorded after the last flush: sends wait in `actions` until the flush.
    unflushed: bool,
    /// Per socket: it may have something to act on (see [`Shell::pump`]).
    dirty: [bool; 3],
    /// The loop reports which ZMQ_FDs fired ([`Shell::note_event`]); otherwise every pump
    /// services every socket.
    selective: bool,
    /// Token of the command socket's ZMQ_FD (set by `register`).
    first_token: usize,
    /// The routers' socket monitors (peers that never speak ZeroMQ), tokens `first + 3..6`.
    monitors: Monitors,
    _ctx: zmq::Context,
}

impl Shell {
    /// Creates and binds the three sockets. Nothing is bound if any of them fails.
    pub fn bind(opts: &SocketOptions, queue_limit: usize) -> Result<Shell, String> {
        let ctx = zmq::Context::new();
        let mut socks = Vec::with_capacity(3);
        let mut monitors = Vec::with_capacity(3);
        for ch in CHANNELS {
            let mut sock = sockets::open(&ctx, opts, ch)?;
            monitors.push(Monitor::attach(
                &ctx,
                &mut sock,
                ch,
                sockets::port_of(opts, ch),
            )?);
            socks.push(Router::new(ch, sock, queue_limit));
        }
        let routers: [Router; 3] = match socks.try_into() {
            Ok(r) => r,
            Err(_) => return Err("internal: expected three sockets".into()),
        };
        Ok(Shell {
            routers,
            origin: Instant::now(),
            retry_every: RETRY_MIN,
            retry_at: None,
            busy: false,
            timer_recoveries: 0,
            ticks: 0,
            actions: Vec::new(),
            unflushed: false,
            dirty: [true; 3],
            selective: false,
            first_token: usize::MAX,
            monitors: Monitors::new(monitors),
            _ctx: ctx,
        })
    }

    /// Registers the three ZMQ_FDs with tokens `first`, `first+1`, `first+2`, and their
    /// monitors' with `first+3` to `first+5`.
    pub fn register(&mut self, registry: &Registry, first: usize) -> std::io::Result<()> {
        for (i, r) in self.routers.iter().enumerate() {
            let fd = r.fd()?;
            registry.register(&mut SourceFd(&fd), Token(first + i), Interest::READABLE)?;
        }
        for (i, fd) in self.monitors.fds()?.into_iter().enumerate() {
            registry.register(&mut SourceFd(&fd), Token(first + 3 + i), Interest::READABLE)?;
        }
        self.first_token = first;
        Ok(())
    }

    /// Makes pumps service only the sockets that need it: those whose ZMQ_FD fired (the loop
    /// passes every event to [`Shell::note_event`]), that were sent on, or that have parked
    /// messages. Saves two system calls per idle socket and wake-up (ZMQ_EVENTS and a
    /// receive), which a request/reply round trip otherwise pays on every socket.
    pub fn set_selective(&mut self, on: bool) {
        self.selective = on;
        self.dirty = [true; 3];
    }

    /// A poll event: marks the socket (or monitor) behind `token` for the next pump. Other
    /// tokens are ignored.
    pub fn note_event(&mut self, token: Token) {
        match token.0.checked_sub(self.first_token) {
            Some(i) if i < 3 => self.dirty[i] = true,
            Some(i) if i < 6 => self.monitors.note(i - 3),
            _ => {}
        }
    }

    /// Removes the ZMQ_FDs from the poll (before the sockets are dropped).
    pub fn deregister(&self, registry: &Registry) {
        for r in &self.routers {
            if let Ok(fd) = r.fd() {
                let _ = registry.deregister(&mut SourceFd(&fd));
            }
        }
        for fd in self.monitors.fds().unwrap_or_default() {
            let _ = registry.deregister(&mut SourceFd(&fd));
        }
    }

    /// Milliseconds since the shell started: the core's clock.
    pub fn now(&self) -> Millis {
        self.origin.elapsed().as_millis() as Millis
    }

    /// The `Instant` of a core time, for poll timeouts.
    pub fn instant(&self, at: Millis) -> Instant {
        self.origin + Duration::from_millis(at)
    }

    /// Lets messages still in libzmq's pipes leave for up to `linger` when the sockets are
    /// dropped (at shutdown, so every client gets its Disconnect).
    pub fn close(&self, linger: Duration) {
        for r in &self.routers {
            r.set_linger(linger.as_millis().min(i32::MAX as u128) as i32);
        }
    }

    pub fn set_queue_limit(&mut self, limit: usize) {
        for r in &mut self.routers {
            r.set_limit(limit);
        }
    }

    /// Messages parked across all peers and channels.
    pub fn parked(&self) -> usize {
        self.routers.iter().map(Router::parked).sum()
    }

    /// (messages in, messages out) over the three sockets.
    pub fn counters(&self) -> (u64, u64) {
        self.routers
            .iter()
            .fold((0, 0), |(i, o), r| (i + r.messages_in, o + r.messages_out))
    }

    /// Grows whenever the core may have changed: messages in or out, ticks.
    pub fn activity(&self) -> u64 {
        let (i, o) = self.counters();
        i + o + self.ticks
    }

    /// The earliest moment the loop must wake for the shell or the core; `Some(now)` when a pump
    /// left work behind.
    pub fn next_wake<C: Core>(&self, core: &C) -> Option<Instant> {
        if self.busy || self.monitors.busy() {
            return Some(Instant::now());
        }
        let core_at = core.next_deadline().map(|m| self.instant(m));
        match (core_at, self.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The IP address a client last sent a command from, when libzmq reported it.
    pub fn peer_address(&self, peer: &Identity) -> Option<String> {
        self.routers[0].peer_address(peer)
    }

    fn router(&mut self, ch: Channel) -> &mut Router {
        &mut self.routers[channel_index(ch)]
    }

    /// Runs after every wake-up: the core's timer if due, parked queues, every readable
    /// message, every resulting action; returns once no socket has anything left we can act
    /// on. ZMQ_FD is edge-triggered and any zmq call may consume its edge, so a socket may be
    /// left only when its last zmq call processed all of libzmq's pending commands and found
    /// nothing to do: a receive that said EAGAIN (nothing parked), or a ZMQ_EVENTS reading.
    /// In selective mode only sockets marked dirty are touched (fired, sent on, or parked).
    // Index loops: each router is re-borrowed around `&mut self` calls (drain_actions).
    #[allow(clippy::needless_range_loop)]
    pub fn pump<C: Core, J: Journal + ?Sized>(&mut self, core: &mut C, journal: &mut J) {
        let start = Instant::now();
        let now = self.now();
        // Connection events only: a monitor is read when its own token fired.
        self.monitors.drain(!self.selective);
        if !self.selective {
            self.dirty = [true; 3];
        }
        if core.next_deadline().is_some_and(|d| d <= now) {
            core.handle_tick(now);
            self.ticks += 1;
        }
        self.drain_actions(core, journal);
        let timer_due = self.retry_at.is_some_and(|t| t <= start);
        let mut retried = [false; 3];
        let mut flushed_any = false;
        self.busy = true;
        for _ in 0..MAX_ROUNDS {
            let mut progress = [false; 3];
            for i in 0..3 {
                if !self.dirty[i] && !self.routers[i].has_parked() {
                    continue;
                }
                if self.routers[i].has_parked() {
                    let (moved, gone) = self.routers[i].flush();
                    progress[i] |= moved;
                    flushed_any |= moved;
                    let ch = self.routers[i].channel;
                    for peer in gone {
                        let now = self.now();
                        core.handle_send_failure(now, ch, &peer, SendFailure::Unreachable);
                    }
                    self.drain_actions(core, journal);
                }
                // Still dirty after the receives: the batch ended on its size, not on EAGAIN.
                self.dirty[i] = true;
                for _ in 0..RECV_BATCH {
                    match self.routers[i].recv() {
                        None => {
                            // EAGAIN: libzmq processed every pending command of the socket.
                            self.dirty[i] = false;
                            break;
                        }
                        Some(Received::Message(from, addr, frames)) => {
                            progress[i] = true;
                            let ch = self.routers[i].channel;
                            let now = self.now();
                            core.handle_frame_from(now, ch, &from, addr.as_ref(), frames);
                            self.answer(core, journal);
                        }
                        Some(Received::Dropped(from, n)) => {
                            progress[i] = true;
                            let ch = self.routers[i].channel;
                            log::warn!("{}", lines::dropped_oversized(&from, n, ch));
                        }
                    }
                }
                // One drain per batch of messages: their changes reach the journal in one
                // write, before any of their sends (sends mark their socket dirty again).
                self.drain_actions(core, journal);
            }
            // A socket sent on after its EAGAIN, cut off by the batch size, or with parked
            // messages ends on ZMQ_EVENTS: the last zmq call before sleeping.
            let mut again = false;
            for i in 0..3 {
                if !self.dirty[i] && !self.routers[i].has_parked() {
                    continue;
                }
                let ev = self.routers[i].events();
                self.dirty[i] = false;
                if ev.contains(zmq::POLLIN) {
                    self.dirty[i] = true;
                    again = true;
                } else if ev.contains(zmq::POLLOUT) && self.routers[i].has_parked() {
                    // This very ZMQ_EVENTS may have consumed the edge that said our parked
                    // peer has room again: retry once after a round without progress.
                    if progress[i] || !retried[i] {
                        retried[i] |= !progress[i];
                        again = true;
                    }
                }
            }
            if !again {
                self.busy = false;
                break;
            }
        }
        if timer_due && flushed_any {
            self.timer_recoveries += 1;
        }
        self.retry_at = if self.routers.iter().any(Router::has_parked) {
            self.retry_every = if flushed_any {
                RETRY_MIN
            } else {
                (self.retry_every * 2).min(RETRY_MAX)
            };
            Some(Instant::now() + self.retry_every)
        } else {
            self.retry_every = RETRY_MIN;
            None
        };
    }
}

fn channel_index(ch: Channel) -> usize {
    match ch {
        Channel::Command => 0,
        Channel::Data => 1,
        Channel::Heartbeat => 2,
    }
}
