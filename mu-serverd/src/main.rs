//! mu-serverd: parse the command line, load the configuration, set up logging, bind, serve.
//! Every concern lives in the library; this file only wires them in order and maps failures to
//! exit codes (0 ok, 1 bad configuration or start failure, 2 usage (clap)).

use mu_serverd::cli::Cli;
use mu_serverd::config::{self, Sources};
use mu_serverd::daemon::{self, session_config::session_config, Daemon, Reloader};
use mu_serverd::session::Session;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::from_args();
    if let Some(dir) = &cli.generate_assets {
        return match mu_serverd::cli::generate_assets(dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("cannot write assets to {}: {e}", dir.display())),
        };
    }
    // Before any thread exists, so every later thread inherits the blocked mask.
    let signals = match daemon::signals::Signals::install() {
        Ok(s) => s,
        Err(e) => return fail(&format!("cannot set up signal handling: {e}")),
    };
    let reloader = Reloader {
        path: cli
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_PATH)),
        explicit: cli.config.is_some(),
        flags: cli.overrides(),
    };
    if cli.check_config {
        let load = daemon::check::loader(&reloader.path, reloader.explicit, &reloader.flags);
        return ExitCode::from(daemon::check::run(cli.user.as_deref(), &load) as u8);
    }
    let env = |k: &str| std::env::var(k).ok();
    let sources = Sources {
        path: &reloader.path,
        explicit: reloader.explicit,
        env: &env,
        flags: &reloader.flags,
    };
    let loaded = match config::load(&sources) {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    let mut cfg = loaded.config;
    match mu_serverd::logging::init(&cfg.log) {
        Ok((_, Some(note))) => log::info!("logging to stderr: {note}"),
        Ok(_) => {}
        Err(e) => return fail(&e),
    }
    for w in loaded.warnings.iter().chain(&cli.ignored_flags()) {
        log::warn!("{w}");
    }
    // Order matters (issue 15): the state lock first, so a second daemon on the same session
    // stops before touching anything; then the ports and the control socket, so a daemon that
    // cannot serve stops before it rewrites the state; only then the session is loaded.
    daemon::persist::resolve_state_dir(&mut cfg);
    let _lock = if cfg.storage.enabled {
        match daemon::lock::acquire(&cfg.storage.state_dir) {
            Ok(l) => Some(l),
            Err(e) => return fail_logged(&e),
        }
    } else {
        None
    };
    let bound = match Daemon::bind(&cfg) {
        Ok(b) => b,
        Err(e) => return fail_logged(&e),
    };
    let mut session = Session::new(session_config(&cfg));
    let store = match daemon::persist::open(&cfg, &mut session, cli.reset_state) {
        Ok(s) => s,
        Err(e) => return fail_logged(&e.to_string()),
    };
    match Daemon::start(bound, cfg, reloader, signals, session, store) {
        Ok(d) => ExitCode::from(d.run() as u8),
        Err(e) => fail_logged(&e),
    }
}

/// Before logging is set up: one line on stderr (with the error priority when stderr is the
/// journal, so `journalctl -p err` shows why the service did not start).
fn fail(msg: &str) -> ExitCode {
    let prio = if mu_serverd::logging::stderr_is_journal() {
        "<3>"
    } else {
        ""
    };
    eprintln!("{prio}mu-serverd: {msg}");
    ExitCode::FAILURE
}

fn fail_logged(msg: &str) -> ExitCode {
    log::error!("cannot start: {msg}");
    ExitCode::FAILURE
}
