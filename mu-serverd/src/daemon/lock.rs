//! One daemon per state directory. Two daemons on one session would each rotate and prune the
//! other's snapshot and journal files, and changes a client already received could vanish at the
//! next restart. So the very first thing a daemon does, before it binds a port or reads a file
//! of the session, is take an exclusive `flock` on `STATE_DIR/mu-serverd.lock`, held until the
//! process exits (the kernel releases it even after `kill -9`). A second daemon finds the lock
//! taken and exits with one line naming the directory and the holder's PID, having created,
//! renamed or re-moded nothing (the lock file already exists: the holder created it).

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The lock file's name inside the state directory. The store ignores files it does not know.
pub const LOCK_FILE: &str = "mu-serverd.lock";

/// Held for the life of the daemon; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _lock: Flock<File>,
    pub path: PathBuf,
}

/// Takes the state directory's lock, creating the directory (first start) and the lock file if
/// they do not exist yet. Err is the one line the daemon prints before exiting.
pub fn acquire(dir: &Path) -> Result<StateLock, String> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "state directory {} does not exist and cannot be created ({e}); create it for \
                 the user the daemon runs as (the unit's StateDirectory= does; by hand: `install \
                 -d -o USER -m 0750 {}`) or set [storage] state_dir",
                dir.display(),
                dir.display()
            )
        })?;
    } else if !dir.is_dir() {
        return Err(format!(
            "state directory {} is unreadable: it is not a directory",
            dir.display()
        ));
    }
    let path = dir.join(LOCK_FILE);
    // Read-write to record our PID; a lock file another user created (root ran the daemon by
    // hand once) is still lockable read-only: flock needs no write access.
    let (file, writable) = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o640)
        .open(&path)
    {
        Ok(f) => (f, true),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let f = File::open(&path).map_err(|e| cannot_open(dir, &path, e))?;
            (f, false)
        }
        Err(e) => return Err(cannot_open(dir, &path, e)),
    };
    let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(l) => l,
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
            let holder =
                holder_pid(&mut file).map_or("PID unknown".to_string(), |p| format!("PID {p}"));
            return Err(format!(
                "state directory {} is in use by another mu-serverd ({holder}); refusing to \
                 start: two daemons on one session would lose changes. Stop that daemon first, \
                 or give this one its own [storage] state_dir",
                dir.display()
            ));
        }
        Err((_, e)) => return Err(format!("cannot lock {}: {e}", path.display())),
    };
    if writable {
        let pid = std::process::id();
        let written = lock
            .set_len(0)
            .and_then(|()| lock.rewind())
            .and_then(|()| writeln!(&mut *lock, "{pid}"));
        if let Err(e) = written {
            log::warn!("cannot record the PID in {}: {e}", path.display());
        }
    }
    Ok(StateLock { _lock: lock, path })
}

fn cannot_open(dir: &Path, path: &Path, e: std::io::Error) -> String {
    format!(
        "state directory {} is unreadable: cannot open {}: {e}; it must belong to the user the \
         daemon runs as",
        dir.display(),
        path.display()
    )
}

/// The PID the holder wrote into the lock file, if it is still a running process.
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.read_to_string(&mut s).ok()?;
    let pid: u32 = s.trim().parse().ok()?;
    Path::new("/proc")
        .join(pid.to_string())
        .exists()
        .then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_directory_is_refused_with_the_holders_pid() {
        let dir = std::env::temp_dir().join(format!("mu-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = acquire(&dir).expect("first lock");
        // flock locks belong to open file descriptions, so a second open in the same process
        // conflicts exactly like another process would.
        let err = acquire(&dir).expect_err("second lock must fail");
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = acquire(&dir).expect("free after the holder is gone");
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
