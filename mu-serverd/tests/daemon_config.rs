//! The configuration as the admin meets it through the real binary: `--check-config`, refusals
//! with file and line before anything is bound, the override order, the reference's flags, and
//! a reload of a bad file that keeps the running configuration (old password still works), and
//! live reloads of passwords, log level and client versions.
//! Ports 22200-22299.

mod daemon_common;
use daemon_common::*;
use nix::sys::signal::Signal;

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = daemon_command(args, env).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn check_config_accepts_a_good_file_and_refuses_bad_ones_with_line() {
    let d = TempDir::new("chk");
    let good = d.write("good.toml", &config(&d, 22200, "", ""));
    let (code, out, _) = run(&["--check-config", "--config", good.to_str().unwrap()], &[]);
    assert_eq!(code, 0);
    let first = out.lines().next().unwrap_or("");
    assert_eq!(first, format!("configuration OK ({})", good.display()));

    let bad = d.write("bad.toml", "[server]\nport = 22200\nbnid = \"x\"\n");
    let (code, _, err) = run(&["--check-config", "--config", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!(
            "mu-serverd: {}:3: unknown field `bnid`",
            bad.display()
        )),
        "{err}"
    );

    let (code, _, err) = run(
        &[
            "--check-config",
            "--config",
            d.path("missing.toml").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("missing.toml: cannot read: No such file"),
        "{err}"
    );

    let (code, _, err) = run(
        &["--check-config", "--config", good.to_str().unwrap()],
        &[("PORT", "70000")],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("environment variable PORT: port 70000 is out of range"),
        "{err}"
    );

    let (code, _, err) = run(
        &[
            "--check-config",
            "--config",
            good.to_str().unwrap(),
            "-t",
            "x",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("command-line flag --timeout: 'x' is not an integer"),
        "{err}"
    );
}

#[test]
fn a_bad_file_stops_the_start_before_anything_is_bound() {
    let d = TempDir::new("badstart");
    let bad = d.write(
        "bad.toml",
        &format!("{}\n[server]\nport = 0\n", "# comment"),
    );
    let mut dm = Daemon::spawn(&["--config", bad.to_str().unwrap()], &[]);
    let st = dm.wait_exit(10);
    assert_eq!(st.code(), Some(1));
    let log = dm.log_text();
    assert!(
        log.contains(&format!(
            "{}:3: port: port 0 is out of range",
            bad.display()
        )),
        "{log}"
    );
    assert!(!log.contains("listening"), "{log}");
}

#[test]
fn overrides_defaults_file_env_flags_and_legacy_flags() {
    let d = TempDir::new("prec");
    let cfg = d.write("c.toml", &config(&d, 22210, "", ""));
    let c = cfg.to_str().unwrap();
    // file
    let mut dm = Daemon::spawn(&["--config", c], &[]);
    dm.wait_log("listening on 127.0.0.1 ports 22210, 22211, 22212", 10);
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    // env over file
    let mut dm = Daemon::spawn(
        &["--config", c],
        &[("PORT", "22220"), ("LOG_LEVEL", "WARNING")],
    );
    // LOG_LEVEL=WARNING hides the info lines, so the env port shows in an Auth round trip.
    assert!(auth(22220, "carol", None).starts_with("AUTH LOBBY"));
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    assert_eq!(dm.count_log("listening on"), 0, "{}", dm.log_text());
    assert_eq!(dm.count_log("INFO"), 0, "{}", dm.log_text());
    // flags over env, with the reference's single-dash long flags
    let mut dm = Daemon::spawn(
        &[
            "--config", c, "-p", "22230", "-l", "info", "-apwd", "adm", "-lf", "x.log",
        ],
        &[("PORT", "22220")],
    );
    dm.wait_log("listening on 127.0.0.1 ports 22230, 22231, 22232", 10);
    dm.wait_log(
        "--admin-password) is visible to every local user in `ps`",
        5,
    );
    dm.wait_log("--log-file/-lf is ignored", 5);
    assert!(auth(22230, "alice", None).starts_with("AUTH LOBBY"));
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
}

#[test]
fn env_port_is_used_when_no_flag() {
    let d = TempDir::new("envport");
    let cfg = d.write("c.toml", &config(&d, 22240, "", ""));
    let mut dm = Daemon::spawn(&["--config", cfg.to_str().unwrap()], &[("PORT", "22245")]);
    dm.wait_log("listening on 127.0.0.1 ports 22245, 22246, 22247", 10);
    assert!(auth(22245, "bob", None).starts_with("AUTH LOBBY"));
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
}

#[test]
fn reload_of_a_bad_file_keeps_the_old_config_and_a_good_one_applies() {
    let d = TempDir::new("reload");
    let port = 22250;
    let cfg = d.write("c.toml", &config(&d, port, "server_password = \"old\"", ""));
    let mut dm = Daemon::spawn(&["--config", cfg.to_str().unwrap()], &[]);
    dm.wait_log("ready", 10);
    assert!(auth(port, "u1", Some("old")).starts_with("AUTH LOBBY"));
    assert!(auth(port, "u2", Some("new")).contains("FAILED: wrong server password"));

    // A bad file: refused with file and line, old password still works.
    std::fs::write(
        &cfg,
        config(&d, port, "server_password = \"new\"\nbogus = 1", ""),
    )
    .unwrap();
    dm.signal(Signal::SIGHUP);
    let line = dm.wait_log("reload refused", 10);
    let want = format!(
        "reload refused, keeping the running configuration: {}:11: unknown field `bogus`",
        cfg.display()
    );
    assert!(line.contains(&want), "{line}\nwant {want}");
    assert!(auth(port, "u3", Some("old")).starts_with("AUTH LOBBY"));
    assert!(auth(port, "u4", Some("new")).contains("FAILED: wrong server password"));

    // The same through the control socket: mu-ctl reload gets the reason.
    let mut ctl =
        mu_ctl::client::Client::connect(&d.path("control.sock"), std::time::Duration::from_secs(5))
            .expect("control socket");
    match ctl.request(&mu_ctl::proto::Request::Reload) {
        Err(mu_ctl::client::ClientError::Daemon { code, message }) => {
            assert_eq!(code, mu_ctl::proto::ErrorCode::Failed);
            assert!(message.contains(&want), "{message}");
        }
        other => panic!("reload of a bad file answered {other:?}"),
    }
    assert!(auth(port, "u4b", Some("old")).starts_with("AUTH LOBBY"));

    // A good file: new password applies without a restart, port change needs one.
    std::fs::write(&cfg, config(&d, port + 10, "server_password = \"new\"", "")).unwrap();
    dm.signal(Signal::SIGHUP);
    dm.wait_log(
        "configuration reloaded; needs a restart to apply: server.port",
        10,
    );
    assert!(auth(port, "u5", Some("new")).starts_with("AUTH LOBBY"));
    assert!(auth(port, "u6", Some("old")).contains("FAILED: wrong server password"));

    // The log level applies live: at "warning" a login (an info line) is no longer logged.
    let quiet = config(&d, port, "server_password = \"new\"", "")
        .replace("level = \"debug\"", "level = \"warning\"");
    std::fs::write(&cfg, quiet).unwrap();
    assert!(matches!(
        ctl.request(&mu_ctl::proto::Request::Reload),
        Ok(mu_ctl::proto::Reply::Done { .. })
    ));
    let logins = dm.count_log("Auth request");
    assert!(logins >= 6, "{}", dm.log_text());
    assert!(auth(port, "u7", Some("new")).starts_with("AUTH LOBBY"));
    // A refusal is a warning: once its line is in, any info line of u7 would be too.
    assert!(auth(port, "u8", Some("bad")).contains("FAILED"));
    dm.wait_log("u8", 10);
    assert_eq!(dm.count_log("Auth request"), logins, "{}", dm.log_text());

    // The admitted client versions apply live too (issue 17): this client speaks 0.9.10.
    let v099 = config(&d, port, "server_password = \"new\"", "").replace(
        "timeout_ms = 3000\n",
        "timeout_ms = 3000\nclient_versions = [\"0.9.9\"]\n",
    );
    std::fs::write(&cfg, v099).unwrap();
    assert!(matches!(
        ctl.request(&mu_ctl::proto::Request::Reload),
        Ok(mu_ctl::proto::Reply::Done { .. })
    ));
    let refused = auth(port, "u9", Some("new"));
    assert!(
        refused.contains("FAILED: wrong client version (0.9.10 != 0.9.9)"),
        "{refused}"
    );

    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
}

#[test]
fn generate_assets_writes_man_page_and_completions() {
    let d = TempDir::new("assets");
    let out = d.path("assets");
    let (code, _, err) = run(&["--generate-assets", out.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let man = std::fs::read_to_string(out.join("mu-serverd.8")).unwrap();
    assert!(
        man.contains(".TH mu-serverd 8") && man.contains("check\\-config"),
        "{man}"
    );
    let bash = std::fs::read_to_string(out.join("mu-serverd.bash")).unwrap();
    assert!(bash.contains("--check-config") && bash.contains("--server-password"));
    assert!(std::fs::read_to_string(out.join("_mu-serverd"))
        .unwrap()
        .contains("--config"));
    assert!(std::fs::read_to_string(out.join("mu-serverd.fish"))
        .unwrap()
        .contains("check-config"));
}
