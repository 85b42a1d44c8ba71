//! Send failures, control requests, shutdown, restore and reload.

use super::harness::*;
use crate::pickle::Value;
use crate::session::io::{Action, Change, Channel, SendFailure, SessionState};
use crate::session::wire::sdict;
use crate::session::{ControlReply, ControlRequest, Session, SessionConfig};

fn two() -> H {
    let mut h = H::new();
    h.host(
        &id(1),
        "host",
        &[("a", node_value("a", 1)), ("b", node_value("b", 2))],
    );
    h.join(&id(2), "bob");
    h.cmd(
        &id(2),
        cmd(
            CommandKind::Right,
            "bob",
            &sdict(vec![
                ("uuid", Value::list(vec![s("b")])),
                ("owner", s("bob")),
            ]),
        ),
    );
    h
}

#[test]
fn queue_overflow_disconnects_with_reason_and_releases_locks() {
    // difference 9
    let mut h = two();
    h.s.handle_send_failure(h.now, Channel::Data, &id(2), SendFailure::QueueOverflow);
    let mut acts = Vec::new();
    while let Some(a) = h.s.poll_action() {
        acts.push(a);
    }
    let drop = acts
        .iter()
        .position(|a| matches!(a, Action::DropPeer { to } if *to == id(2)));
    let disc = acts.iter().position(
        |a| matches!(a, Action::Send { to, frames, .. } if *to == id(2) && frames[0][3] == 10),
    );
    assert!(
        drop.is_some() && drop < disc,
        "queue dropped, then the Disconnect: {acts:?}"
    );
    assert!(logged(&acts, "outbound queue overflow"));
    assert!(logged(&acts, "bob ("));
    assert_eq!(h.s.repository().get("b").expect("b").owner, "COMMON");
    assert!(h.s.clients.by_name("bob").is_none());
}

#[test]
fn queue_overflow_of_a_peer_not_logged_in_drops_its_backlog_only() {
    // The shell discards sends to an overflowed peer until the core's DropPeer.
    let mut h = two();
    h.s.handle_send_failure(h.now, Channel::Command, &id(9), SendFailure::QueueOverflow);
    let mut acts = Vec::new();
    while let Some(a) = h.s.poll_action() {
        acts.push(a);
    }
    assert!(
        matches!(&acts[..], [Action::DropPeer { to }] if *to == id(9)),
        "{acts:?}"
    );
    assert!(h.s.clients.by_name("bob").is_some());
}

#[test]
fn unreachable_data_channel_of_an_active_client_forces_a_rejoin() {
    let mut h = two();
    h.s.handle_send_failure(h.now, Channel::Command, &id(2), SendFailure::Unreachable);
    assert!(h.s.clients.by_name("bob").is_some());
    h.s.handle_send_failure(h.now, Channel::Data, &id(2), SendFailure::Unreachable);
    assert!(h.s.clients.by_name("bob").is_none());
}

#[test]
fn control_users_and_summary() {
    let mut h = two();
    let ControlReply::Users(users) = h.s.handle_control(h.now, ControlRequest::Users) else {
        panic!()
    };
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].name, "host");
    assert!(users[0].admin && !users[1].admin);
    assert!(users[1].msgs_in >= 4 && users[1].bytes_out > 0);
    let ControlReply::Summary(sum) = h.s.handle_control(h.now, ControlRequest::Summary) else {
        panic!()
    };
    assert_eq!(
        (sum.state, sum.users, sum.nodes),
        (SessionState::Active, 2, 2)
    );
    assert!(sum.bytes_stored > 0);
}

#[test]
fn control_kick_with_reason() {
    let mut h = two();
    let r = h.s.handle_control(
        h.now,
        ControlRequest::Kick {
            user: "bob".into(),
            reason: Some("maintenance".into()),
        },
    );
    assert_eq!(r, ControlReply::Done);
    let acts = h.advance(0);
    let _ = acts;
    let mut got = Vec::new();
    got.extend(h.actions.iter().cloned());
    assert!(h.s.clients.by_name("bob").is_none());
    let r = h.s.handle_control(
        h.now,
        ControlRequest::Kick {
            user: "bob".into(),
            reason: None,
        },
    );
    assert!(matches!(r, ControlReply::Error(_)));
}

#[test]
fn shutdown_sends_disconnect_to_everyone_at_once() {
    let mut h = two();
    let r = h.s.handle_control(
        h.now,
        ControlRequest::Shutdown {
            reason: "server shutting down".into(),
        },
    );
    assert_eq!(r, ControlReply::Done);
    let mut acts = Vec::new();
    while let Some(a) = h.s.poll_action() {
        acts.push(a);
    }
    for who in [1, 2] {
        let d: Vec<_> = sends_to(&acts, &id(who))
            .into_iter()
            .filter(|m| m.kind() == Some(CommandKind::Disconnect))
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(
            get(&d[0].data(), "reason").as_str(),
            Some("server shutting down")
        );
    }
    assert!(h.s.clients.is_empty());
}

#[test]
fn reset_empties_the_session() {
    let mut h = two();
    h.s.handle_control(h.now, ControlRequest::Reset);
    let mut acts = Vec::new();
    while let Some(a) = h.s.poll_action() {
        acts.push(a);
    }
    assert!(persisted(&acts).iter().any(|c| matches!(c, Change::Reset)));
    assert_eq!(h.s.state(), SessionState::Waiting);
    assert!(h.s.repository().is_empty());
    assert_eq!(h.login(&id(3), "new", false), "LOBBY");
}

#[test]
fn restore_releases_every_lock_and_joins_run() {
    let h = two();
    let repo = h.s.repository().clone();
    let mut s2 = Session::new(cfg());
    s2.replace_scene(
        0,
        "restart",
        crate::session::Scene::Rebuilt { repo, record: None },
    );
    assert_eq!(s2.state(), SessionState::Active);
    assert!(s2.repository().iter().all(|n| n.owner == "COMMON"));
    let mut h2 = H {
        s: s2,
        now: 5,
        actions: Vec::new(),
    };
    assert_eq!(h2.login(&id(9), "back", false), "RUNNING");
}

#[test]
fn reload_changes_passwords_without_dropping_anyone() {
    let mut h = two();
    h.s.set_config(SessionConfig {
        server_password: Some("new".into()),
        ..cfg()
    });
    assert_eq!(h.s.clients.len(), 2);
    assert_eq!(h.login(&id(5), "x", false), "FAILED: wrong server password");
    let acts = h.cmd(
        &id(5),
        cmd(
            CommandKind::Auth,
            "x",
            &auth_data("x", None, s("new"), "0.9.10"),
        ),
    );
    assert_eq!(auth_answer(&acts, &id(5)), "RUNNING");
}

#[test]
fn client_table_keeps_login_order_and_lookups_after_a_leave() {
    use crate::session::clients::{Client, Clients};
    let mut t = Clients::default();
    for (n, name) in ["a", "b", "c", "d"].iter().enumerate() {
        t.insert(id(n as u8), Client::new((*name).into(), false, 0));
    }
    assert_eq!(t.remove(&id(1)).map(|c| c.name), Some("b".to_owned()));
    assert!(t.remove(&id(1)).is_none());
    let names: Vec<_> = t.iter().map(|(_, c)| c.name.clone()).collect();
    assert_eq!(names, vec!["a", "c", "d"]);
    for (n, name) in [(0u8, "a"), (2, "c"), (3, "d")] {
        assert_eq!(t.get(&id(n)).map(|c| c.name.as_str()), Some(name));
    }
    assert_eq!(t.by_name("d"), Some(&id(3)));
    t.get_mut(&id(3)).expect("d").latency = 5;
    assert_eq!(t.get(&id(3)).expect("d").latency, 5);
}
