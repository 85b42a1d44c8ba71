//! What a command asks the daemon ([`Request`]), and where the daemon listens.

use crate::cli::{Cli, Command};
use crate::when;
use mu_ctl::client;
use mu_ctl::proto::Request;
use std::path::{Path, PathBuf};

pub(crate) fn socket_path(cli: &Cli) -> PathBuf {
    match (&cli.socket, &cli.instance) {
        (Some(p), _) => p.clone(),
        (None, Some(name)) => client::instance_socket(name),
        (None, None) => client::default_socket(),
    }
}

pub(crate) fn to_request(command: &Command) -> Result<Request, String> {
    Ok(match command {
        Command::Users => Request::Users,
        Command::Kick { user, reason } => Request::Kick {
            user: user.clone(),
            reason: reason.clone(),
        },
        Command::Reload => Request::Reload,
        Command::Stop { .. } => Request::Stop,
        Command::Status => Request::Status,
        Command::Save => Request::Save,
        Command::Export { file, at: None } => Request::ExportFile {
            name: absolute(file)?,
        },
        Command::Export { file, at: Some(t) } => Request::ExportAt {
            name: absolute(file)?,
            at_unix_ms: when::parse(t, when::now_ms())?,
        },
        Command::History { since } => Request::History {
            since_unix_ms: match since {
                Some(t) => Some(when::parse(t, when::now_ms())?),
                None => None,
            },
        },
        Command::Restore { at, yes: true } => Request::Restore {
            at_unix_ms: when::parse(at, when::now_ms())?,
        },
        Command::Restore { yes: false, .. } => {
            return Err(
                "restore disconnects every client and replaces the session; run \
                        `mu-ctl restore --at TIME --yes` to confirm"
                    .to_string(),
            )
        }
        Command::Import { file } => Request::ImportFile {
            name: absolute(file)?,
        },
        Command::Reset { yes: true } => Request::Reset,
        Command::Logs { .. } => return Err("logs does not talk to the daemon".to_string()),
        Command::Reset { yes: false } => {
            return Err(
                "reset discards the whole session; run `mu-ctl reset --yes` to confirm".to_string(),
            )
        }
    })
}

/// The daemon runs in another directory, so relative paths are resolved here.
fn absolute(file: &Path) -> Result<String, String> {
    let abs =
        std::path::absolute(file).map_err(|e| format!("cannot resolve {}: {e}", file.display()))?;
    abs.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} is not valid UTF-8", abs.display()))
}
