//! Durable session state: snapshots, an append-only journal, export and import.
//!
//! Files (see [`layout`]): `snapshot-<generation>.snap` holds the whole session at one journal
//! sequence number; `journal-<generation>.log` the changes made after it. Every record is framed
//! with a length and a CRC ([`record`]) around a postcard payload ([`format`]).
//!
//! - [`recover`]: start-up (newest good snapshot, journal replay, torn-tail truncation);
//!   [`open`] puts it in the session and starts the [`Store`].
//! - [`live::Store`]: what the event loop drives: the core's
//!   [`crate::session::io::Journal`], periodic snapshots, shutdown, status; [`admin`]: the
//!   control requests' work (save, export, import, reset backup, restore).
//! - [`compact`], [`syncer`]: the background snapshot writer and the batch fsync thread.
//! - [`export`], [`import`]: the replication client's `Repository.dumps`/`loads` file format.
//! - [`error`]: [`StoreError`], what callers act on.

pub(crate) mod admin;
pub(crate) mod compact;
pub(crate) mod error;
pub mod export;
pub(crate) mod format;
pub mod history;
pub mod import;
pub(crate) mod journal;
pub mod layout;
pub(crate) mod live;
pub(crate) mod open;
pub(crate) mod record;
pub(crate) mod recover;
pub(crate) mod snapshot;
pub(crate) mod syncer;

#[cfg(test)]
mod tests;

pub use admin::{PreparedImport, Work};
pub use error::StoreError;
pub use live::{Store, StoreStatus};
pub use open::image_of;
pub use recover::{recover, RecoverError, Recovered};
pub use snapshot::{Image, NodeImage};

#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;

    /// A fresh empty directory under the system temp dir, unique per test name and process.
    pub(crate) fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mu-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        d
    }
}
