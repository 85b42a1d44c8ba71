//! Configuration: built-in defaults, /etc/mu-server.toml, environment and flag overrides.
