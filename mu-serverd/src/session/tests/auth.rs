//! Login and server info.

use super::harness::*;
use crate::pickle::Value;
use crate::session::auth::ct_eq;
use crate::session::io::{Action, Channel};
use crate::session::SessionConfig;

#[test]
fn first_login_is_lobby_then_running_after_upload() {
    let mut h = H::new();
    assert_eq!(h.login(&id(1), "alice", false), "LOBBY");
    h.host(&id(2), "host", &[("n1", node_value("a", 1))]);
    assert_eq!(h.login(&id(3), "carol", false), "RUNNING");
}

#[test]
fn failed_answers_in_the_reference_order() {
    let mut h = H::with(SessionConfig {
        server_password: Some("pw".into()),
        ..cfg()
    });
    let ok = auth_data("alice", None, s("pw"), "0.9.10");
    let acts = h.cmd(&id(1), cmd(CommandKind::Auth, "alice", &ok));
    assert_eq!(auth_answer(&acts, &id(1)), "LOBBY");
    let try_auth = |h: &mut H, name: &str, apwd: Option<&str>, spwd: Value, ver: &str| {
        let acts = h.cmd(
            &id(9),
            cmd(CommandKind::Auth, name, &auth_data(name, apwd, spwd, ver)),
        );
        auth_answer(&acts, &id(9))
    };
    // all four wrong: the name check wins, then admin, then server password, then version
    assert_eq!(
        try_auth(&mut h, "alice", Some("bad"), s("bad"), "0.0.1"),
        "FAILED: client already logged in"
    );
    assert_eq!(
        try_auth(&mut h, "zoe", Some("bad"), s("bad"), "0.0.1"),
        "FAILED: wrong admin password"
    );
    assert_eq!(
        try_auth(&mut h, "zoe", None, s("bad"), "0.0.1"),
        "FAILED: wrong server password"
    );
    assert_eq!(
        try_auth(&mut h, "zoe", None, Value::None, "0.0.1"),
        "FAILED: wrong server password"
    );
    assert_eq!(
        try_auth(&mut h, "zoe", None, s("pw"), "0.0.1"),
        "FAILED: wrong client version (0.0.1 != 0.9.10)"
    );
    assert_eq!(
        try_auth(&mut h, "zoe", Some(ADMIN_PWD), s("pw"), "0.9.10"),
        "LOBBY"
    );
}

#[test]
fn every_login_attempt_is_logged_with_the_refusal() {
    let mut h = H::new();
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::Auth,
            "x",
            &auth_data("mallory", Some("nope"), Value::None, "0.9.10"),
        ),
    );
    assert!(logged(&acts, "Auth request from mallory (ADMIN)"));
    assert!(logged(&acts, "Auth refused for mallory"));
    assert!(logged(&acts, "wrong admin password"));
}

#[test]
fn admin_login_disabled_without_admin_password() {
    let mut h = H::with(SessionConfig {
        admin_password: None,
        ..cfg()
    });
    let acts = h.cmd(
        &id(1),
        cmd(
            CommandKind::Auth,
            "a",
            &auth_data("a", Some(""), Value::None, "0.9.10"),
        ),
    );
    assert_eq!(auth_answer(&acts, &id(1)), "FAILED: wrong admin password");
}

#[test]
fn public_server_accepts_any_server_password() {
    // difference 10
    let mut h = H::new();
    for (i, spwd) in [Value::None, s(""), s("anything"), Value::Int(3)]
        .into_iter()
        .enumerate()
    {
        let name = format!("u{i}");
        let acts = h.cmd(
            &id(i as u8 + 1),
            cmd(
                CommandKind::Auth,
                &name,
                &auth_data(&name, None, spwd, "0.9.10"),
            ),
        );
        assert_eq!(auth_answer(&acts, &id(i as u8 + 1)), "LOBBY");
    }
}

#[test]
fn private_server_needs_the_exact_password() {
    let mut h = H::with(SessionConfig {
        server_password: Some("pw".into()),
        ..cfg()
    });
    for bad in [s("pw "), s("PW"), s(""), Value::None, Value::bytes(b"pw")] {
        let acts = h.cmd(
            &id(1),
            cmd(CommandKind::Auth, "a", &auth_data("a", None, bad, "0.9.10")),
        );
        assert_eq!(auth_answer(&acts, &id(1)), "FAILED: wrong server password");
    }
}

#[test]
fn auth_whose_data_is_not_a_dict_is_refused_with_a_log_line() {
    let mut h = H::new();
    for data in [s("hello"), Value::Int(4), Value::None, Value::list(vec![])] {
        let acts = h.cmd(&id(1), cmd(CommandKind::Auth, "x", &data));
        assert!(auth_answer(&acts, &id(1)).starts_with("FAILED"));
        assert!(logged(&acts, "Auth request from peer"));
    }
    assert!(h.s.clients.is_empty());
}

#[test]
fn client_limit_refuses_extra_logins() {
    let mut h = H::with(SessionConfig {
        max_clients: 2,
        ..cfg()
    });
    assert_eq!(h.login(&id(1), "a", false), "LOBBY");
    assert_eq!(h.login(&id(2), "b", false), "LOBBY");
    assert!(h
        .login(&id(3), "c", false)
        .starts_with("FAILED: server full"));
}

#[test]
fn login_broadcasts_user_list_before_the_answer() {
    let mut h = H::new();
    h.login(&id(1), "a", false);
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::Auth,
            "b",
            &auth_data("b", None, Value::None, "0.9.10"),
        ),
    );
    let to_b = sends_to(&acts, &id(2));
    assert_eq!(
        to_b.iter().map(|m| m.kind()).collect::<Vec<_>>(),
        [
            Some(CommandKind::UpdateClientsState),
            Some(CommandKind::Auth)
        ]
    );
    let users = to_b[0].data();
    assert_eq!(int(get(get(&users, "b"), "status")), 10);
    assert!(matches!(get(get(&users, "a"), "latency"), Value::Int(999)));
    assert_eq!(sends_to(&acts, &id(1)).len(), 1);
}

#[test]
fn server_info_private_exactly_with_a_password() {
    // difference 6
    for (pwd, private) in [(None, false), (Some("x".to_owned()), true)] {
        let mut h = H::with(SessionConfig {
            server_password: pwd,
            ..cfg()
        });
        let acts = h.cmd(
            &id(7),
            cmd(CommandKind::RequestServerInfo, "guest", &s("RQ_INFO")),
        );
        let reply = &sends_to(&acts, &id(7))[0];
        assert_eq!(reply.ch, Channel::Command);
        assert_eq!(reply.kind(), Some(CommandKind::RequestServerInfo));
        let d = reply.data();
        assert!(matches!(get(&d, "private"), Value::Bool(b) if *b == private));
        assert_eq!(get(&d, "version").as_str(), Some("0.9.10"));
    }
}

#[test]
fn constant_time_compare_is_a_correct_compare() {
    assert!(ct_eq(b"secret", b"secret"));
    assert!(!ct_eq(b"secret", b"secreT"));
    assert!(!ct_eq(b"secret", b"secret "));
    assert!(!ct_eq(b"", b"x"));
    assert!(ct_eq(b"", b""));
}

#[test]
fn failed_login_registers_nothing_and_sends_no_broadcast() {
    let mut h = H::new();
    h.login(&id(1), "a", false);
    let acts = h.cmd(
        &id(2),
        cmd(
            CommandKind::Auth,
            "a",
            &auth_data("a", None, Value::None, "0.9.10"),
        ),
    );
    assert!(acts
        .iter()
        .all(|a| !matches!(a, Action::Send { to, .. } if *to == id(1))));
    assert_eq!(h.s.clients.len(), 1);
}

#[test]
fn auth_that_does_not_decode_is_still_logged_as_an_auth_request() {
    let mut h = H::new();
    let evil = std::sync::Arc::from(
        &b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94."[..],
    );
    let acts = h.cmd(
        &id(1),
        vec![
            kframe(CommandKind::Auth),
            std::sync::Arc::from(&b"x"[..]),
            evil,
        ],
    );
    assert!(logged(&acts, "Auth request from peer"));
    assert!(logged(&acts, "refused"));
    assert!(sends(&acts).is_empty());
}
