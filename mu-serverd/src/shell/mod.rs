//! The mio event loop that moves bytes between the ZeroMQ sockets and the session core.
