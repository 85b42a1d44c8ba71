//! Passwords: never printed, read from the file, a password file, systemd credentials
//! (`$CREDENTIALS_DIRECTORY`), or, for migration, the environment or a flag.

use std::fmt;
use std::path::Path;

/// A password. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The largest password file read. A password is a line; anything longer is a wrong path
/// (and `/dev/zero` must not fill the memory).
pub(crate) const MAX_SECRET_FILE: u64 = 4096;

/// Reads a password file: the whole file, minus one trailing newline (`echo pw > file`).
/// An empty file is refused: it is almost certainly a mistake, and "no password" is spelled by
/// leaving the key out. Only a regular file of at most [`MAX_SECRET_FILE`] bytes is read (a
/// symbolic link to one is fine): a FIFO would block the daemon, a device never end.
pub(crate) fn read_file(path: &Path) -> Result<Secret, String> {
    let bytes = crate::files::read(path, crate::files::Links::Follow, MAX_SECRET_FILE)
        .map_err(|e| format!("cannot read password file {}: {e}", path.display()))?;
    let mut s = String::from_utf8(bytes)
        .map_err(|_| format!("password file {} is not UTF-8 text", path.display()))?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    if s.is_empty() {
        return Err(format!("password file {} is empty", path.display()));
    }
    Ok(Secret(s))
}
