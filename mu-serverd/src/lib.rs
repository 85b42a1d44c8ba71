//! mu-serverd: a server for Blender Multi-User sessions that speaks the protocol of the Python
//! library `replication` 0.9.10, built as a sans-IO session core inside a thin mio/zmq shell.
//!
//! Module map (each folder owns one concern):
//! - [`pickle`]: strict Python-pickle codec (decode, encode, policy); never executes anything.
//! - [`objects`]: the replication wire objects (multipart frames of types 1-14).
//! - [`delta`]: applies deepdiff Deltas exactly as deepdiff 8.1.1 (and 5.7.0) do.
//! - [`session`]: the sans-IO protocol core (events in, actions out).
//! - [`shell`]: the ZeroMQ half of the event loop: the three sockets, moving frames to the core.
//! - [`config`]: `/etc/mu-server.toml`, overrides, validation with file/line/reason.
//! - [`daemon`]: the event loop (`daemon/run.rs`), systemd notification, signals, reload, status.
//! - [`cli`]: command-line flags (with the reference's `-apwd`/`-spwd`), assets.
//! - [`logging`]: journald/syslog/stderr sinks with correct priorities.
//! - [`control`]: the Unix control socket that `mu-ctl` talks to.
//! - [`store`]: durable session state (snapshot + journal), export/import.
//! - [`wallclock`]: the one place the wall clock is read.

#![warn(unreachable_pub)]

pub mod cli;
pub mod config;
pub(crate) mod control;
pub mod daemon;
pub mod delta;
pub(crate) mod files;
pub mod logging;
pub mod objects;
pub mod pickle;
pub mod session;
pub mod shell;
pub mod store;
#[cfg(test)]
mod walk_tests;
pub mod wallclock;
