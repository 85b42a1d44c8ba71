//! Login (Auth, type 9) and RequestServerInfo (type 14): the only commands a peer may send
//! before it is logged in.

use super::clients::Client;
use super::io::{Channel, Identity, Millis, SessionState};
use super::wire::{self, sdict};
use super::Session;
use crate::objects::{self, CommandKind};
use crate::pickle::Value;
use log::Level;

/// The kinds a peer may send before it is logged in; everything else from a stranger is
/// refused before it is decoded. Every kind is named, so a new one needs a decision here.
pub(super) fn before_login(kind: CommandKind) -> bool {
    match kind {
        CommandKind::Auth | CommandKind::RequestServerInfo => true,
        CommandKind::Command
        | CommandKind::Delete
        | CommandKind::Right
        | CommandKind::Config
        | CommandKind::Snapshot
        | CommandKind::ServerSnapshot
        | CommandKind::Disconnect
        | CommandKind::Kick
        | CommandKind::UpdateClientsState
        | CommandKind::UpdateUserMetadata => false,
    }
}

/// Compares secrets without an early exit on the first differing byte (difference 5).
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

fn secret_matches(sent: Option<&Value>, expected: &str) -> bool {
    match sent {
        Some(Value::Str(s)) => ct_eq(s.as_bytes(), expected.as_bytes()),
        _ => false,
    }
}

impl Session {
    pub(super) fn on_auth(&mut self, now: Millis, from: &Identity, data: &Value) {
        let peer = wire::peer_name(from);
        let name = match data.get_str_key("AUTH_ID").and_then(Value::as_str) {
            Some(n) if matches!(data, Value::Dict(_)) => n.to_owned(),
            _ => {
                self.log(
                    Level::Warn,
                    format!(
                        "Auth request from peer {peer} refused: malformed (data is a {} without a text AUTH_ID)",
                        data.type_name()
                    ),
                );
                let reply = Value::str("FAILED: malformed auth request");
                self.send(
                    Channel::Command,
                    from,
                    objects::build_command(CommandKind::Auth, "server", &reply),
                );
                return;
            }
        };
        let admin = data.get_str_key("AUTH_TYPE").and_then(Value::as_str) == Some("ADMIN");
        let kind = if admin { "ADMIN" } else { "CLIENT" };
        self.log(
            Level::Info,
            format!("Auth request from {name} ({kind}) peer {peer}"),
        );
        match self.login_check(from, &name, admin, data) {
            Err((reason, note)) => {
                let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
                self.log(
                    Level::Warn,
                    format!("Auth refused for {name} peer {peer}: {reason}{note}"),
                );
                self.send(
                    Channel::Command,
                    from,
                    objects::build_command(CommandKind::Auth, "server", &Value::str(&reason)),
                );
            }
            Ok(version) => {
                self.hold_version(&version);
                let answer = match self.repo.state() {
                    SessionState::Waiting | SessionState::SrvSync => "LOBBY",
                    SessionState::Active => "RUNNING",
                };
                let mut client = Client::new(name.clone(), admin, now);
                client.address = self.peer.clone();
                self.clients.insert(from.clone(), client);
                self.log(
                    Level::Info,
                    format!(
                        "{name} logged in{} as peer {peer}: {answer}",
                        if admin { " as admin" } else { "" }
                    ),
                );
                self.broadcast_clients_state();
                self.send(
                    Channel::Command,
                    from,
                    objects::build_command(CommandKind::Auth, "server", &Value::str(answer)),
                );
            }
        }
    }

    /// The reference's checks, in its order, then the client limit (difference 4). Ok: the
    /// client's version; Err: the answer, and a note for the log line.
    fn login_check(
        &self,
        from: &Identity,
        name: &str,
        admin: bool,
        data: &Value,
    ) -> Result<String, (String, Option<String>)> {
        let plain = |s: &str| Err((s.to_owned(), None));
        if self.clients.by_name(name).is_some() || self.clients.contains(from) {
            return plain("FAILED: client already logged in");
        }
        if admin {
            let ok = match &self.cfg.admin_password {
                Some(p) => secret_matches(data.get_str_key("A_PWD"), p),
                None => false,
            };
            if !ok {
                return plain("FAILED: wrong admin password");
            }
        }
        if let Some(p) = &self.cfg.server_password {
            if !secret_matches(data.get_str_key("S_PWD"), p) {
                return plain("FAILED: wrong server password");
            }
        }
        let sent = data.get_str_key("VERSION").unwrap_or(&Value::None);
        let version = self.check_version(sent).map_err(|r| (r.reply, r.note))?;
        if self.clients.len() >= self.cfg.max_clients {
            return plain(&format!(
                "FAILED: server full ({} clients)",
                self.cfg.max_clients
            ));
        }
        Ok(version)
    }

    /// `{private, version}`: private exactly when a server password is set (difference 6);
    /// the version the session holds, or the first one admitted (issue 17).
    pub(super) fn on_server_info(&mut self, from: &Identity) {
        let info = sdict(vec![
            ("private", Value::Bool(self.cfg.server_password.is_some())),
            ("version", Value::str(self.advertised_version())),
        ]);
        self.send(
            Channel::Command,
            from,
            objects::build_command(CommandKind::RequestServerInfo, "server", &info),
        );
    }
}
