//! The wall clock, read in one place. The session core never reads it (its `Millis` come from
//! the driver); snapshot headers, journal timestamps, the history, backup names and log stamps
//! do, and agree on what "now" is.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is set before 1970).
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
