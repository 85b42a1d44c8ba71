//! mu-ctl: parses the command line, sends one request over the control socket, prints the reply
//! and maps the outcome onto the documented exit codes (0 ok, 1 refused by the daemon, 2 cannot
//! reach it, 64 usage).

mod assets;
mod cli;
mod files;
mod output;
mod wait;
mod when;

use clap::Parser;
use cli::{Cli, Command};
use mu_ctl::client::{self, Client, ClientError};
use mu_ctl::proto::{Reply, Request};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const EXIT_USAGE: u8 = 64;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(dir) = &cli.generate_assets {
        return match assets::generate(dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mu-ctl: cannot write assets into {}: {e}", dir.display());
                ExitCode::from(1)
            }
        };
    }
    let Some(command) = &cli.command else {
        return usage(&cli, "a command is required (try mu-ctl --help)");
    };
    if let Command::Logs { follow } = command {
        return logs(&cli, *follow);
    }
    let request = match to_request(command) {
        Ok(r) => r,
        Err(msg) => return usage(&cli, &msg),
    };
    if let Some(name) = &cli.instance {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return usage(&cli, &format!("invalid instance name {name:?}"));
        }
    }
    let path = socket_path(&cli);
    let timeout = Duration::from_secs(cli.timeout.max(1));
    match command {
        Command::Export { file, .. } => return export(&cli, &path, timeout, &request, file),
        Command::Import { file } => return import(&cli, &path, timeout, &request, file),
        _ => {}
    }
    let mut pid = None;
    let mut settings = None;
    let result = Client::connect(&path, timeout).and_then(|mut c| {
        pid = c.daemon_pid();
        let reply = c.request(&request)?;
        if request == Request::Status {
            // A daemon older than `Settings` closes the connection: status alone, then.
            if let Ok(Reply::Settings(s)) = c.request(&Request::Settings) {
                settings = Some(s);
            }
        }
        Ok(reply)
    });
    let code = match result {
        Ok(reply) => show(&cli, &request, reply, settings.as_ref()),
        Err(e) => return fail(&cli, &e),
    };
    if let Command::Stop { no_wait: false } = command {
        return wait_for_exit(&cli, pid, timeout).unwrap_or(code);
    }
    code
}

/// After `stop`: waits for the daemon's PID to disappear. Some(code) when that failed.
fn wait_for_exit(cli: &Cli, pid: Option<i32>, timeout: Duration) -> Option<ExitCode> {
    let Some(pid) = pid else {
        eprintln!("mu-ctl: the daemon's PID is not visible from here; not waiting for it to exit");
        return None;
    };
    if wait::until_gone(pid, timeout) {
        return None;
    }
    let msg = format!(
        "mu-serverd (PID {pid}) is still running {} s after accepting stop",
        timeout.as_secs()
    );
    if cli.json {
        println!("{}", output::error_json("timeout", &msg));
    } else {
        eprintln!("mu-ctl: {msg}");
    }
    Some(ExitCode::from(1))
}

/// `mu-ctl logs [-f]`: replaces itself with journalctl for the right unit.
fn logs(cli: &Cli, follow: bool) -> ExitCode {
    use std::os::unix::process::CommandExt;
    if cli.socket.is_some() {
        return usage(
            cli,
            "logs reads the journal of a systemd unit: use --instance NAME, not --socket",
        );
    }
    let unit = match &cli.instance {
        Some(name) => format!("mu-serverd@{name}.service"),
        None => "mu-serverd.service".to_string(),
    };
    let mut cmd = std::process::Command::new("journalctl");
    cmd.args(["--unit", &unit]);
    if follow {
        cmd.arg("--follow");
    }
    let e = cmd.exec();
    eprintln!("mu-ctl: cannot run journalctl: {e}");
    ExitCode::from(1)
}

/// `export FILE`: the file is created here, with the caller's permissions, and passed open.
fn export(cli: &Cli, sock: &Path, timeout: Duration, req: &Request, file: &Path) -> ExitCode {
    let target = match files::create_export(file) {
        Ok(t) => t,
        Err(msg) => return file_error(cli, &msg.into()),
    };
    let result = Client::connect(sock, timeout)
        .and_then(|mut c| c.request_with_file(req, target.file.as_fd()));
    match result {
        Ok(reply) => match target.commit() {
            Ok(()) => show(cli, req, reply, None),
            Err(msg) => file_error(cli, &msg.into()),
        },
        Err(e) => fail(cli, &e),
    }
}

/// `import FILE`: the file is opened here, with the caller's permissions, and passed open.
fn import(cli: &Cli, sock: &Path, timeout: Duration, req: &Request, file: &Path) -> ExitCode {
    let f = match files::open_import(file) {
        Ok(f) => f,
        Err(e) => return file_error(cli, &e),
    };
    match Client::connect(sock, timeout).and_then(|mut c| c.request_with_file(req, f.as_fd())) {
        Ok(reply) => show(cli, req, reply, None),
        Err(e) => fail(cli, &e),
    }
}

/// The file named for export/import cannot be used; nothing was sent. Exit 1, JSON code
/// `not_found` for a missing file, else `file`.
fn file_error(cli: &Cli, e: &files::FileError) -> ExitCode {
    if cli.json {
        let code = e.code.map_or("file", |c| c.as_str());
        println!("{}", output::error_json(code, &e.message));
    } else {
        eprintln!("mu-ctl: {}", e.message);
    }
    ExitCode::from(1)
}

fn socket_path(cli: &Cli) -> PathBuf {
    match (&cli.socket, &cli.instance) {
        (Some(p), _) => p.clone(),
        (None, Some(name)) => client::instance_socket(name),
        (None, None) => client::default_socket(),
    }
}

fn to_request(command: &Command) -> Result<Request, String> {
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

fn usage(cli: &Cli, message: &str) -> ExitCode {
    if cli.json {
        println!("{}", output::error_json("usage", message));
    } else {
        eprintln!("mu-ctl: {message}");
    }
    ExitCode::from(EXIT_USAGE)
}

fn fail(cli: &Cli, e: &ClientError) -> ExitCode {
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

fn show(
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
