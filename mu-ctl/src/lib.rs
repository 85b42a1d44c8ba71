//! The control protocol shared by `mu-ctl` and `mu-serverd` (postcard, length-prefixed), and a
//! blocking client for it. This crate never links libzmq: the CLI and the daemon's control
//! module depend on this library alone for everything they say to each other.
//!
//! - [`proto`]: the request and reply types, and the versioning rules.
//! - [`frame`]: the length-prefixed framing with its size cap.
//! - [`client`]: connect, handshake, request/reply, errors with exit codes.
//! - [`civil`]: calendar arithmetic both sides use for times they show or parse.

pub mod civil;
pub mod client;
pub mod frame;
pub mod proto;
