//! The export/import file format against the real replication 0.9.10 client library:
//! - a file written by `store::export` is read back by `replication.repository.Repository.loads`
//!   node for node (uuid, owner, dependencies and data compared in Python against the frames we
//!   put in);
//! - a file written by `Repository.dumps` in Python is read by `store::import`, and every node's
//!   frames are the exact bytes Python pickled.
//!
//! Needs the venv from `tests/setup.sh` (MU_TEST_PYTHON or `<workspace>/.venv/bin/python`).

use mu_serverd::pickle::{self, Limits, Value};
use mu_serverd::session::io::SessionState;
use mu_serverd::store::{export, import, Image, NodeImage};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("MU_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(p.exists(), "{} is missing: run tests/setup.sh", p.display());
    p
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mu-store-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Varied plain node data, like a Blender datablock dump.
fn data(i: usize) -> Value {
    let s = |x: &str| Value::str(x);
    Value::dict(vec![
        (s("name"), Value::str(&format!("Cube.{i:03}"))),
        (s("type_id"), s("bpy.types.Object")),
        (
            s("location"),
            Value::list(vec![
                Value::Float(i as f64 * 0.5),
                Value::Float(-1.25),
                Value::Float(0.0),
            ]),
        ),
        (
            s("matrix"),
            Value::tuple(vec![
                Value::Int(1),
                Value::Int(-(i as i64)),
                Value::BigInt(pickle::BigInt(Arc::from(
                    &[0u8, 0, 0, 0, 0, 0, 0, 0, 1][..],
                ))),
            ]),
        ),
        (s("blob"), Value::bytes(&vec![i as u8; i * 3])),
        (
            s("flags"),
            Value::Set(Arc::new(vec![s("SELECT"), s("HIDE")])),
        ),
        (
            s("parent"),
            if i % 2 == 0 {
                Value::None
            } else {
                Value::Bool(true)
            },
        ),
        (s("unicode"), s("héllo ✓")),
    ])
}

fn image(n: usize) -> Image {
    Image {
        state: SessionState::Active,
        nodes: (0..n)
            .map(|i| {
                let deps = if i == 0 {
                    Value::None
                } else {
                    Value::list(vec![Value::str(&format!("uuid-{}", i - 1))])
                };
                NodeImage {
                    uuid: format!("uuid-{i}"),
                    owner: if i % 3 == 0 {
                        "alice".into()
                    } else {
                        "COMMON".into()
                    },
                    deps: Arc::from(pickle::encode(&deps)),
                    data: Arc::from(pickle::encode(&data(i))),
                }
            })
            .collect(),
        last_seq: 0,
        client_version: None,
    }
}

const LOADS_CHECK: &str = r#"
import json, pickle, sys
from replication.repository import Repository
path, expected_path = sys.argv[1], sys.argv[2]
expected = json.load(open(expected_path))
repo = Repository()
repo.loads(path)
graph = repo.graph
assert len(graph) == len(expected), (len(graph), len(expected))
for e in expected:
    node = graph[e["uuid"]]
    assert node.uuid == e["uuid"]
    assert node.owner == e["owner"], (node.owner, e["owner"])
    assert node.dependencies == pickle.loads(bytes.fromhex(e["deps"])), node.dependencies
    want = pickle.loads(bytes.fromhex(e["data"]))
    assert node.data == want, (node.data, want)
    assert type(node.data["matrix"][2]) is int and node.data["matrix"][2] == 2**64
print("ok", len(graph))
"#;

#[test]
fn export_is_read_node_for_node_by_repository_loads() {
    let d = tempdir("loads");
    let img = image(25);
    let path = d.join("session.db");
    export::write(&path, &img, Value::dict(vec![])).unwrap();
    let expected: Vec<String> = img
        .nodes
        .iter()
        .map(|n| {
            format!(
                r#"{{"uuid":"{}","owner":"{}","deps":"{}","data":"{}"}}"#,
                n.uuid,
                n.owner,
                hex(&n.deps),
                hex(&n.data)
            )
        })
        .collect();
    let exp_path = d.join("expected.json");
    std::fs::write(&exp_path, format!("[{}]", expected.join(","))).unwrap();
    let out = Command::new(python())
        .arg("-c")
        .arg(LOADS_CHECK)
        .arg(&path)
        .arg(&exp_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "ok 25");
}

const DUMPS: &str = r#"
import glob, os, pickle, sys
from replication.objects import Node
from replication.repository import Repository
out_dir = sys.argv[1]
repo = Repository()
for i in range(30):
    data = {"name": f"Mesh.{i}", "verts": [(float(i), 1.5, -2.0)] * (i % 4), "raw": bytes(range(i % 256)),
            "tags": {"a", "b"}, "nested": {"deep": [[i, None, True]]}, "big": 2**70 + i}
    deps = None if i == 0 else [f"u{i - 1}", f"u{max(i - 2, 0)}"]
    n = Node(owner="bob" if i % 2 else "COMMON", uuid=f"u{i}", data=data, dependencies=deps)
    repo.object_store[n.uuid] = n
repo.dumps(os.path.join(out_dir, "scene.db"))
(path,) = glob.glob(os.path.join(out_dir, "scene_*.db"))
print(path)
for n in repo.object_store.values():
    print(n.uuid, pickle.dumps(n.dependencies, protocol=4).hex(), pickle.dumps(n.data, protocol=4).hex())
"#;

#[test]
fn a_file_from_repository_dumps_imports_byte_for_byte() {
    let d = tempdir("dumps");
    let out = Command::new(python())
        .arg("-c")
        .arg(DUMPS)
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let path = PathBuf::from(lines.next().unwrap());
    let img = import::read(&path, 1 << 30, &Limits::default()).unwrap();
    assert_eq!(img.state, SessionState::Active);
    let mut n = 0;
    for line in lines {
        let parts: Vec<&str> = line.split(' ').collect();
        let node = img
            .nodes
            .iter()
            .find(|x| x.uuid == parts[0])
            .expect("node imported");
        assert_eq!(&node.deps[..], &unhex(parts[1])[..], "deps of {}", parts[0]);
        assert_eq!(&node.data[..], &unhex(parts[2])[..], "data of {}", parts[0]);
        assert_eq!(node.owner, "COMMON", "locks are released on import");
        n += 1;
    }
    assert_eq!(n, 30);
    assert_eq!(img.nodes.len(), 30);
}

#[test]
fn a_hostile_session_file_is_refused_with_the_node_named() {
    let d = tempdir("hostile");
    let script = r#"
import gzip, pickle, sys
evil = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R."
good = [pickle.dumps(2, protocol=4), b"ok", b"COMMON", pickle.dumps(None, protocol=4), pickle.dumps({"a": 1}, protocol=4)]
bad = [pickle.dumps(2, protocol=4), b"evil-node", b"COMMON", pickle.dumps(None, protocol=4), evil]
with gzip.open(sys.argv[1], "wb") as f:
    pickle.dump({"nodes": [good, bad], "users": {}}, f, protocol=4)
"#;
    let path = d.join("evil.db");
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = import::read(&path, 1 << 30, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("evil-node") && err.contains("#1"), "{err}");
}
