//! `[server] client_versions` (issue 17): which versions log in, how one session holds one of
//! them, what RequestServerInfo reports, and what survives a restore.

use super::harness::*;
use crate::pickle::Value;
use crate::session::io::{Change, SessionState};
use crate::session::{ControlRequest, Session, SessionConfig};

fn both() -> SessionConfig {
    SessionConfig {
        client_versions: vec!["0.9.10".into(), "0.9.9".into()],
        ..cfg()
    }
}

/// Logs `name` in with `version`; returns the answer and the actions.
fn login_v(
    h: &mut H,
    who: u8,
    name: &str,
    version: &str,
) -> (String, Vec<crate::session::io::Action>) {
    let data = auth_data(name, None, Value::None, version);
    let acts = h.cmd(&id(who), cmd(CommandKind::Auth, name, &data));
    (auth_answer(&acts, &id(who)), acts)
}

fn server_info_version(h: &mut H) -> String {
    let acts = h.cmd(
        &id(200),
        cmd(CommandKind::RequestServerInfo, "guest", &s("RQ_INFO")),
    );
    let info = sends_to(&acts, &id(200))
        .into_iter()
        .find(|m| m.kind() == Some(CommandKind::RequestServerInfo))
        .expect("server info answer")
        .data();
    get(&info, "version").as_str().expect("text").to_owned()
}

fn kick(h: &mut H, user: &str) {
    h.s.handle_control(
        h.now,
        ControlRequest::Kick {
            user: user.into(),
            reason: None,
        },
    );
    while h.s.poll_action().is_some() {}
}

/// A session holding `version` with an uploaded scene and nobody logged in.
fn scene_of(version: &str) -> H {
    let mut h = H::with(both());
    let (answer, _) = login_v(&mut h, 1, "host", version);
    assert_eq!(answer, "LOBBY");
    h.hb(&id(1), b"INIT");
    let init =
        crate::session::wire::sdict(vec![("STATE", s("INIT")), ("NODES", Value::list(vec![]))]);
    h.cmd(&id(1), cmd(CommandKind::ServerSnapshot, "server", &init));
    h.cmd(
        &id(1),
        cmd(
            CommandKind::ServerSnapshot,
            "server",
            &crate::session::wire::sdict(vec![("STATE", s("END"))]),
        ),
    );
    assert_eq!(h.s.state(), SessionState::Active);
    kick(&mut h, "host");
    assert!(h.s.clients.is_empty());
    h
}

#[test]
fn the_default_admits_only_0_9_10_with_the_reference_wording() {
    let mut h = H::new();
    let (answer, acts) = login_v(&mut h, 1, "old", "0.9.9");
    assert_eq!(answer, "FAILED: wrong client version (0.9.9 != 0.9.10)");
    assert!(
        logged(&acts, "Auth refused for old peer"),
        "{:?}",
        logs(&acts)
    );
    assert_eq!(server_info_version(&mut h), "0.9.10");
    assert_eq!(login_v(&mut h, 2, "new", "0.9.10").0, "LOBBY");
}

#[test]
fn the_first_client_fixes_the_version_of_the_session() {
    let mut h = H::with(both());
    // Empty session: the first listed version is advertised.
    assert_eq!(server_info_version(&mut h), "0.9.10");
    let (answer, acts) = login_v(&mut h, 1, "old", "0.9.9");
    assert_eq!(answer, "LOBBY");
    assert_eq!(
        persisted(&acts)
            .iter()
            .filter(|c| matches!(c, Change::ClientVersion(Some(v)) if v == "0.9.9"))
            .count(),
        1
    );
    assert!(logged(&acts, "holds replication 0.9.9 clients"));
    assert_eq!(server_info_version(&mut h), "0.9.9");
    let (answer, acts) = login_v(&mut h, 2, "new", "0.9.10");
    assert_eq!(answer, "FAILED: wrong client version (0.9.10 != 0.9.9)");
    assert!(
        logged(&acts, "holds replication 0.9.9 clients until it is reset"),
        "{:?}",
        logs(&acts)
    );
    // The same generation is admitted, and nothing more is journaled for it.
    let (answer, acts) = login_v(&mut h, 3, "other", "0.9.9");
    assert_eq!(answer, "LOBBY");
    assert!(persisted(&acts).is_empty(), "{:?}", persisted(&acts));
}

#[test]
fn an_unlisted_version_is_told_every_admitted_one() {
    let mut h = H::with(both());
    assert_eq!(
        login_v(&mut h, 1, "x", "0.9.8").0,
        "FAILED: wrong client version (0.9.8 != 0.9.10 or 0.9.9)"
    );
    let data = crate::session::wire::sdict(vec![
        ("AUTH_TYPE", s("CLIENT")),
        ("AUTH_ID", s("y")),
        ("S_PWD", Value::None),
        ("A_PWD", Value::None),
    ]);
    let acts = h.cmd(&id(2), cmd(CommandKind::Auth, "y", &data));
    assert_eq!(
        auth_answer(&acts, &id(2)),
        "FAILED: wrong client version (None != 0.9.10 or 0.9.9)"
    );
}

#[test]
fn a_waiting_session_nobody_is_in_is_free_again() {
    let mut h = H::with(both());
    assert_eq!(login_v(&mut h, 1, "old", "0.9.9").0, "LOBBY");
    kick(&mut h, "old");
    assert_eq!(server_info_version(&mut h), "0.9.10");
    let (answer, acts) = login_v(&mut h, 2, "new", "0.9.10");
    assert_eq!(answer, "LOBBY");
    assert!(persisted(&acts)
        .iter()
        .any(|c| matches!(c, Change::ClientVersion(Some(v)) if v == "0.9.10")));
}

#[test]
fn a_scene_keeps_its_version_with_nobody_logged_in_until_reset() {
    let mut h = scene_of("0.9.9");
    assert_eq!(server_info_version(&mut h), "0.9.9");
    assert_eq!(
        login_v(&mut h, 2, "new", "0.9.10").0,
        "FAILED: wrong client version (0.9.10 != 0.9.9)"
    );
    h.s.handle_control(h.now, ControlRequest::Reset);
    while h.s.poll_action().is_some() {}
    assert_eq!(login_v(&mut h, 3, "new", "0.9.10").0, "LOBBY");
}

#[test]
fn an_interrupted_upload_keeps_the_lobby_generation() {
    let mut h = H::with(both());
    assert_eq!(login_v(&mut h, 1, "host", "0.9.9").0, "LOBBY");
    assert_eq!(login_v(&mut h, 2, "early", "0.9.9").0, "LOBBY");
    h.hb(&id(1), b"INIT");
    let init = crate::session::wire::sdict(vec![
        ("STATE", s("INIT")),
        ("NODES", Value::list(vec![s("n1")])),
    ]);
    h.cmd(&id(1), cmd(CommandKind::ServerSnapshot, "server", &init));
    assert_eq!(h.s.state(), SessionState::SrvSync);
    kick(&mut h, "host");
    assert_eq!(h.s.state(), SessionState::Waiting);
    // "early" is still in the lobby with 0.9.9: another generation may not come in and upload.
    assert_eq!(
        login_v(&mut h, 3, "new", "0.9.10").0,
        "FAILED: wrong client version (0.9.10 != 0.9.9)"
    );
}

#[test]
fn a_restored_scene_holds_its_version() {
    let h = scene_of("0.9.9");
    let repo = h.s.repository().clone();
    assert_eq!(repo.client_version(), Some("0.9.9"));
    let mut h2 = H::with(both());
    h2.s.replace_scene(
        0,
        "restart",
        crate::session::Scene::Rebuilt { repo, record: None },
    );
    let acts: Vec<_> = std::iter::from_fn(|| h2.s.poll_action()).collect();
    assert!(
        logged(&acts, "replication 0.9.9 clients"),
        "{:?}",
        logs(&acts)
    );
    assert_eq!(
        login_v(&mut h2, 2, "new", "0.9.10").0,
        "FAILED: wrong client version (0.9.10 != 0.9.9)"
    );
    assert_eq!(login_v(&mut h2, 3, "old", "0.9.9").0, "RUNNING");
}

#[test]
fn a_reload_that_drops_the_held_version_warns_and_admits_nobody_new() {
    let mut h = H::with(both());
    assert_eq!(login_v(&mut h, 1, "old", "0.9.9").0, "LOBBY");
    h.s.set_config(cfg());
    let acts: Vec<_> = std::iter::from_fn(|| h.s.poll_action()).collect();
    assert!(logged(&acts, "no longer lists"), "{:?}", logs(&acts));
    assert_eq!(h.s.clients.len(), 1, "a reload drops nobody");
    let (answer, acts) = login_v(&mut h, 2, "again", "0.9.9");
    assert_eq!(answer, "FAILED: wrong client version (0.9.9 != 0.9.10)");
    assert!(logged(&acts, "no longer lists"), "{:?}", logs(&acts));
    assert_eq!(
        login_v(&mut h, 3, "new", "0.9.10").0,
        "FAILED: wrong client version (0.9.10 != 0.9.9)"
    );
}

#[test]
fn a_new_session_holds_nothing() {
    let s = Session::new(both());
    assert_eq!(s.client_version(), None);
}
