//! What the shell needs from a protocol core. The real one is `session::Session`; tests drive
//! the shell with small cores (echo, fan-out) to test the IO rules on their own.

use crate::session::io::{Action, Channel, Frame, Identity, Millis, PeerAddr, SendFailure};

pub trait Core {
    /// One message from `from` on `channel`, identity frame removed.
    fn handle_frame(&mut self, now: Millis, channel: Channel, from: &Identity, frames: Vec<Frame>);
    /// [`Core::handle_frame`] with the IP address of the connection the message came on
    /// (libzmq's `Peer-Address`). Cores that do not care ignore it.
    fn handle_frame_from(
        &mut self,
        now: Millis,
        channel: Channel,
        from: &Identity,
        peer: Option<&PeerAddr>,
        frames: Vec<Frame>,
    ) {
        let _ = peer;
        self.handle_frame(now, channel, from, frames)
    }
    /// Time passed; called when `next_deadline()` is reached.
    fn handle_tick(&mut self, now: Millis);
    /// A `Send` could not be delivered.
    fn handle_send_failure(
        &mut self,
        now: Millis,
        channel: Channel,
        to: &Identity,
        failure: SendFailure,
    );
    fn poll_action(&mut self) -> Option<Action>;
    fn next_deadline(&self) -> Option<Millis>;
}
