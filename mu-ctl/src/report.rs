//! What mu-ctl prints and the exit code it ends with: a reply as a table or JSON, an error as a
//! line on stderr or a JSON object (0 ok, 1 refused by the daemon or a file problem, 2 cannot
//! reach it, 64 usage).

use crate::cli::Cli;
use crate::{files, output};
use mu_ctl::client::ClientError;
use mu_ctl::proto::{Reply, Request};
use std::process::ExitCode;

pub(crate) const EXIT_USAGE: u8 = 64;

/// The file named for export/import cannot be used; nothing was sent. Exit 1, JSON code
/// `not_found` for a missing file, else `file`.
pub(crate) fn file_error(cli: &Cli, e: &files::FileError) -> ExitCode {
    if cli.json {
        let code = e.code.map_or("file", |c| c.as_str());
        println!("{}", output::error_json(code, &e.message));
    } else {
        eprintln!("mu-ctl: {}", e.message);
    }
    ExitCode::from(1)
}

pub(crate) fn usage(cli: &Cli, message: &str) -> ExitCode {
    if cli.json {
        println!("{}", output::error_json("usage", message));
    } else {
        eprintln!("mu-ctl: {message}");
    }
    ExitCode::from(EXIT_USAGE)
}

pub(crate) fn fail(cli: &Cli, e: &ClientError) -> ExitCode {
    if cli.json {
        let code = match e {
            ClientError::Daemon { code, .. } => code.as_str(),
            ClientError::Version { .. } => "version_mismatch",
            _ => "unreachable",
        };
        let message = match e {
            ClientError::Daemon { message, .. } => message.clone(),
            other => other.to_string(),
        };
        println!("{}", output::error_json(code, &message));
    } else {
        eprintln!("mu-ctl: {e}");
    }
    ExitCode::from(e.exit_code() as u8)
}

pub(crate) fn show(
    cli: &Cli,
    request: &Request,
    reply: Reply,
    settings: Option<&mu_ctl::proto::SettingsInfo>,
) -> ExitCode {
    let now = output::now_unix();
    match (request, reply) {
        (Request::Users, Reply::Users(users)) => {
            if cli.json {
                println!("{}", output::users_json(&users));
            } else {
                print!("{}", output::users_table(&users, now));
            }
        }
        (Request::Status, Reply::Status(status)) => {
            if cli.json {
                println!("{}", output::status_json(&status, settings));
            } else {
                print!("{}", output::status_text(&status, now));
                if let Some(s) = settings {
                    print!("{}", output::settings_text(s));
                }
            }
        }
        (Request::History { .. }, Reply::History(h)) => {
            if cli.json {
                println!("{}", output::history_json(&h));
            } else {
                print!("{}", output::history_text(&h));
            }
        }
        (_, Reply::Done { message }) => {
            if cli.json {
                println!("{}", output::done_json(&message));
            } else {
                println!("{message}");
            }
        }
        (req, other) => {
            return fail(
                cli,
                &ClientError::Unexpected {
                    request: req.name(),
                    reply: format!("{other:?}"),
                },
            )
        }
    }
    ExitCode::SUCCESS
}
