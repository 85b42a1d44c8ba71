//! mu-ctl: parses the command line, sends one request over the control socket, prints the reply
//! and maps the outcome onto the documented exit codes (0 ok, 1 refused by the daemon, 2 cannot
//! reach it, 64 usage).

mod assets;
mod cli;
mod commands;
mod files;
mod output;
mod report;
mod request;
mod wait;
mod when;

use clap::Parser;
use cli::{Cli, Command};
use commands::{export, import, logs, wait_for_exit};
use mu_ctl::client::Client;
use mu_ctl::proto::{Reply, Request};
use report::{fail, show, usage, EXIT_USAGE};
use request::{socket_path, to_request};
use std::process::ExitCode;
use std::time::Duration;

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
