//! `mu-ctl --generate-assets DIR`: the man page and bash/zsh/fish completions, generated from
//! the clap definition at packaging time so they can never drift from the real options.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::fs;
use std::io;
use std::path::Path;

/// Writes `DIR/mu-ctl.1`, `DIR/mu-ctl.bash`, `DIR/_mu-ctl` and `DIR/mu-ctl.fish`.
pub fn generate(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let cmd = Cli::command();
    fs::write(dir.join("mu-ctl.1"), man_page(&cmd)?)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = cmd.clone();
        clap_complete::generate_to(shell, &mut cmd, "mu-ctl", dir)?;
    }
    Ok(())
}

/// mu-ctl(1): clap's title, synopsis, description and options, then one COMMANDS section with
/// every subcommand (clap_mangen would point to mu-ctl-kick(1) and friends, which nobody ships),
/// EXAMPLES, FILES, EXIT STATUS and SEE ALSO.
pub fn man_page(cmd: &clap::Command) -> io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut page = String::from(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let mut usage = vec![format!("\\fB{}\\fR", roff(sub.get_name()))];
        for arg in sub.get_arguments() {
            let name = arg.get_id().as_str().to_uppercase();
            usage.push(match arg.get_long() {
                Some(long) if arg.get_action().takes_values() => {
                    format!("[\\fB\\-\\-{}\\fR \\fI{}\\fR]", roff(long), name)
                }
                Some(long) => format!("[\\fB\\-\\-{}\\fR]", roff(long)),
                None => format!("\\fI{}\\fR", roff(&name)),
            });
        }
        page += &format!(".TP\n{}\n", usage.join(" "));
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string());
        page += &format!("{}\n", roff(&about.unwrap_or_default()));
        for arg in sub.get_arguments() {
            if let Some(help) = arg.get_help() {
                let name = match arg.get_long() {
                    Some(l) => format!("\\-\\-{}", roff(l)),
                    None => roff(&arg.get_id().as_str().to_uppercase()),
                };
                page += &format!(".br\n{name}: {}\n", roff(&help.to_string()));
            }
        }
    }
    page += EXTRA;
    out.extend_from_slice(page.as_bytes());
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Escapes text for roff: backslashes, hyphens, and a leading dot or quote.
fn roff(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

const EXTRA: &str = r#".SH EXAMPLES
.nf
mu\-ctl status                      # version, uptime, session, users, ports, state dir
mu\-ctl users                       # who is connected, latency, traffic
mu\-ctl kick bob \-\-reason "back in 5 minutes"
mu\-ctl reload                      # after editing /etc/mu\-server.toml
mu\-ctl \-\-instance blue users       # the session of mu\-serverd@blue.service
mu\-ctl \-\-json status | jq .status.nodes
mu\-ctl save && mu\-ctl export ~/before\-review.db   # written with your permissions
mu\-ctl stop                        # returns once the daemon has exited
mu\-ctl logs \-f                     # journalctl \-u mu\-serverd \-f
.fi
.SH FILES
.TP
/run/mu\-server/control.sock
the socket of mu\-serverd.service (mode 0660, group mu\-server).
.TP
/run/mu\-server/NAME/control.sock
the socket of mu\-serverd@NAME.service (\-\-instance NAME).
.TP
$XDG_RUNTIME_DIR/mu\-server/control.sock
the socket of a daemon an ordinary user started by hand; used when the first one does not exist.
.SH "EXIT STATUS"
.TP
0
success.
.TP
1
the daemon refused or failed the request (permission, unknown user, bad configuration on
reload), or did not exit within \-\-timeout after stop.
.TP
2
the daemon cannot be reached (not running, wrong socket).
.TP
64
usage error.
.SH "SEE ALSO"
mu\-serverd(8), journalctl(1), systemctl(1),
/usr/share/doc/mu\-server/mu\-ctl.md
"#;
