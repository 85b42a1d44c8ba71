//! The session's history on disk, and what an admin does with it (issue 20).
//!
//! The store already keeps older generations (a snapshot and the journal after it). Since
//! journal version 2 every write of the journal starts with a [`Time`](super::format::ChangeRec)
//! record (the server's wall-clock time) and logins/logouts are recorded as
//! [`Users`](super::format::ChangeRec) records, so every journaled change has a moment.
//!
//! - [`policy`]: which generations are kept (`[storage] history`, `history_max_bytes`).
//! - [`timeline`]: the restore points found on disk, and which one a moment T means.
//! - [`rebuild`]: the session exactly as at a restore point (snapshot + journal replay).
//! - [`summary`]: what `mu-ctl history` shows (nodes, bytes, users, busiest changes).
//!
//! Everything here reads files only and runs on a thread of its own, never on the event loop.

pub(crate) mod policy;
pub mod rebuild;
pub(crate) mod summary;
pub mod timeline;

#[cfg(test)]
mod tests;

pub use policy::Policy;
