//! Configuration errors that say where (file and line, environment variable or flag) and why, so
//! an admin can fix the file from one log line or one `--check-config` line.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a bad setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A line of the configuration file (1-based), when the parser could locate it.
    File { path: PathBuf, line: Option<usize> },
    /// An environment variable (`PORT`, `TIMEOUT`, ...).
    Env(&'static str),
    /// A command-line flag (`--port`, ...).
    Flag(&'static str),
    /// A password file or credential named by the configuration.
    Secret(PathBuf),
}

/// A refused configuration: where, and the reason in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub origin: Origin,
    pub reason: String,
}

impl ConfigError {
    pub fn file(path: &Path, line: Option<usize>, reason: impl Into<String>) -> Self {
        ConfigError {
            origin: Origin::File {
                path: path.to_path_buf(),
                line,
            },
            reason: reason.into(),
        }
    }
    pub fn env(var: &'static str, reason: impl Into<String>) -> Self {
        ConfigError {
            origin: Origin::Env(var),
            reason: reason.into(),
        }
    }
    pub fn flag(flag: &'static str, reason: impl Into<String>) -> Self {
        ConfigError {
            origin: Origin::Flag(flag),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File {
                path,
                line: Some(l),
            } => write!(f, "{}:{}: {}", path.display(), l, self.reason),
            Origin::File { path, line: None } => write!(f, "{}: {}", path.display(), self.reason),
            Origin::Env(v) => write!(f, "environment variable {v}: {}", self.reason),
            Origin::Flag(v) => write!(f, "command-line flag {v}: {}", self.reason),
            Origin::Secret(p) => write!(f, "{}: {}", p.display(), self.reason),
        }
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line number of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_are_one_based() {
        let t = "a\nb\nc";
        assert_eq!(line_of(t, 0), 1);
        assert_eq!(line_of(t, 2), 2);
        assert_eq!(line_of(t, 4), 3);
        assert_eq!(line_of(t, 999), 3);
    }
}
