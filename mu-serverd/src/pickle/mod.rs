//! Strict Python-pickle codec: decodes protocols 0-5 into an inert [`Value`], encodes protocol 4
//! that CPython loads to equal values, and checks payloads against a policy. Nothing is ever
//! imported, looked up or called.
//!
//! API summary:
//! - [`decode`]`(bytes, &Limits) -> Result<Value, DecodeError>`: every opcode CPython defines.
//!   Memo sharing becomes `Arc` sharing (`Arc::ptr_eq` is identity). `GLOBAL`/`STACK_GLOBAL` ->
//!   [`Value::Global`]; `REDUCE`/`NEWOBJ`/`NEWOBJ_EX`/`INST`/`OBJ` -> [`Value::Object`] whose
//!   `BUILD`/`APPEND(S)`/`SETITEM(S)`/`ADDITEMS` are recorded in its fields; `PERSID`/`BINPERSID`
//!   -> [`Value::PersId`]. Cycles, `EXT1/2/4` and `NEXT_BUFFER` are typed errors. Trailing bytes
//!   after `STOP` are ignored, as CPython does.
//! - [`encode`]`(&Value) -> Vec<u8>`: protocol 4, shared `Arc`s memoized.
//!   [`encode_capped`] / [`encoded_len`] stop once the output passes a cap.
//! - [`check_plain`] / [`check_delta`]: policy on a decoded value ([`policy`]).
//! - [`check_plain_bytes`]`(bytes, &Limits)`: the verdict of `decode` + `check_plain` without
//!   building values (fast; for frames the server forwards unchanged).
//! - [`canonical::builtin_reductions`]: rewrites the calls CPython uses for bytes, bytearray, set
//!   and frozenset at protocols 0-3 into the plain values they denote (for tests and tools; the
//!   policy never sees through calls).
//!
//! [`Limits`] are checked before allocating; every error carries the byte offset.

mod arena;
pub mod budget;
mod build;
pub mod canonical;
mod debug;
mod encode;
mod error;
mod fast_scan;
mod finish;
mod limits;
mod memo;
pub(crate) mod opcodes;
pub(crate) mod policy;
mod scan;
mod sink;
#[cfg(test)]
mod tests;
mod text;
pub mod value;
mod vm;
mod vm_ops;
mod vm_prims;

pub use encode::{encode, encode_capped, encoded_len, TooLarge};
pub use error::{CheckError, DecodeError, DecodeErrorKind, PolicyError};
pub use limits::Limits;
pub use policy::{check_delta, check_plain};
pub use value::{BigInt, Call, Object, PyStr, Value};

/// Decodes one pickle (any protocol 0-5) into an inert value.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
    vm::run(bytes, limits, build::ValueSink::new(limits.max_depth))
}

/// The validator's buffers, one set per thread: the relay validates every node it forwards, and
/// reusing them avoids a dozen allocations per node. Nothing of one run is visible to the next.
#[derive(Default)]
struct ScanScratch {
    fast: fast_scan::Buffers,
    vm: vm::Buffers<scan::SItem>,
    scan: scan::ScanBuffers,
}

thread_local! {
    static SCAN_SCRATCH: std::cell::RefCell<ScanScratch> = Default::default();
}

/// Accepts exactly what `decode` followed by `check_plain` accepts, without building values.
pub fn check_plain_bytes(bytes: &[u8], limits: &Limits) -> Result<(), CheckError> {
    // Nothing below calls back into this function, so the borrow cannot be taken twice.
    let refused = SCAN_SCRATCH.with(|cell| {
        let ScanScratch { fast, vm, scan } = &mut *cell.borrow_mut();
        if fast_scan::surely_plain(bytes, limits, fast) {
            return Ok(None);
        }
        let sink = scan::ScanSink::new(bytes, limits.max_depth, scan);
        vm::run_reusing(bytes, limits, sink, vm)
    })?;
    match refused {
        None => Ok(()),
        Some(refused) => Err(CheckError::Policy(PolicyError { refused })),
    }
}

/// Decodes and applies the plain-data policy.
pub fn decode_plain(bytes: &[u8], limits: &Limits) -> Result<Value, CheckError> {
    let v = decode(bytes, limits)?;
    check_plain(&v)?;
    Ok(v)
}

/// Decodes and applies the deepdiff Delta policy.
pub fn decode_delta(bytes: &[u8], limits: &Limits) -> Result<Value, CheckError> {
    let v = decode(bytes, limits)?;
    check_delta(&v)?;
    Ok(v)
}
