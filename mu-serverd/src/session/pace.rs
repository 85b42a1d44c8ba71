//! How far ahead one joiner is worth pushing (difference 13, issue 16): about twice its
//! bandwidth-delay product, estimated from its own GETs.
//!
//! A fixed window is either too small for a fast client on a long link (every window-full
//! waits a round trip) or too large for the real client, which reads a node in 0.3-0.7 ms and
//! so leaves most of a large window sitting in the server's memory. Each GET that the push
//! already answered tells how long its SET took from push to GET. The smallest such delay is
//! the link's round trip plus the client's turn-around. A SET whose delay is clearly above it
//! waited behind the others at the client: the client was busy since the previous GET, so the
//! time between the two GETs is the client's time for that SET. Summed over those SETs, bytes
//! over busy time is the client's rate; the window aims at [`MARGIN`] x rate x smallest delay.
//! Until the client has been seen busy, the window is what holds it back: it grows by
//! [`GROWTH`] bytes per byte acknowledged (x 3 per round trip). Rate x delay is not a feedback
//! loop on the window itself, so it does not oscillate the way a delay-threshold rule does.
//!
//! The caller caps the window (`join_window_bytes`, a share of the session-wide budget) and
//! counts what the join holds besides its SETs against those caps, not against this target,
//! so a large catalog cannot starve the estimate into one SET per round trip.
//!
//! Time comes in as the session's clock ([`Millis`]); nothing here reads a clock.

use super::io::Millis;

/// The window before the first GET: what the server pushes with the catalog.
pub(super) const INITIAL_BYTES: usize = 1 << 20;
/// The window never aims lower than this (a link of RTT ~0 gives delays of 0-1 ms).
pub(super) const MIN_BYTES: usize = 256 << 10;
/// The window aims at this many bandwidth-delay products.
pub(super) const MARGIN: u64 = 2;
/// A SET delayed more than this above the smallest delay waited at the client (the clock
/// counts whole milliseconds, so a difference of 1 may be none).
pub(super) const SLACK_MS: Millis = 2;
/// Bytes of window added per byte acknowledged before the client's rate is known.
pub(super) const GROWTH: usize = 2;
/// Busy time needed before the rate is trusted.
const RATE_MIN_MS: Millis = 3;

/// One joiner's estimate.
#[derive(Clone, Debug)]
pub(super) struct Pace {
    /// Smallest push-to-GET delay seen.
    min_delay: Option<Millis>,
    /// When the previous GET came.
    last_get: Option<Millis>,
    /// Bytes of the SETs that waited at the client, and the time between their GETs.
    busy_bytes: u64,
    busy_ms: Millis,
    target: usize,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            min_delay: None,
            last_get: None,
            busy_bytes: 0,
            busy_ms: 0,
            target: INITIAL_BYTES,
        }
    }
}

impl Pace {
    /// A GET acknowledged a SET of `size` bytes pushed at `pushed_at`; it came at `now`. The
    /// target stays within [`MIN_BYTES`] and `cap` (the most the caller would allow).
    pub(super) fn acked(&mut self, size: usize, pushed_at: Millis, now: Millis, cap: usize) {
        let delay = now.saturating_sub(pushed_at);
        let min_delay = self.min_delay.map_or(delay, |d| d.min(delay));
        self.min_delay = Some(min_delay);
        let queued = delay > min_delay + SLACK_MS;
        if let (true, Some(prev)) = (queued, self.last_get) {
            self.busy_bytes += size as u64;
            self.busy_ms += now.saturating_sub(prev);
        }
        self.last_get = Some(now);
        let t = if self.busy_ms >= RATE_MIN_MS {
            let rate = self.busy_bytes / self.busy_ms;
            let aim = rate.saturating_mul(min_delay.max(1)).saturating_mul(MARGIN);
            usize::try_from(aim).unwrap_or(usize::MAX)
        } else if queued {
            self.target
        } else {
            self.target.saturating_add(size.saturating_mul(GROWTH))
        };
        self.target = t.min(cap).max(MIN_BYTES);
    }

    /// The bytes of SETs the window aims at.
    pub(super) fn target(&self) -> usize {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: usize = 64 << 20;
    const SET: usize = 1000;

    /// `sets` SETs of 1,000 bytes through a window that follows `p`, on a link of `rtt` ms to
    /// a client that reads one every `cost_us` µs once it has arrived, in order. The server
    /// pushes while the SETs ahead are below the target. Returns the target every 1,000 SETs.
    fn simulate(p: &mut Pace, cost_us: u64, rtt: Millis, sets: usize) -> Vec<usize> {
        let half_us = rtt * 1000 / 2;
        let mut ahead: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
        let (mut pushed, mut acked) = (0usize, 0usize);
        let (mut now_us, mut client_free_us) = (0u64, 0u64);
        let mut out = Vec::new();
        while acked < sets {
            while pushed < sets && (ahead.is_empty() || ahead.len() * SET < p.target()) {
                ahead.push_back(now_us);
                pushed += 1;
            }
            let Some(at) = ahead.pop_front() else { break };
            client_free_us = client_free_us.max(at + half_us) + cost_us;
            now_us = now_us.max(client_free_us + half_us);
            p.acked(SET, at / 1000, now_us / 1000, CAP);
            acked += 1;
            if acked % 1000 == 0 {
                out.push(p.target());
            }
        }
        out
    }

    #[test]
    fn a_fast_client_on_a_long_link_gets_about_twice_its_bandwidth_delay_product() {
        // A node every 10 us = 100,000 bytes/ms; 150 ms: BDP 15 MB.
        let mut p = Pace::default();
        let t = simulate(&mut p, 10, 150, 60_000);
        let last = *t.last().expect("sets");
        assert!((25_000_000..=36_000_000).contains(&last), "{t:?}");
        // Growing: past 2 x INITIAL after the first window came back.
        assert!(t[0] > 2 * INITIAL_BYTES, "{t:?}");
    }

    #[test]
    fn a_slow_client_keeps_a_small_window() {
        // The real client: a node every 250 us = 4,000 bytes/ms; 150 ms: BDP 600 KB.
        let mut p = Pace::default();
        let t = simulate(&mut p, 250, 150, 10_000);
        let last = *t.last().expect("sets");
        assert!((900_000..=1_500_000).contains(&last), "{t:?}");
        // On a link of RTT ~0 the same client keeps the smallest window.
        let mut q = Pace::default();
        let t = simulate(&mut q, 250, 0, 10_000);
        assert_eq!(t.last(), Some(&MIN_BYTES), "{t:?}");
    }

    #[test]
    fn the_target_stays_within_the_floor_and_the_cap() {
        let mut p = Pace::default();
        for i in 0..10_000 {
            p.acked(1000, i, i, 3 << 20);
        }
        assert_eq!(p.target(), 3 << 20);
        for i in 0..10_000 {
            p.acked(1000, 0, 1000 + i, 3 << 20);
        }
        assert_eq!(p.target(), MIN_BYTES);
    }
}
