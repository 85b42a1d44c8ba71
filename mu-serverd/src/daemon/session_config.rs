//! The session core's settings, derived from the daemon configuration.

use crate::config::Config;
use crate::session::SessionConfig;

pub fn session_config(cfg: &Config) -> SessionConfig {
    SessionConfig {
        server_password: cfg
            .auth
            .server_password
            .as_ref()
            .map(|s| s.expose().to_string()),
        admin_password: cfg
            .auth
            .admin_password
            .as_ref()
            .map(|s| s.expose().to_string()),
        timeout_ms: cfg.server.timeout_ms,
        max_clients: cfg.server.max_clients,
        max_message_bytes: usize::try_from(cfg.server.max_message_bytes).unwrap_or(usize::MAX),
        ..SessionConfig::default()
    }
}
