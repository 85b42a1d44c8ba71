//! The command line. Besides its own flags it accepts the reference server's, so existing
//! start scripts keep working: `-p/--port`, `-t/--timeout`, `-l/--log-level`,
//! `-apwd/--admin-password`, `-spwd/--server-password`, and `-lf/--log-file` and `--attached`
//! (accepted and ignored with a warning). clap has no multi-letter short flags, so
//! [`rewrite_legacy`] turns `-apwd`, `-spwd` and `-lf` into their long forms before parsing.

use crate::config::Overrides;
use clap::{CommandFactory, Parser};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "mu-serverd",
    version,
    about = "Server for Blender Multi-User sessions (replication 0.9.10 protocol)",
    long_about = "Server for Blender Multi-User sessions, speaking the protocol of the Python \
                  `replication` 0.9.10 server. Settings come from built-in defaults, then the \
                  configuration file, then the environment (PORT, TIMEOUT, LOG_LEVEL, \
                  ADMIN_PASSWORD, SERVER_PASSWORD, ADMIN_PASSWORD_FILE, SERVER_PASSWORD_FILE, \
                  LOG_TARGET), then these flags. SIGHUP reloads the \
                  configuration; SIGTERM stops gracefully."
)]
pub struct Cli {
    /// Configuration file [default: /etc/mu-server.toml, skipped if absent]
    #[arg(short = 'c', long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Validate the configuration (file, environment, flags), print the effective settings
    /// (bind, ports, state dir, control socket, server password set or not, admin login
    /// enabled or not; never a password) and exit 0 or 1
    #[arg(long)]
    pub check_config: bool,
    /// With --check-config: read every file as USER would (the service user, e.g. mu-server),
    /// so a password file that user cannot read fails now, not at the next start or reload
    #[arg(long, value_name = "USER", requires = "check_config")]
    pub user: Option<String>,
    /// Base port: command on PORT, data on PORT+1, heartbeat on PORT+2
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<String>,
    /// Client heartbeat timeout in milliseconds
    #[arg(short = 't', long, value_name = "MS")]
    pub timeout: Option<String>,
    /// Log level: error, warning, info, debug, trace (Python names accepted)
    #[arg(short = 'l', long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Admin password (also -apwd). Visible in `ps`: prefer the config file
    #[arg(long, value_name = "PASSWORD")]
    pub admin_password: Option<String>,
    /// Server password (also -spwd). Visible in `ps`: prefer the config file
    #[arg(long, value_name = "PASSWORD")]
    pub server_password: Option<String>,
    /// Reference server's log file (-lf); ignored: logs go to journald, syslog or stderr
    #[arg(long, value_name = "FILE", hide = true)]
    pub log_file: Option<String>,
    /// Reference server's --attached; ignored
    #[arg(long, hide = true)]
    pub attached: bool,
    /// Move the saved session state aside (into STATE_DIR/discarded-<time>/) and start a new
    /// empty session; for state that can no longer be read
    #[arg(long)]
    pub reset_state: bool,
    /// Write the man page and shell completions into DIR and exit (packaging)
    #[arg(long, value_name = "DIR", hide = true)]
    pub generate_assets: Option<PathBuf>,
}

impl Cli {
    /// Parses the process's arguments (after [`rewrite_legacy`]).
    pub fn from_args() -> Cli {
        Cli::parse_from(rewrite_legacy(std::env::args_os()))
    }

    pub fn overrides(&self) -> Overrides {
        Overrides {
            port: self.port.clone(),
            timeout: self.timeout.clone(),
            log_level: self.log_level.clone(),
            admin_password: self.admin_password.clone(),
            server_password: self.server_password.clone(),
        }
    }

    /// Warnings about accepted-but-ignored reference flags.
    pub fn ignored_flags(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.log_file.is_some() {
            w.push("--log-file/-lf is ignored: logs go to journald, syslog or stderr".into());
        }
        if self.attached {
            w.push("--attached is ignored".into());
        }
        w
    }
}

/// `-apwd x` -> `--admin-password x`, `-spwd=x` -> `--server-password=x`, `-lf f` ->
/// `--log-file f`. Arguments after `--` are left alone.
pub fn rewrite_legacy<I: IntoIterator<Item = OsString>>(args: I) -> Vec<OsString> {
    const MAP: [(&str, &str); 3] = [
        ("-apwd", "--admin-password"),
        ("-spwd", "--server-password"),
        ("-lf", "--log-file"),
    ];
    let mut out = Vec::new();
    let mut rest = false;
    for a in args {
        if rest {
            out.push(a);
            continue;
        }
        let Some(s) = a.to_str() else {
            out.push(a);
            continue;
        };
        if s == "--" {
            rest = true;
            out.push(a);
            continue;
        }
        let mut new = None;
        for (old, long) in MAP {
            if s == old {
                new = Some(OsString::from(long));
            } else if let Some(v) = s.strip_prefix(old).and_then(|r| r.strip_prefix('=')) {
                new = Some(OsString::from(format!("{long}={v}")));
            }
        }
        out.push(new.unwrap_or(a));
    }
    out
}

/// Writes `mu-serverd.8`, `mu-serverd.bash`, `_mu-serverd` and `mu-serverd.fish` into `dir`.
pub fn generate_assets(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone()).section("8");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    page.extend_from_slice(MAN_EXTRA.as_bytes());
    man.render_version_section(&mut page)?;
    std::fs::write(dir.join("mu-serverd.8"), page)?;
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
    ] {
        let mut cmd = cmd.clone();
        clap_complete::generate_to(shell, &mut cmd, "mu-serverd", dir)?;
    }
    Ok(())
}

/// mu-serverd(8) after the options.
const MAN_EXTRA: &str = r#".SH EXAMPLES
.nf
# Before (re)starting the service: the config read as the service user, effective settings
mu\-serverd \-\-check\-config \-\-user mu\-server \-\-config /etc/mu\-server.toml
# By hand, without systemd (session in the state dir, socket found by mu\-ctl)
mu\-serverd \-\-config ./mu\-server.toml
# The reference server's flags still work
mu\-serverd \-p 5555 \-t 5000 \-l INFO
# Start over when the saved session can no longer be read (old files are kept aside)
mu\-serverd \-\-config /etc/mu\-server.toml \-\-reset\-state
.fi
.SH FILES
.TP
/etc/mu\-server.toml
the configuration (\-\-config); /etc/mu\-server/NAME.toml for mu\-serverd@NAME.service.
.TP
/var/lib/mu\-server
the saved session: snapshots, journals and mu\-serverd.lock, which one daemon holds while it
runs (a second daemon on the same directory refuses to start); /var/lib/mu\-server/NAME for
an instance. An ordinary user who cannot create it gets $XDG_STATE_HOME/mu\-server
(~/.local/state/mu\-server).
.TP
/run/mu\-server/control.sock
the control socket for mu\-ctl(1); /run/mu\-server/NAME/control.sock for an instance;
$XDG_RUNTIME_DIR/mu\-server/control.sock for an ordinary user.
.SH "EXIT STATUS"
.TP
0
stopped by SIGTERM, SIGINT or mu\-ctl stop; or \-\-check\-config found no problem.
.TP
1
the configuration was refused (file, line and reason on stderr), or the start failed: the
state directory is held by another mu\-serverd, a port or the control socket is in use, the
saved session cannot be read.
.TP
2
usage error.
.SH "SEE ALSO"
mu\-ctl(1), systemctl(1), journalctl(1), systemd.service(5),
/usr/share/doc/mu\-server/install.md, /usr/share/doc/mu\-server/README.md
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let v = rewrite_legacy(args.iter().map(OsString::from));
        Cli::try_parse_from(v).expect("parses")
    }

    #[test]
    fn reference_flags_parse() {
        let c = parse(&[
            "mu-serverd",
            "-p",
            "5560",
            "-t",
            "3000",
            "-l",
            "DEBUG",
            "-apwd",
            "adm",
            "-spwd=srv",
            "-lf",
            "x.log",
            "--attached",
        ]);
        assert_eq!(c.port.as_deref(), Some("5560"));
        assert_eq!(c.timeout.as_deref(), Some("3000"));
        assert_eq!(c.log_level.as_deref(), Some("DEBUG"));
        assert_eq!(c.admin_password.as_deref(), Some("adm"));
        assert_eq!(c.server_password.as_deref(), Some("srv"));
        assert_eq!(c.ignored_flags().len(), 2);
    }

    #[test]
    fn values_after_double_dash_are_not_rewritten() {
        let v = rewrite_legacy(["x", "--", "-apwd"].iter().map(OsString::from));
        assert_eq!(v, vec!["x", "--", "-apwd"]);
        // A value that merely starts like a flag is a separate argument and stays as it is.
        let v = rewrite_legacy(["x", "--port", "-apwdx"].iter().map(OsString::from));
        assert_eq!(v, vec!["x", "--port", "-apwdx"]);
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
