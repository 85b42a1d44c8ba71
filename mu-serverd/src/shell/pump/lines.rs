//! The shell's own log lines about a peer. They name it with the core's [`peer_name`], so one
//! client reads the same in every line, whichever half of the server wrote it (difference 15:
//! only the first bytes of an identity).

use crate::session::io::Channel;
use crate::session::wire::peer_name;

/// A peer's queue passed its limit and was dropped.
pub(super) fn queue_overflow(channel: Channel, to: &[u8]) -> String {
    format!(
        "client queue on the {channel:?} channel passed its limit; dropping the queue of peer {}",
        peer_name(to)
    )
}

/// A message with more frames than any client sends was read and dropped.
pub(super) fn dropped_oversized(from: &[u8], frames: usize, channel: Channel) -> String {
    format!(
        "dropped a {frames}-frame message from peer {} on the {channel:?} channel (limit {})",
        peer_name(from),
        crate::shell::router::MAX_FRAMES
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::CommandKind;
    use crate::pickle::{encode, Value};
    use crate::session::io::{Action, Identity};
    use crate::session::{Session, SessionConfig};
    use std::sync::Arc;

    /// The word after "peer " in a log line.
    fn named_peer(line: &str) -> &str {
        let at = line.find("peer ").expect("the line names a peer") + "peer ".len();
        line[at..].split([' ', ',', ':']).next().unwrap_or("")
    }

    /// What the core logs about a malformed Auth from `from`.
    fn core_line(from: &Identity) -> String {
        let mut s = Session::new(SessionConfig::default());
        let frames = vec![
            Arc::from(encode(&Value::Int(CommandKind::Auth.num().into()))),
            Arc::from(&b"x"[..]),
            Arc::from(encode(&Value::Int(1))),
        ];
        s.handle_frame(0, Channel::Command, from, frames);
        std::iter::from_fn(|| s.poll_action())
            .find_map(|a| match a {
                Action::Log { message, .. } if message.contains("peer ") => Some(message),
                _ => None,
            })
            .expect("the core logs the refused Auth")
    }

    #[test]
    fn the_shell_and_the_core_name_a_peer_alike() {
        // A client's 16 random bytes, and identities of other lengths a stranger may present.
        let ids: [Identity; 3] = [
            Arc::from(
                &[
                    0x0a, 0x1b, 0x2c, 0x3d, 0xee, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                ][..],
            ),
            Arc::from(&[0xab, 0xcd][..]),
            Arc::from(&[0x00, 0x01, 0x02, 0x03, 0x04, 0x05][..]),
        ];
        // Python: bytes([0x0a, 0x1b, 0x2c, 0x3d]).hex() + "..." (difference 15)
        assert_eq!(named_peer(&core_line(&ids[0])), "0a1b2c3d...");
        for id in &ids {
            let core = core_line(id);
            for shell in [
                queue_overflow(Channel::Data, id),
                dropped_oversized(id, 9, Channel::Command),
            ] {
                assert_eq!(named_peer(&shell), named_peer(&core), "{shell}\n{core}");
            }
        }
    }
}
