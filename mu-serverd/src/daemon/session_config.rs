//! The session core's settings, derived from the daemon configuration.

use crate::config::Config;
use crate::pickle::Limits;
use crate::session::SessionConfig;

pub fn session_config(cfg: &Config) -> SessionConfig {
    let max_message_bytes = usize::try_from(cfg.server.max_message_bytes).unwrap_or(usize::MAX);
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
        max_message_bytes,
        // A pickle is one frame of a message, so the message limit is also the pickle limit:
        // without this, nodes between the codec's default (64 MiB) and the message limit would
        // pass ZeroMQ and then be refused by the codec.
        limits: Limits {
            max_input: max_message_bytes,
            ..Limits::default()
        },
        client_versions: cfg.server.client_versions.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_limit_is_also_the_pickle_limit() {
        let mut cfg = Config::default();
        cfg.server.max_message_bytes = 100 << 20;
        let session = session_config(&cfg);
        assert_eq!(session.max_message_bytes, 100 << 20);
        assert_eq!(session.limits.max_input, 100 << 20);
        // The other codec limits keep their defaults.
        assert_eq!(session.limits.max_depth, Limits::default().max_depth);
    }

    #[test]
    fn the_admitted_versions_reach_the_core() {
        let mut cfg = Config::default();
        cfg.server.client_versions = vec!["0.9.9".into(), "0.9.11".into()];
        assert_eq!(
            session_config(&cfg).client_versions,
            vec!["0.9.9", "0.9.11"]
        );
    }
}
