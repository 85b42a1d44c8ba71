//! The wire vocabulary at the session's door: every command kind reaches a handler or one
//! "ignored" line, and a type number that is no kind is refused with one line.
//!
//! That a new `CommandKind` cannot go unhandled is the compiler's job, not a test's: the
//! dispatch in `Session::on_command`, `auth::before_login` and `CommandKind::name` match every
//! kind by name with no catch-all arm, so adding a variant does not build until each decides.
//! `objects::kind`'s test pins that every accepted type number is one kind.

use super::harness::*;
use crate::pickle::Value;
use crate::session::io::{Action, Channel};
use log::Level;
use std::sync::Arc;

fn two() -> H {
    let mut h = H::new();
    h.host(&id(1), "host", &[("a", node_value("a", 1))]);
    h.join(&id(2), "bob");
    h
}

fn warnings(acts: &[Action]) -> Vec<&str> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Log {
                level: Level::Warn,
                message,
            } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}

/// Nothing sent, stored, dropped or journaled: only log lines.
fn only_logs(acts: &[Action]) -> bool {
    acts.iter().all(|a| matches!(a, Action::Log { .. }))
}

#[test]
fn an_unknown_type_number_is_refused_with_one_line_on_every_channel() {
    let mut h = two();
    for t in [0i64, 15, 99, 255, 256, -1, 1 << 40] {
        for (who, name) in [(id(2), "from bob ("), (id(77), "from peer ")] {
            for (ch, frames) in [
                (
                    Channel::Command,
                    vec![tframe(t), Arc::from(&b"bob"[..]), pk(&Value::None)],
                ),
                (Channel::Data, vec![tframe(t), Arc::from(&b"x"[..])]),
            ] {
                let acts = h.frame(ch, &who, frames);
                let lines = warnings(&acts);
                assert_eq!(lines.len(), 1, "type {t} on {ch:?}: {lines:?}");
                assert!(lines[0].contains(name), "{}", lines[0]);
                // a stranger's data is dropped unread; everything else is read and refused
                let why = if who == id(77) && ch == Channel::Data {
                    "dropped: not logged in".to_owned()
                } else {
                    format!("unknown type number {t}")
                };
                assert!(lines[0].contains(&why), "{}", lines[0]);
                assert!(lines[0].contains("refused") || why.contains("dropped"));
                assert!(only_logs(&acts), "type {t} on {ch:?}: {acts:?}");
            }
        }
    }
    assert_eq!(h.s.clients.len(), 2);
}

#[test]
fn every_kind_from_a_client_reaches_a_handler_or_is_ignored_with_a_line() {
    for kind in CommandKind::ALL {
        let mut h = two();
        let acts = h.cmd(&id(2), cmd(kind, "bob", &Value::dict(vec![])));
        assert!(
            !acts.is_empty(),
            "{kind:?} from a logged-in client left no trace"
        );
        let ignored = logged(&acts, &format!("command type {} from bob", kind.num()));
        let unread = matches!(
            kind,
            CommandKind::Command
                | CommandKind::Config
                | CommandKind::Disconnect
                | CommandKind::UpdateClientsState
        );
        assert_eq!(ignored, unread, "{kind:?}: {:?}", logs(&acts));
    }
}

#[test]
fn a_garbled_auth_is_logged_past_the_stranger_limit_other_kinds_are_not() {
    let garbled = |kind| {
        vec![
            kframe(kind),
            Arc::from(&b"x"[..]),
            Arc::from(&b"\x80\x04}\x94"[..]),
        ]
    };
    let n = 3 * crate::session::refusals::STRANGER_LINES_PER_SECOND as u8;
    let mut h = H::new();
    let mut auth = Vec::new();
    for k in 0..n {
        auth.extend(h.cmd(&id(100 + k), garbled(CommandKind::Auth)));
    }
    let lines = warnings(&auth);
    assert_eq!(lines.len(), usize::from(n));
    assert!(lines
        .iter()
        .all(|l| l.starts_with("Auth request from peer")));
    // RequestServerInfo is also read before login, but its refusals count as a stranger's
    let mut h = H::new();
    let mut info = Vec::new();
    for k in 0..n {
        info.extend(h.cmd(&id(100 + k), garbled(CommandKind::RequestServerInfo)));
    }
    assert_eq!(
        warnings(&info).len(),
        crate::session::refusals::STRANGER_LINES_PER_SECOND as usize
    );
    assert!(logged(&info, "RequestServerInfo from peer"));
}
