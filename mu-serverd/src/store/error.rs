//! [`StoreError`]: why the store could not do what the daemon asked (`mu-ctl save`, `export`,
//! `import`, `reset`, `history`, `restore`, start-up). The kind says what a caller may act on
//! (the daemon maps it to a control protocol error code in one place,
//! `crate::daemon::replies`); the text is the sentence the administrator reads.

use crate::files::FileError;
use crate::store::import::ImportError;
use crate::store::recover::RecoverError;
use std::fmt;
use std::io;

#[derive(Debug)]
pub enum StoreError {
    /// `[storage] enabled = false`: there is no store.
    Disabled,
    /// Not possible in the session's current state (an import while a session runs).
    NotNow(String),
    /// What was asked for does not exist: a file, a moment the history does not hold.
    NotFound(String),
    /// A file the store will not use: not a regular file, a symbolic link, not open the right
    /// way.
    Refused(String),
    /// A file, or what it decompresses to, over a limit.
    TooBig(String),
    /// A file's content is not what it should be (not a session file, a node that fails its
    /// checks, a damaged history).
    Corrupt(String),
    /// Reading or writing failed.
    Io { path: String, source: io::Error },
    /// The store cannot take this now and the session is unchanged: persistence degraded, the
    /// session changed while a file was read, a thread could not start.
    Failed(String),
    /// At start-up: the state directory cannot be used (unreadable, nothing in it readable, a
    /// file the daemon never wrote). Kept whole: its sentence names the file and the fix.
    Recover(RecoverError),
    /// The same error, said of something (`"import of x.db refused"`).
    Context(String, Box<StoreError>),
}

impl StoreError {
    /// Names what failed: "`what`: `self`".
    pub fn context(self, what: impl Into<String>) -> StoreError {
        StoreError::Context(what.into(), Box::new(self))
    }

    /// The error under its contexts.
    pub fn kind(&self) -> &StoreError {
        match self {
            StoreError::Context(_, e) => e.kind(),
            e => e,
        }
    }

    pub fn io(path: impl fmt::Display, source: io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_string(),
            source,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Disabled => {
                f.write_str("persistence is disabled ([storage] enabled = false)")
            }
            StoreError::NotNow(m)
            | StoreError::NotFound(m)
            | StoreError::Refused(m)
            | StoreError::TooBig(m)
            | StoreError::Corrupt(m)
            | StoreError::Failed(m) => f.write_str(m),
            StoreError::Io { path, source } if path.is_empty() => write!(f, "{source}"),
            StoreError::Io { path, source } => write!(f, "{path}: {source}"),
            StoreError::Recover(e) => write!(f, "{e}"),
            StoreError::Context(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Recover(e) => Some(e),
            StoreError::Context(_, e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<RecoverError> for StoreError {
    fn from(e: RecoverError) -> StoreError {
        StoreError::Recover(e)
    }
}

/// A file the store was handed or named: a missing one is `NotFound`, one it will not read is
/// `Refused`, one too large `TooBig`.
impl From<FileError> for StoreError {
    fn from(e: FileError) -> StoreError {
        let text = e.to_string();
        match e {
            FileError::Open(io) if io.kind() == io::ErrorKind::NotFound => {
                StoreError::NotFound(text)
            }
            FileError::Open(source) | FileError::Read(source) => StoreError::Io {
                path: String::new(),
                source,
            },
            FileError::Symlink | FileError::NotRegular(_) => StoreError::Refused(text),
            FileError::TooLarge { .. } => StoreError::TooBig(text),
        }
    }
}

/// An import's file: the words of [`ImportError`], the kind of what went wrong.
impl From<ImportError> for StoreError {
    fn from(e: ImportError) -> StoreError {
        let text = e.to_string();
        match e {
            ImportError::File(f) => StoreError::from(f).context("cannot read"),
            ImportError::TooLarge { .. } => StoreError::TooBig(text),
            ImportError::Format(_) | ImportError::Node { .. } => StoreError::Corrupt(text),
        }
    }
}
