//! How long the event loop's turns take (issue 16, item 3: does a turn hold relayed traffic
//! back?). Every second with turns in it, one debug line: how many, the time spent in them
//! and the longest. Off unless the log level is debug; costs two clock reads per turn.

use std::time::{Duration, Instant};

/// Turns per period, their summed and longest duration.
pub(crate) struct Turns {
    since: Instant,
    count: u64,
    busy: Duration,
    longest: Duration,
}

/// How often the line is written (while turns happen).
const PERIOD: Duration = Duration::from_secs(1);

impl Turns {
    pub(crate) fn new(now: Instant) -> Turns {
        Turns {
            since: now,
            count: 0,
            busy: Duration::ZERO,
            longest: Duration::ZERO,
        }
    }

    /// A turn ran from `start` to `end`.
    pub(crate) fn note(&mut self, start: Instant, end: Instant) {
        if !log::log_enabled!(log::Level::Debug) {
            return;
        }
        let took = end.saturating_duration_since(start);
        self.count += 1;
        self.busy += took;
        self.longest = self.longest.max(took);
        let period = end.saturating_duration_since(self.since);
        if period >= PERIOD {
            log::debug!(
                "event loop: {} turns in {:.3} s, {:.1} ms in them, the longest {:.2} ms",
                self.count,
                period.as_secs_f64(),
                self.busy.as_secs_f64() * 1e3,
                self.longest.as_secs_f64() * 1e3
            );
            *self = Turns::new(end);
        }
    }
}
