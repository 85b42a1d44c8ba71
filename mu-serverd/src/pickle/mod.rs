//! Strict Python-pickle codec: decodes protocols 0-5 into an inert [`value::Value`], encodes
//! protocol 4 that CPython loads to equal values, and checks payloads against a policy.
//! Nothing is ever imported, looked up or called.

pub mod value;

pub use value::{BigInt, Call, Object, PyStr, Value};
