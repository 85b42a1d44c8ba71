//! What a reload may change on a running server, and what needs a restart.

use super::Config;

/// The outcome of comparing the running configuration with a freshly loaded one.
#[derive(Debug, PartialEq)]
pub struct Plan {
    /// The configuration to run with: the new one, except for settings that need a restart,
    /// which keep their running values.
    pub effective: Config,
    /// Names of settings that changed in the file but need a restart (`server.port`, ...).
    pub needs_restart: Vec<&'static str>,
}

/// Settings bound to sockets or opened at start keep their running value until a restart.
pub(crate) fn plan(running: &Config, new: Config) -> Plan {
    let mut eff = new;
    let mut needs_restart = Vec::new();
    macro_rules! keep {
        ($($f:ident).+, $name:literal) => {
            if eff.$($f).+ != running.$($f).+ {
                needs_restart.push($name);
                eff.$($f).+ = running.$($f).+.clone();
            }
        };
    }
    keep!(server.bind, "server.bind");
    keep!(server.port, "server.port");
    keep!(server.max_message_bytes, "server.max_message_bytes");
    keep!(storage, "storage");
    keep!(control, "control");
    keep!(log.target, "log.target");
    keep!(log.syslog_socket, "log.syslog_socket");
    Plan {
        effective: eff,
        needs_restart,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn live_settings_apply_and_bound_ones_wait_for_restart() {
        let running = Config::default();
        let mut new = Config::default();
        new.server.port = 6000;
        new.server.timeout_ms = 3000;
        new.auth.server_password = Some(Secret::new("pw"));
        new.log.level = log::LevelFilter::Debug;
        new.server.client_versions = vec!["0.9.9".into()];
        let p = plan(&running, new);
        assert_eq!(p.effective.server.client_versions, vec!["0.9.9"]);
        assert_eq!(p.needs_restart, vec!["server.port"]);
        assert_eq!(p.effective.server.port, 5555);
        assert_eq!(p.effective.server.timeout_ms, 3000);
        assert_eq!(p.effective.log.level, log::LevelFilter::Debug);
        assert_eq!(
            p.effective
                .auth
                .server_password
                .as_ref()
                .map(|s| s.expose()),
            Some("pw")
        );
    }

    #[test]
    fn unchanged_config_needs_nothing() {
        let p = plan(&Config::default(), Config::default());
        assert!(p.needs_restart.is_empty());
    }
}
