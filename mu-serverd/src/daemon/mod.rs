//! The daemon around the shell: systemd notification, signals, reload, status, the control
//! socket's requests, the persistence hook, and the event loop that ties them together.

pub mod check;
mod control;
mod history;
pub(crate) mod jobs;
pub mod lock;
pub(crate) mod notify;
pub mod persist;
pub(crate) mod reload;
mod replies;
mod requests;
mod run;
pub mod session_config;
pub mod signals;
pub(crate) mod status;
mod store_requests;
mod turns;

pub use reload::Reloader;
pub use run::{Bound, Daemon};
