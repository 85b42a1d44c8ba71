//! Creating the socket file: parent directory, stale-socket cleanup, mode 0660 from the start
//! (umask around `bind`, so there is never a window where the socket is more open), and the
//! configured group. Removal on drop only if the file is still the one we created.

use super::error::ControlError;
use mio::net::UnixListener;
use nix::sys::stat::{umask, Mode};
use nix::unistd::{chown, Gid};
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// umask is process-wide: two binds at once (tests run them on parallel threads) would each
/// restore the other's value and leave a socket, or the process, with the wrong mask.
static UMASK_LOCK: Mutex<()> = Mutex::new(());

/// The process umask, read under the lock the binds take (reading it means setting it for a
/// moment, which a bind on another thread must not see, nor we a bind's).
#[cfg(test)]
pub(super) fn current_umask() -> Mode {
    let _guard = UMASK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mask = umask(Mode::from_bits_truncate(0o022));
    umask(mask);
    mask
}

/// A bound listener and the identity of its file.
pub(super) struct BoundSocket {
    pub listener: UnixListener,
    pub path: PathBuf,
    /// (device, inode) of the socket file we created.
    id: (u64, u64),
}

impl BoundSocket {
    pub(super) fn bind(path: &Path, gid: Gid) -> Result<BoundSocket, ControlError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() {
                fs::create_dir_all(parent).map_err(|source| ControlError::CreateDir {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
        }
        remove_stale(path)?;
        // umask is process-wide; the daemon binds once at start-up, and the lock keeps
        // concurrent binds in one process (tests) from mixing their masks.
        let bound = {
            let _guard = UMASK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            let old = umask(Mode::from_bits_truncate(0o117));
            let bound = UnixListener::bind(path);
            umask(old);
            bound
        };
        let listener = bound.map_err(|source| ControlError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
        let meta = fs::symlink_metadata(path).map_err(|source| ControlError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
        let sock = BoundSocket {
            listener,
            path: path.to_path_buf(),
            id: (meta.dev(), meta.ino()),
        };
        if meta.gid() != gid.as_raw() {
            chown(path, None, Some(gid)).map_err(|e| ControlError::Chown {
                path: path.to_path_buf(),
                group: group_name(gid),
                source: io::Error::from(e),
            })?;
        }
        Ok(sock)
    }
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        // Only remove the file if it is still ours (not a newer daemon's socket).
        if let Ok(meta) = fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.id {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

/// Removes a socket file nobody listens on; refuses to touch a live socket or a non-socket.
fn remove_stale(path: &Path) -> Result<(), ControlError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ControlError::Bind {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(ControlError::InUse {
            path: path.to_path_buf(),
        });
    }
    fs::remove_file(path).map_err(|source| ControlError::RemoveStale {
        path: path.to_path_buf(),
        source,
    })
}

/// Name of a group for messages ("gid 123" if the database does not know it).
pub(super) fn group_name(gid: Gid) -> String {
    nix::unistd::Group::from_gid(gid)
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_else(|| format!("gid {gid}"))
}
