//! Reading files whose names come from outside the daemon (the config, the state directory, a
//! control request) without letting them block or flood the event loop.
//!
//! `read(2)` on a FIFO without a writer blocks forever, `/dev/zero` never ends, and a directory
//! or socket is never what the admin meant. So every such file is opened with `O_NONBLOCK`
//! (opening a FIFO then returns at once instead of waiting for a writer), `O_NOFOLLOW` where a
//! symbolic link cannot be legitimate (the daemon's own state files), checked with `fstat` on
//! the open descriptor (no window between the check and the read), refused unless it is a
//! regular file, and read with a cap: at most the size `fstat` recorded and at most `max`.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Whether a symbolic link as the last path component is followed or refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Links {
    Follow,
    Refuse,
}

/// Why a file was not read.
#[derive(Debug)]
pub enum FileError {
    Open(io::Error),
    /// The path is a symbolic link and [`Links::Refuse`] was asked.
    Symlink,
    /// A FIFO, device, directory or socket: the words say which.
    NotRegular(&'static str),
    TooLarge {
        size: u64,
        max: u64,
    },
    Read(io::Error),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Open(e) => write!(f, "{e}"),
            FileError::Symlink => write!(f, "is a symbolic link (refused; name the file itself)"),
            FileError::NotRegular(kind) => write!(f, "is a {kind}, not a regular file"),
            FileError::TooLarge { size, max } => {
                write!(f, "is too large ({size} bytes or more; the limit is {max})")
            }
            FileError::Read(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FileError {}

impl FileError {
    /// The underlying I/O error kind, for callers that treat "not found" specially.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            FileError::Open(e) | FileError::Read(e) => Some(e.kind()),
            _ => None,
        }
    }
}

/// What kind of file `meta` describes, in words for error messages.
pub(crate) fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "regular file"
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO (named pipe)"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

/// `fstat`s an open file and refuses anything but a regular file.
pub(crate) fn check_regular(file: &File) -> Result<Metadata, FileError> {
    let meta = file.metadata().map_err(FileError::Open)?;
    if !meta.file_type().is_file() {
        return Err(FileError::NotRegular(kind(&meta)));
    }
    Ok(meta)
}

/// Opens `path` for reading without blocking, and only if it is a regular file.
pub(crate) fn open_regular(path: &Path, links: Links) -> Result<(File, Metadata), FileError> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    let file = match OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        // O_NOFOLLOW on a symbolic link fails with ELOOP.
        Err(e) if links == Links::Refuse && e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(FileError::Symlink)
        }
        Err(e) => return Err(FileError::Open(e)),
    };
    let meta = check_regular(&file)?;
    Ok((file, meta))
}

/// Reads an open regular file whole: at most the size `fstat` gave when it was opened (a file
/// that grows meanwhile is cut there, as a file being written is) and at most `max` bytes.
pub(crate) fn read_open(mut file: File, meta: &Metadata, max: u64) -> Result<Vec<u8>, FileError> {
    let size = meta.len();
    if size > max {
        return Err(FileError::TooLarge { size, max });
    }
    let mut buf = Vec::with_capacity(size as usize);
    (&mut file)
        .take(size)
        .read_to_end(&mut buf)
        .map_err(FileError::Read)?;
    Ok(buf)
}

/// [`open_regular`] then [`read_open`].
pub(crate) fn read(path: &Path, links: Links, max: u64) -> Result<Vec<u8>, FileError> {
    let (file, meta) = open_regular(path, links)?;
    read_open(file, &meta, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mu-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    #[test]
    fn a_fifo_a_device_a_directory_are_refused_at_once() {
        let d = dir("kinds");
        let fifo = d.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("fifo");
        let t = Instant::now();
        for (p, word) in [
            (fifo.as_path(), "FIFO"),
            (Path::new("/dev/zero"), "character device"),
            (d.as_path(), "directory"),
        ] {
            let e = read(p, Links::Follow, 1 << 20).expect_err("refused");
            assert!(e.to_string().contains(word), "{p:?}: {e}");
        }
        // Nothing waited for a writer on the FIFO.
        assert!(t.elapsed() < Duration::from_secs(2));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn symlinks_are_followed_or_refused_as_asked() {
        let d = dir("links");
        let target = d.join("real");
        std::fs::write(&target, b"pw").expect("write");
        let zero = d.join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let link = d.join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert_eq!(read(&link, Links::Follow, 10).expect("read"), b"pw");
        assert!(matches!(
            read(&link, Links::Refuse, 10),
            Err(FileError::Symlink)
        ));
        assert!(matches!(
            read(&zero, Links::Refuse, 10),
            Err(FileError::Symlink)
        ));
        // Followed, /dev/zero is still not a regular file.
        assert!(matches!(
            read(&zero, Links::Follow, 10),
            Err(FileError::NotRegular(_))
        ));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_file_over_the_cap_is_refused_before_reading() {
        let d = dir("cap");
        let p = d.join("big");
        std::fs::write(&p, vec![b'x'; 5000]).expect("write");
        match read(&p, Links::Refuse, 4096) {
            Err(FileError::TooLarge {
                size: 5000,
                max: 4096,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(read(&p, Links::Refuse, 5000).expect("read").len(), 5000);
        let _ = std::fs::remove_dir_all(&d);
    }
}
