//! mu-ctl's command line, declared once with clap so that parsing, `--help`, the man page and
//! the shell completions all come from the same definition.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Manage a running mu-serverd (Blender Multi-User server) over its control socket.
///
/// Exit status: 0 success, 1 the daemon refused or failed the request, 2 the daemon cannot be
/// reached, 64 usage error.
/// Shown by `--help` and in the man page (EXTRA section).
const TIME_HELP: &str = "\
TIME (export --at, restore --at, history --since):
  14:02, 14:02:30          today, local time (yesterday if that is still to come)
  2026-12-07T14:02:30      local time; a trailing Z means UTC; .mmm optional
  -10m, -90s, -2h, -1d     that long ago
  @1796652150.25           seconds since the Unix epoch
  now
The history is kept as long as [storage] history and history_max_bytes allow (default 24h,
4 GiB); every journaled change is a restore point.";

#[derive(Debug, Parser)]
#[command(name = "mu-ctl", version, about, long_about, after_long_help = TIME_HELP)]
pub struct Cli {
    /// Control socket of the daemon [default: /run/mu-server/control.sock, else
    /// $XDG_RUNTIME_DIR/mu-server/control.sock when only that exists (a daemon run by hand)]
    #[arg(long, value_name = "PATH", global = true, conflicts_with = "instance")]
    pub socket: Option<PathBuf>,

    /// Talk to the instance NAME of mu-serverd@NAME.service (/run/mu-server/NAME/control.sock)
    #[arg(long, value_name = "NAME", global = true)]
    pub instance: Option<String>,

    /// Print machine-readable JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Seconds to wait for the daemon before giving up (and for `stop`, for it to exit)
    #[arg(long, value_name = "SECONDS", global = true, default_value_t = 30)]
    pub timeout: u64,

    /// Write the man page and shell completions into DIR (used when packaging)
    #[arg(long, value_name = "DIR", hide = true)]
    pub generate_assets: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List connected users: name, admin, status, latency, connected since, peer, traffic
    Users,
    /// Disconnect a user; they see the reason in Blender
    Kick {
        /// The user name as shown by `mu-ctl users`
        user: String,
        /// Text shown to the kicked user
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Re-read the configuration file; prints why if it was refused
    Reload,
    /// Stop the daemon gracefully (clients are told, the session is saved); waits until its
    /// process has exited, at most --timeout seconds
    Stop {
        /// Return as soon as the daemon has accepted the request
        #[arg(long)]
        no_wait: bool,
    },
    /// Show version, uptime, session state, nodes, users, ports, config file and last save
    Status,
    /// Save the session to the state directory now
    Save,
    /// Write the session to FILE (created by mu-ctl with your permissions; a regular file)
    Export {
        file: PathBuf,
        /// Write the session as it was at TIME instead: 14:02, 14:02:30, 2026-12-07T14:02:30
        /// (local time; a trailing Z: UTC), -10m, -2h, or @UNIX_SECONDS
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: Option<String>,
    },
    /// List the restore points kept: per minute, the nodes, bytes, who was connected and the
    /// busiest changes ("alice deleted 312 nodes")
    History {
        /// Only from TIME on (same formats as export --at)
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        since: Option<String>,
    },
    /// Put the live session back to how it was at TIME; every client is disconnected and gets
    /// the restored scene when it rejoins; the history after TIME is kept (a restore can be
    /// undone by restoring to a later TIME). Requires --yes
    Restore {
        /// Same formats as export --at
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: String,
        /// Confirm that every client should be disconnected and the session replaced
        #[arg(long)]
        yes: bool,
    },
    /// Replace the session with the one in FILE (opened by mu-ctl with your permissions)
    Import { file: PathBuf },
    /// Show the daemon's log: journalctl for mu-serverd.service, or mu-serverd@NAME.service
    /// with --instance
    Logs {
        /// Keep printing new lines as they are logged
        #[arg(short, long)]
        follow: bool,
    },
    /// Drop the whole session (all nodes); requires --yes
    Reset {
        /// Confirm that the session should be discarded
        #[arg(long)]
        yes: bool,
    },
}
