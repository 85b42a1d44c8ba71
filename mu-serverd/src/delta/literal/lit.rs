//! What `literal_eval` gives: a value, an opaque literal, or why it failed (its own file so the
//! parser, the shortcut and the entry point all import it downward).

use crate::delta::error::PyErr;
use crate::pickle::value::Value;

/// A literal's value.
#[derive(Clone, Debug)]
pub(crate) enum Lit {
    Val(Value),
    /// A literal that is not a plain data key (complex, dict, set, list, Ellipsis).
    Opaque {
        desc: &'static str,
        hashable: bool,
    },
}

/// Why evaluation failed.
#[derive(Clone, Debug)]
pub(crate) enum LitErr {
    /// `SyntaxError`/`ValueError`: deepdiff keeps the raw text.
    Fallback,
    /// Another exception escapes `literal_eval` (e.g. `TypeError: unhashable type`).
    Raise(PyErr),
}
