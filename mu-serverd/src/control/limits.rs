//! What one peer may hold: connections per uid, the slots kept for root and the daemon's user,
//! and the idle timeout. A group member can neither lock root out of `mu-ctl` by opening every
//! slot nor keep slots by opening connections and saying nothing.

use super::{ControlServer, PeerInfo, MAX_CONNS};
use mio::Registry;
use std::time::{Duration, Instant};

/// Connections one group member (any uid but root and the daemon's) may hold at once.
pub(crate) const MAX_PER_UID: usize = 4;
/// Slots only root and the daemon's user may take: group members together hold at most
/// `MAX_CONNS - RESERVED`, so root's `mu-ctl` always gets in.
pub(crate) const RESERVED: usize = 2;
/// A connection with no request being answered that sends nothing (and takes none of its
/// output) for this long is closed: mu-ctl sends its request at once.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

impl ControlServer {
    /// Changes [`IDLE_TIMEOUT`] (tests).
    #[cfg(test)]
    pub(crate) fn set_idle_timeout(&mut self, t: Duration) {
        self.idle_timeout = t;
    }

    /// When the next idle connection is due to be closed by [`expire`](Self::expire).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.conns
            .iter()
            .flatten()
            .filter(|c| c.awaiting == 0)
            .map(|c| c.last_active + self.idle_timeout)
            .min()
    }

    /// Closes every connection idle for [`IDLE_TIMEOUT`] with no request being answered.
    pub(crate) fn expire(&mut self, registry: &Registry, now: Instant) {
        for slot in 0..MAX_CONNS {
            let Some(c) = self.conns[slot].as_ref() else {
                continue;
            };
            if c.awaiting == 0 && now >= c.last_active + self.idle_timeout {
                log::warn!(
                    "control: closing idle connection from {} (nothing for {} s)",
                    c.peer,
                    self.idle_timeout.as_secs_f32()
                );
                self.close(registry, slot);
            }
        }
    }

    /// Whether `peer` may open one more connection: root and the daemon's user whenever a slot
    /// is free; anyone else within [`MAX_PER_UID`] and outside the [`RESERVED`] slots.
    pub(super) fn room_for(&self, peer: &PeerInfo) -> Result<(), String> {
        if peer.uid == 0 || peer.uid == self.daemon_uid.as_raw() {
            return Ok(());
        }
        let open = self.conns.iter().flatten();
        let (mut mine, mut members) = (0, 0);
        for c in open {
            if c.peer.uid == peer.uid {
                mine += 1;
            }
            if c.peer.uid != 0 && c.peer.uid != self.daemon_uid.as_raw() {
                members += 1;
            }
        }
        if mine >= MAX_PER_UID {
            return Err(format!(
                "too many control connections from uid {} ({mine} open, at most {MAX_PER_UID})",
                peer.uid
            ));
        }
        if members >= MAX_CONNS - RESERVED {
            return Err("too many control connections (the rest are kept for root)".into());
        }
        Ok(())
    }
}
