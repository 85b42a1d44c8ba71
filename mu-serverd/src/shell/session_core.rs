//! The real protocol core behind the shell's [`Core`] trait.

use super::core::Core;
use crate::session::io::{Action, Channel, Frame, Identity, Millis, PeerAddr, SendFailure};
use crate::session::Session;

impl Core for Session {
    fn handle_frame(&mut self, now: Millis, channel: Channel, from: &Identity, frames: Vec<Frame>) {
        Session::handle_frame(self, now, channel, from, frames)
    }
    fn handle_frame_from(
        &mut self,
        now: Millis,
        channel: Channel,
        from: &Identity,
        peer: Option<&PeerAddr>,
        frames: Vec<Frame>,
    ) {
        Session::handle_frame_from(self, now, channel, from, peer, frames)
    }
    fn handle_tick(&mut self, now: Millis) {
        Session::handle_tick(self, now)
    }
    fn handle_send_failure(
        &mut self,
        now: Millis,
        channel: Channel,
        to: &Identity,
        failure: SendFailure,
    ) {
        Session::handle_send_failure(self, now, channel, to, failure)
    }
    fn poll_action(&mut self) -> Option<Action> {
        Session::poll_action(self)
    }
    fn next_deadline(&self) -> Option<Millis> {
        Session::next_deadline(self)
    }
}
