//! Log sinks: stderr with <N> prefixes under journald, syslog socket, or plain stderr.
