//! Reads a session file written by the replication client's `Repository.dumps` (or by
//! [`super::export`]) and turns it into the changes that seed a session.
//!
//! The file is untrusted input: it is decompressed with a size cap, decoded by the strict pickle
//! codec (nothing constructed or called), and every node goes through the same checks as a Node
//! on the network: five frames, frame 0 is the Node type, UTF-8 uuid and owner, dependencies
//! `None` or a list of strings, data plain pickle within the configured [`Limits`]. One bad
//! node refuses the whole file, with a message naming it; a partial import would be a session
//! that silently differs from the file.
//!
//! Owners are not imported: nobody holds a lock in a freshly seeded session, so every node is
//! `COMMON` (the same rule as after a restart). The `users` entry is ignored.

use super::snapshot::{Image, NodeImage};
use crate::pickle::{self, Limits, Value};
use crate::session::io::SessionState;
use flate2::read::GzDecoder;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

pub const COMMON: &str = "COMMON";

#[derive(Debug)]
pub enum ImportError {
    /// The file could not be opened, is not a regular file, or is larger than the limit.
    File(crate::files::FileError),
    /// It decompresses to more than the limit (`[storage] max_import_bytes`).
    TooLarge { max: u64 },
    /// The file is not a gzip pickle of the expected shape.
    Format(String),
    /// One node failed validation: its index in the file, its uuid if readable, and why.
    Node {
        index: usize,
        uuid: Option<String>,
        why: String,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::File(e) => write!(f, "cannot read: {e}"),
            ImportError::TooLarge { max } => write!(
                f,
                "decompresses to more than {max} bytes ([storage] max_import_bytes)"
            ),
            ImportError::Format(why) => write!(f, "not a replication session file: {why}"),
            ImportError::Node { index, uuid, why } => match uuid {
                Some(u) => write!(f, "node #{index} ({u}) refused: {why}"),
                None => write!(f, "node #{index} refused: {why}"),
            },
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads and validates the session file at `path` (`[storage] import`, named by the admin: a
/// symbolic link to a regular file is followed). See [`read_file`].
pub fn read(path: &Path, max: u64, limits: &Limits) -> Result<Image, ImportError> {
    let (file, _) =
        crate::files::open_regular(path, crate::files::Links::Follow).map_err(ImportError::File)?;
    read_file(file, max, limits)
}

/// Reads and validates an open session file into an ACTIVE image (every owner `COMMON`). Only
/// a regular file is read, and neither it nor what it decompresses to may exceed `max` bytes,
/// which is checked while inflating (a small gzip bomb stops at the limit).
pub fn read_file(file: File, max: u64, limits: &Limits) -> Result<Image, ImportError> {
    let meta = crate::files::check_regular(&file).map_err(ImportError::File)?;
    if meta.len() > max {
        return Err(ImportError::File(crate::files::FileError::TooLarge {
            size: meta.len(),
            max,
        }));
    }
    let mut raw = Vec::new();
    GzDecoder::new(file.take(meta.len()))
        .take(max.saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(|e| ImportError::Format(format!("gzip: {e}")))?;
    if raw.len() as u64 > max {
        return Err(ImportError::TooLarge { max });
    }
    parse(&raw, limits)
}

/// Validates the decompressed pickle.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<Image, ImportError> {
    // The outer pickle holds every node's frames: allow its size, keep the per-node limits for
    // the frames themselves.
    let outer = Limits {
        max_input: raw.len().max(1),
        max_depth: 64,
        max_items: 64 << 20,
        max_memo: 64 << 20,
    };
    let db =
        pickle::decode(raw, &outer).map_err(|e| ImportError::Format(format!("pickle: {e}")))?;
    if !matches!(db, Value::Dict(_)) {
        return Err(ImportError::Format(format!(
            "top level is a {}, not a dict",
            db.type_name()
        )));
    }
    let nodes = match db.get_str_key("nodes") {
        Some(Value::List(items)) | Some(Value::Tuple(items)) => items.clone(),
        Some(other) => {
            return Err(ImportError::Format(format!(
                "'nodes' is a {}",
                other.type_name()
            )))
        }
        None => return Err(ImportError::Format("no 'nodes' entry".into())),
    };
    // Later duplicates replace earlier ones, as Repository.loads does.
    let mut by_uuid: BTreeMap<String, NodeImage> = BTreeMap::new();
    for (index, chunks) in nodes.iter().enumerate() {
        let n =
            node(chunks, limits).map_err(|(uuid, why)| ImportError::Node { index, uuid, why })?;
        by_uuid.insert(n.uuid.clone(), n);
    }
    Ok(Image {
        state: SessionState::Active,
        nodes: by_uuid.into_values().collect(),
        last_seq: 0,
        // An export does not say which replication version made it: the next client fixes it.
        client_version: None,
    })
}

type NodeErr = (Option<String>, String);

fn node(chunks: &Value, limits: &Limits) -> Result<NodeImage, NodeErr> {
    let items = match chunks {
        Value::List(v) | Value::Tuple(v) => v,
        other => {
            return Err((
                None,
                format!("is a {}, not a list of frames", other.type_name()),
            ))
        }
    };
    if items.len() != 5 {
        return Err((None, format!("has {} frames, a Node has 5", items.len())));
    }
    let mut frames = Vec::with_capacity(5);
    for (i, v) in items.iter().enumerate() {
        match v {
            Value::Bytes(b) => frames.push(b.clone()),
            other => {
                return Err((
                    None,
                    format!("frame {i} is a {}, not bytes", other.type_name()),
                ))
            }
        }
    }
    match pickle::decode(&frames[0], limits) {
        Ok(Value::Int(2)) => {}
        Ok(v) => return Err((None, format!("frame 0 is {v:?}, not the Node type 2"))),
        Err(e) => return Err((None, format!("frame 0: {e}"))),
    }
    let uuid = std::str::from_utf8(&frames[1])
        .map_err(|_| (None, "uuid is not UTF-8".to_string()))?
        .to_string();
    if uuid.is_empty() {
        return Err((None, "empty uuid".into()));
    }
    let named = |why: String| (Some(uuid.clone()), why);
    std::str::from_utf8(&frames[2]).map_err(|_| named("owner is not UTF-8".into()))?;
    // checked like a Node from a client (the policy's entry points, objects/check.rs)
    crate::objects::read_deps(&frames[3], limits)
        .map_err(|e| named(format!("dependencies: {e}")))?;
    crate::objects::check_node_data(&frames[4], limits).map_err(|e| named(format!("data: {e}")))?;
    Ok(NodeImage {
        uuid: uuid.clone(),
        owner: COMMON.to_string(),
        deps: frames[3].clone(),
        data: frames[4].clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::export;
    use std::sync::Arc;

    fn image() -> Image {
        let deps = pickle::encode(&Value::list(vec![Value::str("b")]));
        let none = pickle::encode(&Value::None);
        let data = |s: &str| {
            Arc::from(pickle::encode(&Value::dict(vec![(
                Value::str("name"),
                Value::str(s),
            )])))
        };
        Image {
            state: SessionState::Active,
            nodes: vec![
                NodeImage {
                    uuid: "a".into(),
                    owner: "COMMON".into(),
                    deps: Arc::from(deps),
                    data: data("A"),
                },
                NodeImage {
                    uuid: "b".into(),
                    owner: "COMMON".into(),
                    deps: Arc::from(none),
                    data: data("B"),
                },
            ],
            last_seq: 0,
            client_version: None,
        }
    }

    #[test]
    fn export_then_import_is_identical() {
        let raw = pickle::encode(&export::to_value(&image(), Value::dict(vec![])));
        assert_eq!(parse(&raw, &Limits::default()).unwrap(), image());
    }

    #[test]
    fn owners_become_common() {
        let mut img = image();
        img.nodes[0].owner = "alice".into();
        let raw = pickle::encode(&export::to_value(&img, Value::dict(vec![])));
        assert_eq!(parse(&raw, &Limits::default()).unwrap(), image());
    }

    #[test]
    fn a_node_with_code_in_its_data_refuses_the_file() {
        let mut img = image();
        // pickle of os.system('true') as a REDUCE: never acceptable node data.
        img.nodes[1].data =
            Arc::from(&b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R."[..]);
        let raw = pickle::encode(&export::to_value(&img, Value::dict(vec![])));
        match parse(&raw, &Limits::default()) {
            Err(ImportError::Node {
                index: 1,
                uuid: Some(u),
                ..
            }) => assert_eq!(u, "b"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_shapes_are_format_errors_not_panics() {
        for v in [
            Value::Int(1),
            Value::dict(vec![]),
            Value::dict(vec![(Value::str("nodes"), Value::Int(3))]),
            Value::dict(vec![(
                Value::str("nodes"),
                Value::list(vec![Value::Int(3)]),
            )]),
            Value::dict(vec![(
                Value::str("nodes"),
                Value::list(vec![Value::list(vec![Value::bytes(b"x")])]),
            )]),
        ] {
            assert!(
                parse(&pickle::encode(&v), &Limits::default()).is_err(),
                "{v:?}"
            );
        }
        assert!(parse(b"not a pickle", &Limits::default()).is_err());
    }
}
