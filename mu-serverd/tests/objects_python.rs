//! Replication objects built by the real `replication.objects` 0.9.10 (`tests/py/pickle_objects.py`:
//! Auth, Snapshot, ServerSnapshot with DATA, Node, Commit with real deepdiff Deltas, Right,
//! Delete, UpdateUserMetadata with a set, ...) parse in Rust with the expected content; the
//! frames Rust builds from what it decoded are read back by `ReplicationObject.from_raw_chunks`
//! with equal content (a Commit's Delta must apply to the same result).

mod pickle_support;

use mu_serverd::objects::{self, CommandKind, Frame, Message};
use mu_serverd::pickle::{self, Limits, Value};
use pickle_support::{describe, py_dir, python, read_msg, write_msg};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("oracle writes UTF-8 here")
}

fn decode_checked(bytes: &[u8], expected: &str, what: &str, failures: &mut Vec<String>) -> Value {
    let limits = Limits::default();
    let v = pickle::decode(bytes, &limits).unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = describe(&v, true);
    if got != expected {
        failures.push(format!(
            "{what}: decoded {got:.200}, expected {expected:.200}"
        ));
    }
    if pickle::check_plain(&v).is_err() || pickle::check_plain_bytes(bytes, &limits).is_err() {
        failures.push(format!("{what}: plain data refused"));
    }
    v
}

#[test]
fn real_replication_objects_round_trip() {
    let mut child = Command::new(python())
        .arg(py_dir().join("pickle_objects.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start pickle_objects.py (run tests/setup.sh)");
    let mut out = child.stdout.take().expect("stdout");
    let n: usize = text(read_msg(&mut out)).parse().expect("count");
    let limits = Limits::default();
    let mut failures = Vec::new();
    let mut rebuilt: Vec<Vec<Frame>> = Vec::new();
    let mut seen_kinds = Vec::new();
    for i in 0..n {
        let header = text(read_msg(&mut out));
        let fields: Vec<&str> = header.split('\t').collect();
        let (type_num, uuid, owner, class) = (fields[0], fields[1], fields[2], fields[3]);
        let count: usize = text(read_msg(&mut out)).parse().expect("frame count");
        let frames: Vec<Frame> = (0..count).map(|_| Arc::from(read_msg(&mut out))).collect();
        let deps_desc = text(read_msg(&mut out));
        let data_desc = text(read_msg(&mut out));
        let what = format!("object {i} ({class})");
        let msg = objects::parse(&frames).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(msg.type_num().to_string(), type_num, "{what}: type number");
        if let Err(e) = msg.check(&limits) {
            failures.push(format!("{what}: Message::check refused a real object: {e}"));
        }
        seen_kinds.push(msg.type_num());
        let frames_back = match &msg {
            Message::Node(node) => {
                assert_eq!(
                    (node.uuid.as_str(), node.owner.as_str()),
                    (uuid, owner),
                    "{what}"
                );
                let d = decode_checked(
                    &node.deps,
                    &deps_desc,
                    &format!("{what} deps"),
                    &mut failures,
                );
                let v = decode_checked(
                    &node.data,
                    &data_desc,
                    &format!("{what} data"),
                    &mut failures,
                );
                // Written back by the server's own writer: the frames CPython wrote, byte for byte.
                objects::Node {
                    deps: Arc::from(pickle::encode(&d)),
                    data: Arc::from(pickle::encode(&v)),
                    ..node.clone()
                }
                .frames()
            }
            Message::Commit {
                uuid: u,
                deps,
                delta,
            } => {
                assert_eq!(u.as_str(), uuid, "{what}");
                let d = decode_checked(deps, &deps_desc, &format!("{what} deps"), &mut failures);
                let delta_v =
                    pickle::decode(delta, &limits).unwrap_or_else(|e| panic!("{what} delta: {e}"));
                if let Err(e) = pickle::check_delta(&delta_v) {
                    failures.push(format!("{what}: delta refused: {e}"));
                }
                objects::build_commit(
                    u,
                    Arc::from(pickle::encode(&d)),
                    Arc::from(pickle::encode(&delta_v)),
                )
            }
            Message::Command {
                kind,
                owner: o,
                data,
            } => {
                assert_eq!(o.as_str(), owner, "{what}");
                assert_eq!(kind.name(), class, "{what}");
                let v = decode_checked(data, &data_desc, &format!("{what} data"), &mut failures);
                if matches!(kind, CommandKind::Snapshot | CommandKind::ServerSnapshot) {
                    if let Some(inner) = v.get_str_key("DATA") {
                        let node = objects::value_to_frames(inner)
                            .unwrap_or_else(|e| panic!("{what} DATA: {e}"));
                        assert!(
                            matches!(objects::parse(&node), Ok(Message::Node { .. })),
                            "{what} DATA"
                        );
                    }
                }
                objects::build_command(*kind, o, &v)
            }
        };
        rebuilt.push(frames_back);
    }
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for frames in &rebuilt {
            write_msg(&mut stdin, frames.len().to_string().as_bytes());
            for f in frames {
                write_msg(&mut stdin, f);
            }
        }
    }
    let mut verdict = String::new();
    out.read_to_string(&mut verdict).expect("verdict");
    assert!(
        child.wait().expect("exit").success(),
        "pickle_objects.py failed: {verdict}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        verdict.trim(),
        format!("ok {n}"),
        "Python rejected Rust-built frames"
    );
    for t in [1, 2, 4, 5, 7, 8, 9, 13] {
        assert!(seen_kinds.contains(&t), "type {t} exercised");
    }
}
