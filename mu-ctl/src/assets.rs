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
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    fs::write(dir.join("mu-ctl.1"), page)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = cmd.clone();
        clap_complete::generate_to(shell, &mut cmd, "mu-ctl", dir)?;
    }
    Ok(())
}
