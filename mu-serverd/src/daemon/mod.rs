//! The daemon around the shell: systemd notification, signals, reload, status, and the event
//! loop that ties the sockets, the core, the control socket and the store together.

pub mod notify;
pub mod signals;
