//! Unit tests of the session core: the state machine driven directly with simulated time, one
//! test per protocol behaviour. Client frames are built with the real codec; actions are
//! decoded back and asserted on.

pub(super) mod harness;

mod auth;
mod commands;
mod heartbeat;
mod heartbeat_tick;
mod identity;
mod join;
mod join_catalog;
mod join_fair;
mod kinds;
mod leave;
mod policy;
mod quota;
mod random;
mod relay;
mod replace;
mod repository;
mod snapshot_msgs;
mod upload;
mod upload_owner;
mod versions;
mod walks;
