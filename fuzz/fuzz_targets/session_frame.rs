//! Fuzzes the session core through the entry point the event loop calls, `handle_frame`: an
//! admin logs in and uploads one node `a` = `{'s': {1}, 'l': [1], 'x': 1}`, then the input is a
//! sequence of messages from that client, each `channel u8 | frame count u8 | (u16 LE length |
//! bytes)*` (channel 0 command, 1 data, 2 heartbeat). Commits, metadata merges, uploads and
//! every other command reach the same code as in production, work meter included.
//! No input may panic; libFuzzer's `-timeout` and `-rss_limit_mb` are the budget: a memo DAG
//! that escaped the meter shows up as a timeout.
//! Run: `cd fuzz && cargo fuzz run --sanitizer none session_frame -- -timeout=2 -rss_limit_mb=512`
#![no_main]

use libfuzzer_sys::fuzz_target;
use mu_serverd::pickle::{encode, Value};
use mu_serverd::session::io::{Channel, Frame, Identity};
use mu_serverd::session::{Session, SessionConfig};
use std::sync::Arc;

fn pk(v: &Value) -> Frame {
    Arc::from(encode(v))
}

fn sdict(items: Vec<(&str, Value)>) -> Value {
    Value::dict(items.into_iter().map(|(k, v)| (Value::str(k), v)).collect())
}

fn cmd(t: i64, owner: &str, data: &Value) -> Vec<Frame> {
    vec![pk(&Value::Int(t)), Arc::from(owner.as_bytes()), pk(data)]
}

fn hosted() -> (Session, Identity) {
    let mut s = Session::new(SessionConfig {
        admin_password: Some("adm".into()),
        ..SessionConfig::default()
    });
    let id: Identity = Arc::from(&[1u8; 16][..]);
    let auth = sdict(vec![
        ("AUTH_TYPE", Value::str("ADMIN")),
        ("AUTH_ID", Value::str("host")),
        ("S_PWD", Value::None),
        ("A_PWD", Value::str("adm")),
        ("VERSION", Value::str("0.9.10")),
    ]);
    s.handle_frame(0, Channel::Command, &id, cmd(9, "host", &auth));
    s.handle_frame(0, Channel::Heartbeat, &id, vec![Arc::from(&b"INIT"[..])]);
    let init = sdict(vec![
        ("STATE", Value::str("INIT")),
        ("SIZE", Value::Int(1)),
        ("NODES", Value::list(vec![Value::str("a")])),
    ]);
    s.handle_frame(0, Channel::Command, &id, cmd(8, "server", &init));
    let one = Value::Int(1);
    let data = sdict(vec![
        ("s", Value::Set(Arc::new(vec![one.clone()]))),
        ("l", Value::list(vec![one.clone()])),
        ("x", one),
    ]);
    let node = [
        pk(&Value::Int(2)),
        Arc::from(&b"a"[..]),
        Arc::from(&b"COMMON"[..]),
        pk(&Value::list(vec![])),
        pk(&data),
    ];
    let set = sdict(vec![
        ("STATE", Value::str("SET")),
        (
            "DATA",
            Value::list(node.iter().map(|f| Value::Bytes(f.clone())).collect()),
        ),
    ]);
    s.handle_frame(0, Channel::Command, &id, cmd(8, "server", &set));
    let end = sdict(vec![("STATE", Value::str("END"))]);
    s.handle_frame(0, Channel::Command, &id, cmd(8, "server", &end));
    while s.poll_action().is_some() {}
    (s, id)
}

fuzz_target!(|data: &[u8]| {
    let (mut s, id) = hosted();
    let mut rest = data;
    let mut now = 1;
    while rest.len() >= 2 {
        let ch = match rest[0] % 3 {
            0 => Channel::Command,
            1 => Channel::Data,
            _ => Channel::Heartbeat,
        };
        let count = rest[1] as usize % 8;
        rest = &rest[2..];
        let mut frames = Vec::new();
        for _ in 0..count {
            if rest.len() < 2 {
                break;
            }
            let n = (u16::from_le_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
            frames.push(Arc::from(&rest[2..2 + n]));
            rest = &rest[2 + n..];
        }
        s.handle_frame(now, ch, &id, frames);
        while s.poll_action().is_some() {}
        now += 10;
    }
});
