//! `mu-serverd --check-config [--user USER]`: validates the configuration the way a start would
//! and prints the effective settings an operator needs to confirm (bind, ports, state dir,
//! socket, whether a server password is set and admin login enabled), never a password.
//!
//! With `--user`, the whole check runs in a child process that has become USER (its groups
//! too), so every file the daemon would read as the service user (the config file, password
//! files, the import file, the state directory) is read with that user's rights: a password
//! file only root can read fails here, with the file and the reason, and not at the next start
//! or reload. Switching users needs root, unless USER is the caller itself.

use crate::config::{self, Config, Sources};
use nix::unistd::{ForkResult, User};
use std::path::Path;

/// Runs the check; returns the exit code (0 good, 1 refused). `load` loads the configuration.
pub fn run(user: Option<&str>, load: &dyn Fn() -> Result<config::Loaded, String>) -> i32 {
    let Some(name) = user else {
        return check(load, None);
    };
    let u = match User::from_name(name) {
        Ok(Some(u)) => u,
        Ok(None) => return refuse(&format!("--user {name}: no such user")),
        Err(e) => return refuse(&format!("--user {name}: cannot look the user up: {e}")),
    };
    let me = nix::unistd::geteuid();
    if me == u.uid {
        return check(load, Some(name));
    }
    if !me.is_root() {
        return refuse(&format!(
            "--user {name}: checking as another user needs root (run it with sudo)"
        ));
    }
    // SAFETY: called from main before any thread is started (single-threaded process), and the
    // child only switches user, reads files and prints before it exits.
    match unsafe { nix::unistd::fork() } {
        Err(e) => refuse(&format!("--user {name}: cannot fork: {e}")),
        Ok(ForkResult::Child) => {
            let code = match become_user(&u) {
                Ok(()) => check(load, Some(name)),
                Err(e) => refuse(&format!("--user {name}: cannot switch to the user: {e}")),
            };
            std::process::exit(code)
        }
        Ok(ForkResult::Parent { child }) => match nix::sys::wait::waitpid(child, None) {
            Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => code,
            other => refuse(&format!("--user {name}: the check ended with {other:?}")),
        },
    }
}

fn become_user(u: &User) -> nix::Result<()> {
    let cname = std::ffi::CString::new(u.name.as_str()).map_err(|_| nix::errno::Errno::EINVAL)?;
    nix::unistd::initgroups(&cname, u.gid)?;
    nix::unistd::setgid(u.gid)?;
    nix::unistd::setuid(u.uid)
}

fn refuse(msg: &str) -> i32 {
    eprintln!("mu-serverd: {msg}");
    1
}

/// Loads, checks the paths the daemon needs, prints the report.
fn check(load: &dyn Fn() -> Result<config::Loaded, String>, user: Option<&str>) -> i32 {
    let loaded = match load() {
        Ok(l) => l,
        Err(e) => return refuse(&e),
    };
    let cfg = loaded.config;
    if let Err(e) = paths(&cfg) {
        return refuse(&e);
    }
    let from = cfg
        .file
        .as_ref()
        .map_or("built-in defaults".into(), |p| p.display().to_string());
    match user {
        Some(u) => println!("configuration OK ({from}), read as user {u}"),
        None => println!("configuration OK ({from})"),
    }
    for w in &loaded.warnings {
        println!("warning: {w}");
    }
    print!("{}", settings(&cfg));
    0
}

/// The import file must be readable; the state directory, when it exists, writable.
fn paths(cfg: &Config) -> Result<(), String> {
    use nix::unistd::{access, AccessFlags};
    if !cfg.storage.enabled {
        return Ok(());
    }
    if let Some(f) = &cfg.storage.import {
        std::fs::File::open(f)
            .map_err(|e| format!("[storage] import: cannot read {}: {e}", f.display()))?;
    }
    let dir = &cfg.storage.state_dir;
    if dir.exists() {
        access(
            dir.as_path(),
            AccessFlags::R_OK | AccessFlags::W_OK | AccessFlags::X_OK,
        )
        .map_err(|e| {
            format!(
                "state directory {}: not writable ({}); it must belong to the user the \
                     daemon runs as",
                dir.display(),
                std::io::Error::from(e)
            )
        })?;
    }
    Ok(())
}

/// The effective settings, one per line, indented under the OK line.
pub fn settings(cfg: &Config) -> String {
    let s = &cfg.server;
    let state = if cfg.storage.enabled {
        let d = &cfg.storage.state_dir;
        let note = if d.exists() {
            ""
        } else {
            " (created at start)"
        };
        format!("{}{note}", d.display())
    } else {
        "none: persistence disabled, the session lives in memory only".into()
    };
    let socket = if cfg.control.enabled {
        let group = cfg.control.group.as_deref().unwrap_or("the daemon's own");
        format!("{} (group: {group})", cfg.control.socket.display())
    } else {
        "disabled".into()
    };
    let server_pw = if cfg.auth.server_password.is_some() {
        "set (private session)"
    } else {
        "not set (public session: any password is accepted)"
    };
    let admin = if cfg.auth.admin_password.is_some() {
        "enabled (admin password set)"
    } else {
        "disabled (no admin password)"
    };
    let rows = [
        ("bind", s.bind.clone()),
        (
            "ports",
            format!(
                "{} (command), {} (data), {} (heartbeat)",
                s.port,
                s.port + 1,
                s.port + 2
            ),
        ),
        ("state dir", state),
        ("control socket", socket),
        ("server password", server_pw.into()),
        ("admin login", admin.into()),
    ];
    rows.iter()
        .map(|(k, v)| format!("  {:<16} {v}\n", format!("{k}:")))
        .collect()
}

/// The loader `main` passes in: the same sources a start would use.
pub fn loader<'a>(
    path: &'a Path,
    explicit: bool,
    flags: &'a config::Overrides,
) -> impl Fn() -> Result<config::Loaded, String> + 'a {
    move || {
        let env = |k: &str| std::env::var(k).ok();
        let sources = Sources {
            path,
            explicit,
            env: &env,
            flags,
        };
        config::load(&sources).map_err(|e| e.to_string())
    }
}
