//! Log lines about refused input. A logged-in client is accountable (the admin can kick it), so
//! each of its refusals is logged; a peer that never logged in could flood the log with garbage,
//! so lines about such peers are limited per second and the rest are counted in one summary.

use super::io::{Channel, Identity, Millis, PeerAddr};
use super::{wire, Session};
use log::Level;

/// Lines per second about peers that are not logged in.
pub(super) const STRANGER_LINES_PER_SECOND: u32 = 20;

#[derive(Default)]
pub(super) struct StrangerLog {
    window_start: Millis,
    used: u32,
    suppressed: u64,
}

impl StrangerLog {
    /// When the summary of suppressed lines is due (None: nothing suppressed).
    pub(super) fn due(&self) -> Option<Millis> {
        (self.suppressed > 0).then_some(self.window_start + 1000)
    }
}

/// Whether a message's address is the one its client logged in from. `Arc`s of one connection
/// are shared by the shell, so the usual case is a pointer comparison.
pub(super) fn same_address(logged_in: Option<&PeerAddr>, now: Option<&PeerAddr>) -> bool {
    match (logged_in, now) {
        (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    }
}

impl Session {
    /// A message that presents a logged-in client's identity from another address: not that
    /// client (difference 15). Nothing is read from it; the line goes through the stranger
    /// limit, since whoever sends it is not accountable under that name.
    pub(super) fn refuse_impostor(
        &mut self,
        ch: Channel,
        from: &Identity,
        peer: Option<&PeerAddr>,
    ) {
        let (name, home) = match self.clients.get(from) {
            Some(c) => (c.name.clone(), c.address.clone()),
            None => return,
        };
        let line = format!(
            "{ch:?} message from {} refused: it presents the identity of {name} (peer {}), who logged in from {}",
            peer.map_or("an unknown address".into(), |a| format!("address {a}")),
            wire::peer_name(from),
            home.as_deref().unwrap_or("an unknown address"),
        );
        self.roll_stranger_window();
        if self.strangers.used < STRANGER_LINES_PER_SECOND {
            self.strangers.used += 1;
            self.log(Level::Warn, line);
        } else {
            self.strangers.suppressed += 1;
        }
    }

    /// One warning about refused input from `from`.
    /// A message whose walks spent the work meter (`pickle::budget`): one line naming the user
    /// and the reason; nothing was stored or relayed.
    pub(super) fn refuse_too_costly(&mut self, from: &[u8], what: &str, walk: &str) {
        let who = self.who(from);
        self.refuse(
            from,
            format!(
                "{what} from {who} refused (not stored, not relayed): {walk} passed the \
                 message's work budget (memo references can make a small pickle a huge tree)"
            ),
        );
    }

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
