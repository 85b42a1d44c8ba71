//! The one error type of the Delta engine.
//!
//! deepdiff has two kinds of failure when `old + delta` runs: most problems are *logged and
//! skipped* (returned by [`super::Delta::apply`] as messages next to the result), while some
//! escape as Python exceptions. Only the latter become a [`DeltaError`]; the server then neither
//! stores nor relays the Commit, as the reference server does.

use std::fmt;

/// What went wrong, coarse enough for a caller to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeltaErrorKind {
    /// The bytes are not a pickle the codec accepts.
    Decode,
    /// The pickle decodes but names something the Delta policy (`pickle::check_delta`, difference
    /// 2) does not allow: the only way a delta is refused for what it names.
    Refused,
    /// The decoded value is not a Delta deepdiff would load (`Delta(raw)` would raise).
    Format,
    /// deepdiff raises out of `old + delta` here (the message names the Python exception).
    Raised,
    /// Something deepdiff would do that this engine deliberately does not (e.g. building a
    /// gigabyte `bytes(n)`, calling a non-builtin type); the Commit is refused.
    Unsupported,
}

/// A typed error with a message naming the group and the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaError {
    pub kind: DeltaErrorKind,
    pub message: String,
}

impl DeltaError {
    pub fn new(kind: DeltaErrorKind, message: impl Into<String>) -> Self {
        DeltaError {
            kind,
            message: message.into(),
        }
    }
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(DeltaErrorKind::Format, message)
    }
    pub fn raised(message: impl Into<String>) -> Self {
        Self::new(DeltaErrorKind::Raised, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(DeltaErrorKind::Unsupported, message)
    }
}

impl fmt::Display for DeltaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DeltaErrorKind::Decode => "undecodable delta",
            DeltaErrorKind::Refused => "delta policy",
            DeltaErrorKind::Format => "malformed delta",
            DeltaErrorKind::Raised => "deepdiff would raise",
            DeltaErrorKind::Unsupported => "unsupported delta",
        };
        write!(f, "{what}: {}", self.message)
    }
}

impl std::error::Error for DeltaError {}

/// The Python exception classes the engine distinguishes, because deepdiff catches some of
/// them (`except (KeyError, IndexError, AttributeError, TypeError)`) and not others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PyExc {
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ValueError,
    OverflowError,
    /// Not a Python exception: the engine refuses to go on (see [`DeltaErrorKind::Unsupported`]).
    Unsupported,
}

/// A Python exception as the engine models it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PyErr {
    pub exc: PyExc,
    pub msg: String,
}

impl PyErr {
    pub(crate) fn new(exc: PyExc, msg: impl Into<String>) -> Self {
        PyErr {
            exc,
            msg: msg.into(),
        }
    }
    pub(crate) fn type_err(msg: impl Into<String>) -> Self {
        Self::new(PyExc::TypeError, msg)
    }
    pub(crate) fn key(msg: impl Into<String>) -> Self {
        Self::new(PyExc::KeyError, msg)
    }
    pub(crate) fn index(msg: impl Into<String>) -> Self {
        Self::new(PyExc::IndexError, msg)
    }
    pub(crate) fn attr(msg: impl Into<String>) -> Self {
        Self::new(PyExc::AttributeError, msg)
    }
    pub(crate) fn value(msg: impl Into<String>) -> Self {
        Self::new(PyExc::ValueError, msg)
    }
    /// True for the four classes deepdiff's item helpers catch.
    pub(crate) fn is_lookup_like(&self) -> bool {
        matches!(
            self.exc,
            PyExc::KeyError | PyExc::IndexError | PyExc::TypeError | PyExc::AttributeError
        )
    }
    /// Turns an uncaught exception into the error `apply` returns.
    pub(crate) fn raise(self, context: &str) -> DeltaError {
        if self.exc == PyExc::Unsupported {
            DeltaError::unsupported(format!("{context}: {}", self.msg))
        } else {
            DeltaError::raised(format!("{context}: {:?}: {}", self.exc, self.msg))
        }
    }
}

impl fmt::Display for PyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.msg)
    }
}
