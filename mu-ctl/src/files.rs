//! The file `mu-ctl export`/`import` names, opened here with the caller's permissions and handed
//! to the daemon as an open descriptor (SCM_RIGHTS): the daemon never opens a path for a
//! caller, so nobody writes or reads where they could not themselves.
//!
//! Only regular files: a FIFO, a device or a directory is refused here with a clear message
//! (the daemon checks the descriptor again). A symbolic link as the last component is refused
//! too (`O_NOFOLLOW`): in a shared directory a link planted by someone else would redirect the
//! export. An export is written into a new file next to the target and renamed over it only
//! when the daemon reports success, so a failed export never leaves half a file under the name.

use mu_ctl::proto::ErrorCode;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

fn kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Why the file named for export or import cannot be used; nothing was sent.
pub struct FileError {
    /// The daemon's code for the same fault (`not_found` for a missing file); `None`: mu-ctl's
    /// own code `file`.
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl From<String> for FileError {
    fn from(message: String) -> FileError {
        FileError {
            code: None,
            message,
        }
    }
}

fn refuse(path: &Path, meta: &fs::Metadata) -> String {
    let mut msg = format!("{} is {}, not a regular file", path.display(), kind(meta));
    if meta.file_type().is_symlink() {
        msg.push_str(" (mu-ctl does not follow links for export and import; name the file itself)");
    }
    msg
}

/// Opens the file to import: read-only, without blocking on a FIFO, without following a link.
pub fn open_import(path: &Path) -> Result<File, FileError> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            let meta = fs::symlink_metadata(path).map_err(|e| open_err(path, &e))?;
            return Err(refuse(path, &meta).into());
        }
        Err(e) => return Err(open_err(path, &e)),
    };
    let meta = file.metadata().map_err(|e| open_err(path, &e))?;
    if !meta.file_type().is_file() {
        return Err(refuse(path, &meta).into());
    }
    Ok(file)
}

fn open_err(path: &Path, e: &io::Error) -> FileError {
    FileError {
        code: (e.kind() == io::ErrorKind::NotFound).then_some(ErrorCode::NotFound),
        message: format!("cannot open {}: {e}", path.display()),
    }
}

/// A new file next to the export's target; renamed over the target by [`ExportTarget::commit`],
/// removed on drop otherwise.
pub struct ExportTarget {
    pub file: File,
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

/// Prepares an export to `dest`: refuses a target that exists and is not a regular file, and
/// creates the temporary file (which fails, with the reason, where the caller may not write).
pub fn create_export(dest: &Path) -> Result<ExportTarget, String> {
    match fs::symlink_metadata(dest) {
        Ok(meta) if !meta.file_type().is_file() => return Err(refuse(dest, &meta)),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot write {}: {e}", dest.display())),
    }
    let name = dest
        .file_name()
        .ok_or_else(|| format!("{} does not name a file", dest.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".mu-export-{}", std::process::id()));
    let tmp = dest.with_file_name(tmp_name);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    Ok(ExportTarget {
        file,
        tmp,
        dest: dest.to_path_buf(),
        committed: false,
    })
}

impl ExportTarget {
    /// The daemon wrote and synced the file: give it its name.
    pub fn commit(mut self) -> Result<(), String> {
        fs::rename(&self.tmp, &self.dest)
            .map_err(|e| format!("cannot rename the export to {}: {e}", self.dest.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for ExportTarget {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}
