//! The session core's settings, derived from the daemon configuration.

use crate::config::Config;
use crate::pickle::Limits;
use crate::session::push::Window;
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
        max_nodes: cfg.server.max_nodes,
        max_session_bytes: cfg.server.max_session_bytes,
        max_user_metadata_bytes: cfg.server.max_metadata_bytes_per_user,
        max_metadata_bytes_total: cfg.server.max_metadata_bytes_total,
        // A pickle is one frame of a message, so the message limit is also the pickle limit:
        // without this, nodes between the codec's default (64 MiB) and the message limit would
        // pass ZeroMQ and then be refused by the codec.
        limits: Limits {
            max_input: max_message_bytes,
            ..Limits::default()
        },
        client_versions: cfg.server.client_versions.clone(),
        join_window: join_window(cfg),
    }
}

/// The pushed SETs wait in the joiner's bounded queue with everything else sent to it: the
/// window takes at most half of `client_queue_limit`, so a joiner reading at the client's pace
/// never looks like one that stopped reading (which the other half still catches).
fn join_window(cfg: &Config) -> Window {
    Window {
        nodes: cfg
            .server
            .join_window
            .min(cfg.server.client_queue_limit / 2),
        bytes: cfg.server.join_window_bytes,
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

    #[test]
    fn the_join_window_stays_within_half_the_client_queue() {
        let mut cfg = Config::default();
        cfg.server.join_window = 800;
        cfg.server.join_window_bytes = 5000;
        assert_eq!(session_config(&cfg).join_window.nodes, 800);
        assert_eq!(session_config(&cfg).join_window.bytes, 5000);
        cfg.server.client_queue_limit = 1000;
        assert_eq!(session_config(&cfg).join_window.nodes, 500);
        cfg.server.join_window = 0;
        assert_eq!(session_config(&cfg).join_window.nodes, Window::OFF.nodes);
    }
}
