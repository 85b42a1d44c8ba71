//! The one-line status for systemd's `STATUS=` ("3 users, 412 nodes, session active,
//! replication 0.9.10": the last part while the session holds a client version).

use crate::session::io::Millis;
use crate::session::{ControlReply, ControlRequest, Session};

pub(crate) fn line(session: &mut Session, now: Millis) -> String {
    let version = session
        .client_version()
        .map(|v| format!(", replication {v}"))
        .unwrap_or_default();
    match session.handle_control(now, ControlRequest::Summary) {
        ControlReply::Summary(s) => format!(
            "{} user{}, {} node{}, session {}{version}",
            s.users,
            if s.users == 1 { "" } else { "s" },
            s.nodes,
            if s.nodes == 1 { "" } else { "s" },
            s.state.name()
        ),
        _ => String::from("serving"),
    }
}
