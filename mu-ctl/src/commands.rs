//! The commands that are more than one request and its reply: `logs` runs journalctl, `export`
//! and `import` pass an open file along, `stop` waits for the daemon's process to end.

use crate::cli::Cli;
use crate::report::{fail, file_error, show, usage};
use crate::{files, output, wait};
use mu_ctl::client::Client;
use mu_ctl::proto::Request;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// After `stop`: waits for the daemon's PID to disappear. Some(code) when that failed.
pub(crate) fn wait_for_exit(cli: &Cli, pid: Option<i32>, timeout: Duration) -> Option<ExitCode> {
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
pub(crate) fn logs(cli: &Cli, follow: bool) -> ExitCode {
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
pub(crate) fn export(
    cli: &Cli,
    sock: &Path,
    timeout: Duration,
    req: &Request,
    file: &Path,
) -> ExitCode {
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
pub(crate) fn import(
    cli: &Cli,
    sock: &Path,
    timeout: Duration,
    req: &Request,
    file: &Path,
) -> ExitCode {
    let f = match files::open_import(file) {
        Ok(f) => f,
        Err(e) => return file_error(cli, &e),
    };
    match Client::connect(sock, timeout).and_then(|mut c| c.request_with_file(req, f.as_fd())) {
        Ok(reply) => show(cli, req, reply, None),
        Err(e) => fail(cli, &e),
    }
}
