//! Golden bytes pin the wire format (computed by hand / with an independent 10-line Python
//! varint encoder, not by this crate); proptest checks that everything round-trips.

use super::*;
use proptest::prelude::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn body<T: serde::Serialize>(msg: &T) -> String {
    hex(&postcard::to_stdvec(msg).expect("encode"))
}

#[test]
fn golden_requests() {
    // Hello is variant 0 with a varint u16: it must never change.
    assert_eq!(body(&Request::Hello { version: 1 }), "0001");
    assert_eq!(body(&Request::Users), "01");
    assert_eq!(
        body(&Request::Kick {
            user: "alice".into(),
            reason: Some("spam".into())
        }),
        "0205616c69636501047370616d"
    );
    assert_eq!(
        body(&Request::Kick {
            user: "bob".into(),
            reason: None
        }),
        "0203626f6200"
    );
    assert_eq!(body(&Request::Reload), "03");
    assert_eq!(body(&Request::Stop), "04");
    assert_eq!(body(&Request::Status), "05");
    assert_eq!(body(&Request::Save), "06");
    assert_eq!(
        body(&Request::Export {
            path: "/tmp/x".into()
        }),
        "07062f746d702f78"
    );
    assert_eq!(
        body(&Request::Import {
            path: "/tmp/x".into()
        }),
        "08062f746d702f78"
    );
    assert_eq!(body(&Request::Reset), "09");
    assert_eq!(body(&Request::ExportFile { name: "x".into() }), "0a0178");
    assert_eq!(body(&Request::ImportFile { name: "x".into() }), "0b0178");
    // History requests (issue 20), appended: 12, 13, 14.
    assert_eq!(
        body(&Request::History {
            since_unix_ms: None
        }),
        "0c00"
    );
    assert_eq!(
        body(&Request::History {
            since_unix_ms: Some(5)
        }),
        "0c0105"
    );
    assert_eq!(
        body(&Request::ExportAt {
            name: "x".into(),
            at_unix_ms: 1
        }),
        "0d017801"
    );
    assert_eq!(body(&Request::Restore { at_unix_ms: 300 }), "0eac02");
    assert_eq!(body(&Request::Settings), "0f");
}

#[test]
fn golden_replies() {
    assert_eq!(
        body(&Reply::Hello {
            version: 1,
            daemon_version: "0.1.0".into()
        }),
        "000105302e312e30"
    );
    let user = UserInfo {
        name: "al".into(),
        admin: true,
        status: "active".into(),
        latency_ms: 300,
        connected_since_unix: 1_700_000_000,
        peer: Some("127.0.0.1:5".into()),
        msgs_in: 1,
        msgs_out: 2,
        bytes_in: 128,
        bytes_out: 0,
    };
    assert_eq!(
        body(&Reply::Users(vec![user])),
        "010102616c0106616374697665ac0280e2cfaa06010b3132372e302e302e313a350102800100"
    );
    let status = StatusInfo {
        version: "0.1.0".into(),
        uptime_s: 3600,
        session_state: "active".into(),
        nodes: 412,
        bytes_stored: 65536,
        users: 3,
        bind: "0.0.0.0".into(),
        ports: vec![5555, 5556, 5557],
        config_file: Some("/etc/mu-server.toml".into()),
        last_save_unix: None,
        journal_bytes: Some(0),
        state_dir: None,
    };
    assert_eq!(
        body(&Reply::Status(status)),
        "0205302e312e30901c066163746976659c038080040307302e302e302e3003b32bb42bb52b01132f6574\
         632f6d752d7365727665722e746f6d6c00010000"
    );
    assert_eq!(body(&Reply::done("ok")), "03026f6b");
    // Error is variant 4 forever; the codes are indices in declaration order.
    assert_eq!(body(&Reply::error(ErrorCode::Refused, "x")), "04000178");
    assert_eq!(
        body(&Reply::error(ErrorCode::VersionMismatch, "")),
        "040500"
    );
    assert_eq!(body(&Reply::error(ErrorCode::Failed, "")), "040600");
    // History (issue 20), appended as variant 5.
    let h = HistoryInfo {
        oldest_unix_ms: Some(1),
        newest_unix_ms: None,
        disk_bytes: 2,
        generations: 1,
        intervals: vec![HistoryInterval {
            from_unix_ms: 0,
            to_unix_ms: 60_000,
            nodes: 1,
            bytes: 2,
            users: vec!["a".into()],
            changes: 3,
            busiest: vec![Activity {
                who: "a".into(),
                kind: "x".into(),
                count: 4,
            }],
        }],
        gaps: vec![],
    };
    assert_eq!(
        body(&Reply::History(h)),
        "0501010002010100e0d40301020101610301016101780400"
    );
    assert_eq!(
        body(&Reply::Settings(SettingsInfo {
            pid: 300,
            socket: "/s".into(),
            server_password_set: true,
            admin_login: false,
        })),
        "06ac02022f730100"
    );
}

#[test]
fn an_unknown_variant_from_a_newer_peer_is_an_error_not_garbage() {
    // Request variant 16 and Reply variant 7 do not exist in protocol 1 (yet).
    assert!(crate::frame::decode_body::<Request>(&[16]).is_err());
    assert!(crate::frame::decode_body::<Reply>(&[7]).is_err());
    assert!(crate::frame::decode_body::<Reply>(&[4, 7, 0]).is_err());
}

#[test]
fn error_codes_have_stable_json_names() {
    let names: Vec<&str> = [
        ErrorCode::Refused,
        ErrorCode::NotFound,
        ErrorCode::BadRequest,
        ErrorCode::Unsupported,
        ErrorCode::Internal,
        ErrorCode::VersionMismatch,
        ErrorCode::Failed,
    ]
    .iter()
    .map(|c| c.as_str())
    .collect();
    assert_eq!(
        names,
        [
            "refused",
            "not_found",
            "bad_request",
            "unsupported",
            "internal",
            "version_mismatch",
            "failed"
        ]
    );
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        Just(ErrorCode::Refused),
        Just(ErrorCode::NotFound),
        Just(ErrorCode::BadRequest),
        Just(ErrorCode::Unsupported),
        Just(ErrorCode::Internal),
        Just(ErrorCode::VersionMismatch),
        Just(ErrorCode::Failed),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        any::<u16>().prop_map(|version| Request::Hello { version }),
        Just(Request::Users),
        (".*", proptest::option::of(".*"))
            .prop_map(|(user, reason)| Request::Kick { user, reason }),
        Just(Request::Reload),
        Just(Request::Stop),
        Just(Request::Status),
        Just(Request::Save),
        ".*".prop_map(|path| Request::Export { path }),
        ".*".prop_map(|path| Request::Import { path }),
        ".*".prop_map(|name| Request::ExportFile { name }),
        ".*".prop_map(|name| Request::ImportFile { name }),
        Just(Request::Reset),
        Just(Request::Settings),
    ]
}

fn user() -> impl Strategy<Value = UserInfo> {
    (
        (".*", any::<bool>(), ".*", any::<u32>(), any::<u64>()),
        (proptest::option::of(".*"), any::<[u64; 4]>()),
    )
        .prop_map(
            |((name, admin, status, latency_ms, since), (peer, [a, b, c, d]))| UserInfo {
                name,
                admin,
                status,
                latency_ms,
                connected_since_unix: since,
                peer,
                msgs_in: a,
                msgs_out: b,
                bytes_in: c,
                bytes_out: d,
            },
        )
}

fn status() -> impl Strategy<Value = StatusInfo> {
    (
        (
            ".*",
            any::<u64>(),
            ".*",
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
        ),
        (
            ".*",
            proptest::collection::vec(any::<u16>(), 0..4),
            proptest::option::of(".*"),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(".*"),
        ),
    )
        .prop_map(
            |((version, uptime_s, session_state, nodes, bytes_stored, users), rest)| StatusInfo {
                version,
                uptime_s,
                session_state,
                nodes,
                bytes_stored,
                users,
                bind: rest.0,
                ports: rest.1,
                config_file: rest.2,
                last_save_unix: rest.3,
                journal_bytes: rest.4,
                state_dir: rest.5,
            },
        )
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (any::<u16>(), ".*").prop_map(|(version, daemon_version)| Reply::Hello {
            version,
            daemon_version
        }),
        proptest::collection::vec(user(), 0..4).prop_map(Reply::Users),
        status().prop_map(Reply::Status),
        (any::<u32>(), ".*", any::<bool>(), any::<bool>()).prop_map(
            |(pid, socket, server_password_set, admin_login)| Reply::Settings(SettingsInfo {
                pid,
                socket,
                server_password_set,
                admin_login
            })
        ),
        ".*".prop_map(|message| Reply::Done { message }),
        (error_code(), ".*").prop_map(|(code, message)| Reply::Error { code, message }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn requests_round_trip(req in request()) {
        let framed = crate::frame::encode(&req).expect("encode");
        let mut dec = crate::frame::Decoder::new();
        dec.push(&framed).expect("push");
        prop_assert_eq!(dec.next_message::<Request>().expect("decode"), Some(req));
        prop_assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn replies_round_trip(rep in reply()) {
        let framed = crate::frame::encode(&rep).expect("encode");
        let got = crate::frame::read_frame::<Reply, _>(&mut &framed[..]).expect("decode");
        prop_assert_eq!(got, Some(rep));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = crate::frame::decode_body::<Request>(&bytes);
        let _ = crate::frame::decode_body::<Reply>(&bytes);
        let mut dec = crate::frame::Decoder::new();
        if dec.push(&bytes).is_ok() {
            let _ = dec.next_message::<Request>();
        }
    }
}
