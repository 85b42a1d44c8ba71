//! Log lines about refused input. A logged-in client is accountable (the admin can kick it), so
//! each of its refusals is logged; a peer that never logged in could flood the log with garbage,
//! so lines about such peers are limited per second and the rest are counted in one summary.

use super::io::Millis;
use super::Session;
use log::Level;

/// Lines per second about peers that are not logged in.
pub const STRANGER_LINES_PER_SECOND: u32 = 20;

#[derive(Default)]
pub(super) struct StrangerLog {
    window_start: Millis,
    used: u32,
    suppressed: u64,
}

impl StrangerLog {
    /// When the summary of suppressed lines is due (None: nothing suppressed).
    pub fn due(&self) -> Option<Millis> {
        (self.suppressed > 0).then_some(self.window_start + 1000)
    }
}

impl Session {
    /// One warning about refused input from `from`.
    pub(super) fn refuse(&mut self, from: &[u8], message: String) {
        if self.clients.contains(from) {
            return self.log(Level::Warn, message);
        }
        self.roll_stranger_window();
        if self.strangers.used < STRANGER_LINES_PER_SECOND {
            self.strangers.used += 1;
            self.log(Level::Warn, message);
        } else {
            self.strangers.suppressed += 1;
        }
    }

    /// Starts a new one-second window when the current one is over, reporting what it hid.
    pub(super) fn roll_stranger_window(&mut self) {
        let now = self.now;
        if now.saturating_sub(self.strangers.window_start) < 1000 {
            return;
        }
        let hidden = std::mem::take(&mut self.strangers.suppressed);
        self.strangers.window_start = now;
        self.strangers.used = 0;
        if hidden > 0 {
            self.log(
                Level::Warn,
                format!(
                    "{hidden} more refusals of input from peers that are not logged in were not logged"
                ),
            );
        }
    }
}
