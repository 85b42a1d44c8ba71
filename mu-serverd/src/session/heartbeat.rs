//! The heartbeat channel and the clock: the client's `ttl.py` sends `INIT`, the server PINGs,
//! the client PONGs. Once a second the latency (gap between last receive and last send) is
//! measured, lost clients are dropped and UpdateClientsState goes to everyone. Timing follows
//! the reference's `ServerTTL`, except that PINGs are not kept on a phase of their own per
//! client: every PING goes out in the status round (see `handle_tick`), so an idle server with
//! N clients wakes once a second, not N + 1 times.

use super::io::{Channel, Frame, Identity, Millis};
use super::Session;
use std::sync::Arc;

/// The status round (latencies, losses, UpdateClientsState, PINGs) runs when more than this
/// elapsed since the last one.
pub(super) const STATUS_PERIOD_MS: Millis = 1000;
/// A heartbeat PINGed less than this long ago (INIT is answered at once) is not PINGed again in
/// the round. The longest gap between two PINGs to a client is thus about
/// `STATUS_PERIOD_MS + PING_MIN_GAP_MS`; `ttl.py` quits after `timeout + 1000` ms without one
/// (2000 ms with the library's smallest default timeout), the reference's gap is about 1000 ms.
pub(super) const PING_MIN_GAP_MS: Millis = 250;

/// Heartbeat bookkeeping of one identity.
#[derive(Clone, Copy, Debug)]
pub(super) struct Beat {
    pub started: Millis,
    pub last_received: Millis,
    pub last_sent: Millis,
}

impl Session {
    pub(super) fn on_heartbeat(&mut self, now: Millis, from: &Identity, frames: &[Frame]) {
        if frames.len() != 1 {
            let who = self.who(from);
            let line = format!(
                "heartbeat message of {} frames from {who} ignored",
                frames.len()
            );
            self.refuse(from, line);
            return;
        }
        if &frames[0][..] == b"INIT" {
            let cap = self.cfg.max_clients.saturating_mul(2) + 8;
            if !self.beats.contains_key(from) && self.beats.len() >= cap {
                let who = self.who(from);
                let line = format!("heartbeat INIT from {who} refused: {cap} heartbeats watched");
                self.refuse(from, line);
                return;
            }
            self.beats.insert(
                from.clone(),
                Beat {
                    started: now,
                    last_received: now,
                    last_sent: now,
                },
            );
            self.ping(from);
        }
        if let Some(b) = self.beats.get_mut(from) {
            b.last_received = now;
        }
    }

    fn ping(&mut self, to: &Identity) {
        let frame: Frame = Arc::from(&b"PING"[..]);
        self.send(Channel::Heartbeat, to, vec![frame]);
    }

    /// Time passed: (once a second) latencies, losses and the user list, then PINGs. The status
    /// round goes first so that a PING sent at this very instant does not count as a gap.
    ///
    /// The reference PINGs a client after a second of silence both ways, each on its own phase;
    /// here every heartbeat is PINGed in the round (unless it was PINGed moments ago), so the
    /// PONGs come back together and the loop sleeps a full second between rounds. Steady state
    /// is the same for the client: one PING about every second, latency = the PONG's delay.
    pub fn handle_tick(&mut self, now: Millis) {
        self.start_clock(now);
        self.roll_stranger_window();
        self.drop_unstarted(now);
        self.continue_push();
        if self.status_due.is_some_and(|t| now >= t) {
            self.status_due = Some(now + STATUS_PERIOD_MS + 1);
            self.status_round(now);
            self.ping_round(now);
        }
    }

    fn ping_round(&mut self, now: Millis) {
        let due: Vec<Identity> = self
            .beats
            .iter()
            .filter(|(_, b)| now.saturating_sub(b.last_sent) >= PING_MIN_GAP_MS)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.ping(&id);
            if let Some(b) = self.beats.get_mut(&id) {
                b.last_sent = now;
            }
        }
    }

    fn status_round(&mut self, now: Millis) {
        self.settle_idle(now);
        // The shared catalog serves joins at once; between joins it is ~80 bytes per node held
        // for nobody.
        if self.joins.is_empty() {
            self.catalog = None;
        }
        let timeout = self.cfg.timeout_ms;
        let mut lost = Vec::new();
        let mut stray = Vec::new();
        for (id, b) in &self.beats {
            let latency = b.last_received.abs_diff(b.last_sent);
            match self.clients.get(id) {
                Some(_) if latency > timeout => lost.push((id.clone(), latency)),
                Some(_) => {}
                // Heartbeats of peers that never logged in are forgotten after the timeout.
                None if now.saturating_sub(b.started) > timeout || latency > timeout => {
                    stray.push(id.clone())
                }
                None => {}
            }
        }
        for id in stray {
            self.beats.remove(&id);
        }
        let latencies: Vec<(Identity, u64)> = self
            .beats
            .iter()
            .map(|(id, b)| (id.clone(), b.last_received.abs_diff(b.last_sent)))
            .collect();
        for (id, latency) in latencies {
            if let Some(c) = self.clients.get_mut(&id) {
                c.latency = latency;
            }
        }
        for (id, latency) in lost {
            let reason = format!("connection lost: no heartbeat for {latency} ms");
            self.drop_client(&id, &reason, None);
        }
        self.broadcast_clients_state();
    }

    /// Difference 11: a logged-in client whose heartbeat never started is dropped after
    /// `heartbeat_start_ms` (checked on every tick: `next_deadline` wakes the driver then).
    fn drop_unstarted(&mut self, now: Millis) {
        let timeout = self.cfg.heartbeat_start_ms();
        let unstarted: Vec<Identity> = self
            .clients
            .iter()
            .filter(|(id, c)| {
                !self.beats.contains_key(*id) && now.saturating_sub(c.since) > timeout
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in unstarted {
            self.drop_client(
                &id,
                "heartbeat never started",
                Some("heartbeat never started"),
            );
        }
    }
}
