//! What the store measurements share (`store_pause`, `history_cost`): a 10,000-node session of
//! Blender-like 1.1 KB nodes, built through the core's own entry points.

#![allow(dead_code)] // each test binary uses its own part

use mu_serverd::pickle::{self, Limits, Value};
use mu_serverd::session::io::{Change, SessionState};
use mu_serverd::session::{Repository, Scene, Session, SessionConfig};
use std::sync::Arc;

pub fn node_value(i: usize) -> Value {
    let s = Value::str;
    let verts: Vec<Value> = (0..40)
        .map(|k| {
            Value::tuple(vec![
                Value::Float(k as f64),
                Value::Float(i as f64),
                Value::Float(-1.5),
            ])
        })
        .collect();
    Value::dict(vec![
        (s("name"), Value::str(&format!("Object.{i:05}"))),
        (s("type_id"), s("Object")),
        (
            s("location"),
            Value::list(vec![
                Value::Float(1.0),
                Value::Float(2.0),
                Value::Float(3.0),
            ]),
        ),
        (s("verts"), Value::list(verts)),
        (
            s("props"),
            Value::dict(vec![
                (s("visible"), Value::Bool(true)),
                (s("pass_index"), Value::Int(i as i64)),
            ]),
        ),
    ])
}

pub fn session_with(n: usize) -> Session {
    let mut repo = Repository::new(Limits::default());
    let none: Arc<[u8]> = Arc::from(pickle::encode(&Value::None));
    for i in 0..n {
        repo.apply_change(&Change::NodeStored {
            uuid: format!("{i:08}-0000-4000-8000-000000000000"),
            owner: "COMMON".into(),
            deps: none.clone(),
            data: Arc::from(pickle::encode(&node_value(i))),
        })
        .unwrap();
    }
    repo.apply_change(&Change::State(SessionState::Active))
        .unwrap();
    let mut s = Session::new(SessionConfig::default());
    let scene = Scene::Rebuilt { repo, record: None };
    s.replace_scene(0, "test start", scene);
    s
}
