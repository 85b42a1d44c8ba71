//! The mio event loop's ZeroMQ half: three ROUTER sockets whose ZMQ_FDs sit in the daemon's
//! `mio::Poll`, moving frames between them and the sans-IO session core.
//!
//! ZMQ_FD is edge-triggered and any zmq call may consume its edge (notes/crates.md §1.3), so
//! [`Shell::pump`] runs after *every* wake-up, whatever woke the loop, and ends only when the last
//! zmq call on each socket was `ZMQ_EVENTS` reporting nothing to do. Sends never block: a full
//! peer gets its messages parked in its own bounded queue (see [`router`]), so one slow client
//! never delays the others. Each ROUTER's socket monitor ([`monitor`]) names the peers that
//! connect without speaking ZeroMQ (newer replication releases).

mod core;
pub(crate) mod handshakes;
pub(crate) mod monitor;
mod pump;
pub(crate) mod router;
mod session_core;
pub(crate) mod sockets;
pub mod zmsg;

pub use self::core::Core;
pub use pump::Shell;
pub use sockets::SocketOptions;
