//! The heartbeat channel and the clock: the client's `ttl.py` sends `INIT`, the server PINGs
//! when it has neither sent nor received for a second, the client PONGs. Once a second the
//! latency (gap between last receive and last send) is measured, lost clients are dropped and
//! UpdateClientsState goes to everyone. Timing follows the reference's `ServerTTL`.

use super::io::{Channel, Frame, Identity, Millis};
use super::Session;
use std::sync::Arc;

/// `CLIENT_PING_FREQUENCY`: silence (both ways) after which the server PINGs.
pub const PING_AFTER_MS: Millis = 1000;
/// The status round (latencies, losses, UpdateClientsState) runs when more than this elapsed.
pub const STATUS_PERIOD_MS: Millis = 1000;

/// Heartbeat bookkeeping of one identity.
#[derive(Clone, Copy, Debug)]
pub struct Beat {
    pub started: Millis,
    pub last_received: Millis,
    pub last_sent: Millis,
}

impl Beat {
    /// When a PING becomes due if nothing else happens.
    pub fn ping_due(&self) -> Millis {
        self.last_received.max(self.last_sent) + PING_AFTER_MS + 1
    }
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
    pub fn handle_tick(&mut self, now: Millis) {
        self.start_clock(now);
        self.roll_stranger_window();
        self.drop_unstarted(now);
        if self.status_due.is_some_and(|t| now >= t) {
            self.status_due = Some(now + STATUS_PERIOD_MS + 1);
            self.status_round(now);
        }
        let due: Vec<Identity> = self
            .beats
            .iter()
            .filter(|(_, b)| {
                now.saturating_sub(b.last_received) > PING_AFTER_MS
                    && now.saturating_sub(b.last_sent) > PING_AFTER_MS
            })
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
