//! The Snapshot `SET` reply that `objects::build_snapshot_set` writes directly around a node's
//! frames, checked by real CPython (`tests/py/snapshot_set_check.py`): it must load to exactly
//! the value the general encoder's reply (`build_command` of `{'STATE': 'SET', 'DATA':
//! frames}`) loads to, equal to the dict the reference builds, and the replication 0.9.10
//! client's `ReplicationObject.from_raw_chunks` must rebuild the node from its `DATA`. Cases
//! cover every bytes length class below 4 GiB (`SHORT_BINBYTES` up to 255, `BINBYTES` above,
//! frames over 64 KiB) and non-ASCII uuids/owners.

mod pickle_support;

use mu_serverd::objects::{self, CommandKind, Frame};
use mu_serverd::pickle::{self, Value};
use pickle_support::{py_dir, python, read_msg, write_msg};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// A node data pickle of roughly `len` bytes (a dict with a float list and a string).
fn data_pickle(len: usize) -> Frame {
    let floats = Value::list((0..len / 9).map(|i| Value::Float(i as f64 * 0.5)).collect());
    let v = Value::dict(vec![
        (Value::str("name"), Value::str("Cube.001 é")),
        (Value::str("location"), floats),
    ]);
    Arc::from(pickle::encode(&v))
}

fn deps_pickle(deps: &[&str]) -> Frame {
    Arc::from(pickle::encode(&Value::list(
        deps.iter().map(|d| Value::str(d)).collect(),
    )))
}

/// `(frames, parse_node)`: real nodes, and raw frame lists hitting each length boundary.
fn cases() -> Vec<(Vec<Frame>, bool)> {
    let mut out = Vec::new();
    for (uuid, owner, deps, len) in [
        ("6b3c1f0e-0000-4000-8000-000000000001", "alice", vec![], 0),
        (
            "6b3c1f0e-0000-4000-8000-000000000002",
            "bob",
            vec!["x"],
            100,
        ),
        (
            "6b3c1f0e-0000-4000-8000-000000000003",
            "COMMON",
            vec!["a", "b"],
            1024,
        ),
        ("uuid-é-ü", "ówner ☃", vec!["dép"], 300),
        (
            "6b3c1f0e-0000-4000-8000-000000000005",
            "carol",
            vec![],
            70_000,
        ),
    ] {
        let frames = objects::build_node(uuid, owner, deps_pickle(&deps), data_pickle(len));
        out.push((frames, true));
    }
    for n in [0usize, 1, 254, 255, 256, 257, 65_535, 65_536, 65_537] {
        let frames: Vec<Frame> = (0..5u8)
            .map(|i| Arc::from(vec![i.wrapping_mul(37); if i == 4 { n } else { i.into() }]))
            .collect();
        out.push((frames, false));
    }
    out
}

/// The reply as the server built it before: a `Value` tree through the general encoder.
fn old_reply(frames: &[Frame]) -> Vec<Frame> {
    let data = Value::dict(vec![
        (Value::str("STATE"), Value::str("SET")),
        (Value::str("DATA"), objects::frames_to_value(frames)),
    ]);
    objects::build_command(CommandKind::Snapshot, "server", &data)
}

#[test]
fn snapshot_set_reply_loads_in_cpython_like_the_encoder_reply() {
    let cases = cases();
    let mut child = Command::new(python())
        .arg(py_dir().join("snapshot_set_check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start snapshot_set_check.py (run tests/setup.sh)");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    write_msg(&mut stdin, cases.len().to_string().as_bytes());
    let mut failures = Vec::new();
    for (i, (frames, parse_node)) in cases.iter().enumerate() {
        let old = old_reply(frames);
        let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
        let new = objects::build_snapshot_set("server", &refs);
        assert_eq!(new.len(), 3, "case {i}: frame count");
        assert_eq!(new[0], old[0], "case {i}: frame 0 (type)");
        assert_eq!(new[1], old[1], "case {i}: frame 1 (owner)");
        write_msg(&mut stdin, frames.len().to_string().as_bytes());
        for f in frames {
            write_msg(&mut stdin, f);
        }
        write_msg(&mut stdin, &old[2]);
        write_msg(&mut stdin, &new[2]);
        write_msg(&mut stdin, if *parse_node { b"node" } else { b"raw" });
        let answer = String::from_utf8_lossy(&read_msg(&mut stdout)).into_owned();
        if answer != "ok" {
            let sizes: Vec<usize> = frames.iter().map(|f| f.len()).collect();
            failures.push(format!("case {i} (frame sizes {sizes:?}): {answer}"));
        }
    }
    drop(stdin);
    let status = child.wait().expect("wait for oracle");
    assert!(status.success(), "oracle exited with {status}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
