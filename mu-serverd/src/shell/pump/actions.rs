//! Performing the core's actions: changes are journaled and flushed before any send of their
//! batch leaves (a change is on disk before any client can have received it), sends go to the
//! routers, and send failures go straight back to the core.

use super::lines;
use super::{channel_index, Shell};
use crate::session::io::{Action, Journal, SendFailure};
use crate::shell::core::Core;
use crate::shell::router::Sent;

impl Shell {
    /// Performs every action the core has queued. Every `Persist` of the batch is recorded
    /// and flushed (one journal write) before any of the batch's sends is handed to ZeroMQ, so
    /// a change is on disk before any client can have received it. Send failures go straight
    /// back to the core, which may queue more actions (handled in a next round).
    pub fn drain_actions<C: Core, J: Journal + ?Sized>(&mut self, core: &mut C, journal: &mut J) {
        loop {
            // Actions held by `answer` come first: they were queued before the core's.
            let mut batch = std::mem::take(&mut self.actions);
            let mut recorded = std::mem::take(&mut self.unflushed);
            while let Some(action) = core.poll_action() {
                match action.journal_into(journal) {
                    Ok(wrote) => recorded |= wrote,
                    Err(other) => batch.push(other),
                }
            }
            if recorded {
                journal.flush();
            }
            if batch.is_empty() {
                self.actions = batch;
                return;
            }
            for action in batch.drain(..) {
                self.perform(core, action);
            }
            self.actions = batch;
        }
    }

    /// After one received message: performs its actions at once when neither they nor an
    /// earlier message of the batch journaled a change (a Snapshot GET's reply then leaves
    /// before the socket is read again); otherwise records the changes and holds every action,
    /// in order, for the batch's flush in `drain_actions`.
    pub(super) fn answer<C: Core, J: Journal + ?Sized>(&mut self, core: &mut C, journal: &mut J) {
        let start = self.actions.len();
        while let Some(action) = core.poll_action() {
            match action.journal_into(journal) {
                Ok(wrote) => self.unflushed |= wrote,
                Err(other) => self.actions.push(other),
            }
        }
        if self.unflushed || self.actions.len() == start {
            return;
        }
        // Nothing was held before (so `start` is 0) and nothing was journaled: perform now.
        // Failures the core reports meanwhile stay queued in the core for the batch's drain.
        let mut now = std::mem::take(&mut self.actions);
        for action in now.drain(..) {
            self.perform(core, action);
        }
        self.actions = now;
    }

    fn perform<C: Core>(&mut self, core: &mut C, action: Action) {
        match action {
            Action::Send {
                channel,
                to,
                frames,
            } => {
                // Any zmq call may process the socket's commands and swallow its ZMQ_FD edge.
                self.dirty[channel_index(channel)] = true;
                let failure = match self.router(channel).send(&to, frames) {
                    Sent::Now | Sent::Parked | Sent::Discarded => None,
                    Sent::Unreachable => Some(SendFailure::Unreachable),
                    Sent::Overflow => {
                        log::warn!("{}", lines::queue_overflow(channel, &to));
                        Some(SendFailure::QueueOverflow)
                    }
                };
                if let Some(f) = failure {
                    let now = self.now();
                    core.handle_send_failure(now, channel, &to, f);
                }
            }
            Action::DropPeer { to } => {
                for r in &mut self.routers {
                    r.drop_peer(&to);
                }
            }
            Action::Log { level, message } => log::log!(level, "{message}"),
            // Recorded by drain_actions before anything else of its batch.
            Action::Persist(_) | Action::PersistScene(_) | Action::PersistSender(_) => {}
        }
    }
}
