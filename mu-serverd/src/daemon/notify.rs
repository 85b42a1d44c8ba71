//! The systemd `Type=notify` contract: READY once serving, STATUS kept current, RELOADING with
//! MONOTONIC_USEC then READY around a reload, WATCHDOG pings at half `WATCHDOG_USEC` driven by
//! the event loop's own timer (a stuck loop stops pinging and gets restarted), STOPPING.
//! Everything is a no-op without `NOTIFY_SOCKET`; send errors are logged at debug and ignored.

use sd_notify::NotifyState;
use std::time::{Duration, Instant};

pub(crate) struct Notifier {
    enabled: bool,
    ping_every: Option<Duration>,
    next_ping: Option<Instant>,
    last_status: String,
}

impl Notifier {
    pub(crate) fn from_env() -> Notifier {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some();
        let ping_every = if enabled {
            sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(1)))
        } else {
            None
        };
        Notifier {
            enabled,
            ping_every,
            next_ping: None,
            last_status: String::new(),
        }
    }

    fn send(&self, states: &[NotifyState]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            log::debug!("sd_notify failed: {e}");
        }
    }

    /// Sockets bound, state loaded: start the watchdog clock.
    pub(crate) fn ready(&mut self, status: &str, now: Instant) {
        self.last_status = status.to_string();
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
        self.next_ping = self.ping_every.map(|d| now + d);
    }

    /// Sends STATUS= only when the text changed.
    pub(crate) fn status(&mut self, status: &str) {
        if status != self.last_status {
            self.last_status = status.to_string();
            self.send(&[NotifyState::Status(status)]);
        }
    }

    pub(crate) fn reloading(&mut self) {
        let mut states = vec![
            NotifyState::Reloading,
            NotifyState::Status("reloading configuration"),
        ];
        match NotifyState::monotonic_usec_now() {
            Ok(m) => states.push(m),
            Err(e) => log::debug!("cannot read CLOCK_MONOTONIC: {e}"),
        }
        self.send(&states);
        self.last_status.clear();
    }

    /// READY=1 after a reload; `status` is sent as well.
    pub(crate) fn reloaded(&mut self, status: &str) {
        self.last_status = status.to_string();
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    pub(crate) fn stopping(&mut self, status: &str) {
        self.send(&[NotifyState::Stopping, NotifyState::Status(status)]);
    }

    /// When the loop must wake up to ping, if the watchdog is on.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.next_ping
    }

    /// Pings if due. Called on every loop iteration.
    pub(crate) fn tick(&mut self, now: Instant) {
        if let (Some(at), Some(every)) = (self.next_ping, self.ping_every) {
            if now >= at {
                self.send(&[NotifyState::Watchdog]);
                self.next_ping = Some(now + every);
            }
        }
    }
}
