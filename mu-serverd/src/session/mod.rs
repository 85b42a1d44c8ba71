//! The sans-IO session core: the replication 0.9.10 server protocol as a state machine.

pub mod io;
