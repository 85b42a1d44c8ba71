//! Writes the session in the format of the replication client's `Repository.dumps`, which the
//! Multi-User addon's session import opens with `Repository.loads`: a gzip stream holding
//! `pickle.dump({'nodes': [chunks, ...], 'users': {...}}, protocol=4)`, where each `chunks` is
//! `Node.as_raw_chunks()`, i.e. the five frames of a Node message:
//! `[pickle.dumps(2), uuid (UTF-8 bytes), owner (UTF-8 bytes), pickle(deps), pickle(data)]`.
//!
//! The frames are the very bytes clients receive, shared (`Arc`) with the repository, so the
//! export re-encodes nothing but the outer list.

use super::snapshot::Image;
use crate::pickle::{self, Value};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::Path;
use std::sync::Arc;

/// `pickle.dumps(2, protocol=4)`: frame 0 of a Node message.
pub const NODE_TYPE_FRAME: &[u8] = &[0x80, 0x04, 0x4b, 0x02, 0x2e];

/// The outer pickle value of an export.
pub fn to_value(image: &Image, users: Value) -> Value {
    let type_frame: Arc<[u8]> = Arc::from(NODE_TYPE_FRAME);
    let nodes = image
        .nodes
        .iter()
        .map(|n| {
            Value::list(vec![
                Value::Bytes(type_frame.clone()),
                Value::Bytes(Arc::from(n.uuid.as_bytes())),
                Value::Bytes(Arc::from(n.owner.as_bytes())),
                Value::Bytes(n.deps.clone()),
                Value::Bytes(n.data.clone()),
            ])
        })
        .collect();
    Value::dict(vec![
        (Value::str("nodes"), Value::list(nodes)),
        (Value::str("users"), users),
    ])
}

/// Writes the export into an open file (`mu-ctl export` passes one it created with the
/// caller's permissions; it gives the file its name afterwards). The file is truncated first
/// and synced at the end. Returns the compressed size.
pub fn write_to(file: File, image: &Image, users: Value) -> io::Result<u64> {
    let bytes = pickle::encode(&to_value(image, users));
    file.set_len(0)?;
    let mut f = file;
    f.seek(io::SeekFrom::Start(0))?;
    let mut gz = GzEncoder::new(BufWriter::new(f), Compression::fast());
    gz.write_all(&bytes)?;
    let f = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    Ok(f.metadata()?.len())
}

/// Writes the export to `path` (through a temporary file renamed into place, so a failed export
/// never leaves a half file under the requested name). Returns the compressed size.
pub fn write(path: &Path, image: &Image, users: Value) -> io::Result<u64> {
    let bytes = pickle::encode(&to_value(image, users));
    let tmp = path.with_extension("mu-export-tmp");
    let result = (|| {
        let f = File::create(&tmp)?;
        let mut gz = GzEncoder::new(BufWriter::new(f), Compression::fast());
        gz.write_all(&bytes)?;
        let f = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        let size = f.metadata()?.len();
        fs::rename(&tmp, path)?;
        Ok(size)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
