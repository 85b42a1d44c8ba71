//! mu-ctl's command line, declared once with clap so that parsing, `--help`, the man page and
//! the shell completions all come from the same definition.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Manage a running mu-serverd (Blender Multi-User server) over its control socket.
///
/// Exit status: 0 success, 1 the daemon refused or failed the request, 2 the daemon cannot be
/// reached, 64 usage error.
#[derive(Debug, Parser)]
#[command(name = "mu-ctl", version, about, long_about)]
pub struct Cli {
    /// Control socket of the daemon [default: /run/mu-server/control.sock]
    #[arg(long, value_name = "PATH", global = true, conflicts_with = "instance")]
    pub socket: Option<PathBuf>,

    /// Talk to the instance NAME of mu-serverd@NAME.service (/run/mu-server/NAME/control.sock)
    #[arg(long, value_name = "NAME", global = true)]
    pub instance: Option<String>,

    /// Print machine-readable JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Seconds to wait for the daemon before giving up
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
    /// Stop the daemon gracefully (clients are told, the session is saved)
    Stop,
    /// Show version, uptime, session state, nodes, users, ports, config file and last save
    Status,
    /// Save the session to the state directory now
    Save,
    /// Write the session to FILE (created by mu-ctl with your permissions; a regular file)
    Export { file: PathBuf },
    /// Replace the session with the one in FILE (opened by mu-ctl with your permissions)
    Import { file: PathBuf },
    /// Drop the whole session (all nodes); requires --yes
    Reset {
        /// Confirm that the session should be discarded
        #[arg(long)]
        yes: bool,
    },
}
