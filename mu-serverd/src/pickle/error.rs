//! Typed errors of the codec. Decode errors carry the byte offset of the opcode that failed, so
//! a log line can say exactly where a peer's pickle went wrong.

use std::fmt;

/// Why a pickle could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input is larger than [`Limits::max_input`](super::Limits::max_input).
    InputTooLarge { len: usize, max: usize },
    /// The input ended before `STOP` (or inside an opcode's argument).
    Truncated,
    /// A length prefix (or frame length) asks for more bytes than the input has left.
    LengthExceedsInput { len: u64, remaining: usize },
    /// A byte that is not a pickle opcode.
    UnknownOpcode(u8),
    /// `PROTO` with a version above 5.
    UnsupportedProtocol(u8),
    /// An opcode CPython defines but that cannot be honoured without running code or out-of-band
    /// data: `EXT1/2/4` (the extension registry is empty in a plain CPython, which fails the same
    /// way) and `NEXT_BUFFER`.
    Unsupported(u8),
    /// An opcode needed more values than the stack (above the current mark) holds.
    StackUnderflow,
    /// An opcode that needs a `MARK` found none.
    MarkMissing,
    /// `GET` of a memo index that was never `PUT`.
    MemoMissing(u64),
    /// A malformed text argument (protocol 0/1 `INT`, `LONG`, `FLOAT`, `STRING`, `GET`/`PUT`, ...).
    BadText(&'static str),
    /// A `str` whose bytes are not UTF-8 (lone surrogates, CPython's `surrogatepass`, are fine).
    BadUtf8,
    /// An opcode applied to a value of the wrong type (e.g. `APPEND` to a dict).
    BadOperand { opcode: u8, found: &'static str },
    /// `SETITEMS`/`DICT` with an odd number of marked values.
    OddItems,
    /// Nesting deeper than [`Limits::max_depth`](super::Limits::max_depth).
    TooDeep { max: u32 },
    /// More values than [`Limits::max_items`](super::Limits::max_items).
    TooManyItems { max: usize },
    /// More memo entries than [`Limits::max_memo`](super::Limits::max_memo).
    MemoTooLarge { max: usize },
    /// The object graph contains a cycle (a container that contains itself), which the value
    /// model cannot represent.
    Cyclic,
}

/// A decode failure and the byte offset of the opcode it happened at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub offset: usize,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        match self {
            InputTooLarge { len, max } => {
                write!(f, "pickle of {len} bytes exceeds the limit of {max}")
            }
            Truncated => write!(f, "pickle truncated"),
            LengthExceedsInput { len, remaining } => {
                write!(f, "length {len} exceeds the {remaining} bytes left")
            }
            UnknownOpcode(op) => write!(f, "unknown opcode 0x{op:02x}"),
            UnsupportedProtocol(p) => write!(f, "unsupported pickle protocol {p}"),
            Unsupported(op) => write!(f, "unsupported opcode 0x{op:02x}"),
            StackUnderflow => write!(f, "stack underflow"),
            MarkMissing => write!(f, "no MARK on the stack"),
            MemoMissing(i) => write!(f, "memo index {i} was never stored"),
            BadText(what) => write!(f, "malformed text argument: {what}"),
            BadUtf8 => write!(f, "str is not UTF-8"),
            BadOperand { opcode, found } => {
                write!(f, "opcode 0x{opcode:02x} cannot apply to a {found}")
            }
            OddItems => write!(f, "odd number of items for a dict"),
            TooDeep { max } => write!(f, "nesting deeper than {max}"),
            TooManyItems { max } => write!(f, "more than {max} values"),
            MemoTooLarge { max } => write!(f, "more than {max} memo entries"),
            Cyclic => write!(f, "cyclic object graph"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// A decoded value that the policy does not allow; `refused` names what, for the log line
/// (e.g. `global os.system`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub refused: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused {}", self.refused)
    }
}

impl std::error::Error for PolicyError {}

/// The verdict of [`check_plain_bytes`](super::check_plain_bytes): not decodable, or decodable
/// but not plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    Decode(DecodeError),
    Policy(PolicyError),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Decode(e) => e.fmt(f),
            CheckError::Policy(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CheckError {}

impl From<DecodeError> for CheckError {
    fn from(e: DecodeError) -> Self {
        CheckError::Decode(e)
    }
}

impl From<PolicyError> for CheckError {
    fn from(e: PolicyError) -> Self {
        CheckError::Policy(e)
    }
}
