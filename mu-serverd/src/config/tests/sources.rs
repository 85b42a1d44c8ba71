//! Where settings come from besides the file: the precedence defaults < file < environment <
//! flags, passwords from files and systemd credentials (never printed), systemd's directories,
//! the container keys.

use super::*;

#[test]
fn password_files_and_credentials() {
    let t = Tmp::new("pw");
    let pw = t.write("admin.pw", "s3cret\n");
    let empty = t.write("empty.pw", "");
    let cred = t.0.join("creds");
    std::fs::create_dir_all(&cred).unwrap();
    std::fs::write(cred.join("server-password"), "from-cred\n").unwrap();
    std::fs::write(cred.join("admin-password"), "cred-admin").unwrap();
    let p = t.write(
        "c.toml",
        &format!("[auth]\nadmin_password_file = \"{}\"\n", pw.display()),
    );
    let l = run(
        &p,
        true,
        &[("CREDENTIALS_DIRECTORY", cred.to_str().unwrap())],
        &Overrides::default(),
    )
    .unwrap();
    // The file's admin_password_file wins over the credential; the credential fills server.
    assert_eq!(l.config.auth.admin_password.unwrap().expose(), "s3cret");
    assert_eq!(l.config.auth.server_password.unwrap().expose(), "from-cred");

    let p = t.write(
        "e.toml",
        &format!("[auth]\nadmin_password_file = \"{}\"\n", empty.display()),
    );
    let e = run(&p, true, &[], &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(&format!(
            "2: admin_password_file: password file {} is empty",
            empty.display()
        )),
        "{e}"
    );
}

#[test]
fn precedence_defaults_file_env_flags() {
    let t = Tmp::new("prec");
    let p = t.write("c.toml", "[server]\nport = 6000\ntimeout_ms = 3000\n[log]\nlevel = \"warning\"\n[auth]\nserver_password = \"file\"\n");
    let none = Overrides::default();
    // file over defaults
    let l = run(&p, true, &[], &none).unwrap().config;
    assert_eq!(
        (l.server.port, l.server.timeout_ms, l.log.level),
        (6000, 3000, log::LevelFilter::Warn)
    );
    assert_eq!(l.auth.server_password.unwrap().expose(), "file");
    assert_eq!(l.server.max_clients, Config::default().server.max_clients);
    // env over file
    let env = [
        ("PORT", "7000"),
        ("TIMEOUT", "4000"),
        ("LOG_LEVEL", "DEBUG"),
        ("SERVER_PASSWORD", "env"),
        ("ADMIN_PASSWORD", "envadmin"),
    ];
    let l = run(&p, true, &env, &none).unwrap();
    assert_eq!(
        (
            l.config.server.port,
            l.config.server.timeout_ms,
            l.config.log.level
        ),
        (7000, 4000, log::LevelFilter::Debug)
    );
    assert_eq!(l.config.auth.server_password.unwrap().expose(), "env");
    assert_eq!(l.warnings.len(), 2);
    // flags over env
    let flags = Overrides {
        port: Some("8000".into()),
        timeout: Some("5000".into()),
        log_level: Some("error".into()),
        admin_password: Some("flagadmin".into()),
        server_password: Some("flag".into()),
    };
    let l = run(&p, true, &env, &flags).unwrap();
    assert_eq!(
        (
            l.config.server.port,
            l.config.server.timeout_ms,
            l.config.log.level
        ),
        (8000, 5000, log::LevelFilter::Error)
    );
    assert_eq!(l.config.auth.server_password.unwrap().expose(), "flag");
    assert_eq!(l.config.auth.admin_password.unwrap().expose(), "flagadmin");
    assert!(l
        .warnings
        .iter()
        .any(|w| w.contains("--admin-password") && w.contains("`ps`")));
}

#[test]
fn bad_env_and_flags_name_their_source() {
    let none = Overrides::default();
    let nofile = Path::new("/nonexistent/mu.toml");
    let e = run(nofile, false, &[("PORT", "0")], &none)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("environment variable PORT: port 0 is out of range"),
        "{e}"
    );
    let e = run(nofile, false, &[("TIMEOUT", "abc")], &none)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "environment variable TIMEOUT: 'abc' is not an integer");
    let flags = Overrides {
        port: Some("70000".into()),
        ..Default::default()
    };
    let e = run(nofile, false, &[], &flags).unwrap_err().to_string();
    assert!(
        e.starts_with("command-line flag --port: port 70000 is out of range"),
        "{e}"
    );
    let flags = Overrides {
        log_level: Some("chatty".into()),
        ..Default::default()
    };
    let e = run(nofile, false, &[], &flags).unwrap_err().to_string();
    assert!(
        e.starts_with("command-line flag --log-level: log level 'chatty'"),
        "{e}"
    );
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?}"), "Secret(***)");
}

#[test]
fn systemd_directories_replace_the_defaults_but_not_the_file() {
    let env = [
        ("STATE_DIRECTORY", "/var/lib/mu-server/blue:/var/lib/other"),
        ("RUNTIME_DIRECTORY", "/run/mu-server/blue"),
    ];
    let absent = Path::new("/nonexistent/mu-server.toml");
    let l = run(absent, false, &env, &Overrides::default()).unwrap();
    assert_eq!(
        l.config.storage.state_dir,
        Path::new("/var/lib/mu-server/blue")
    );
    assert_eq!(
        l.config.control.socket,
        Path::new("/run/mu-server/blue/control.sock")
    );

    let t = Tmp::new("sysdirs");
    let p = t.write(
        "c.toml",
        "[storage]\nstate_dir = \"/srv/mu\"\n[control]\nsocket = \"/srv/mu.sock\"\n",
    );
    let l = run(&p, true, &env, &Overrides::default()).unwrap();
    assert_eq!(l.config.storage.state_dir, Path::new("/srv/mu"));
    assert_eq!(l.config.control.socket, Path::new("/srv/mu.sock"));
}

/// The container keys: `X_PASSWORD_FILE` (Docker secrets) beats the file's password like
/// `X_PASSWORD` does, never together with it; `LOG_TARGET` beats `[log] target`.
#[test]
fn container_env_password_files_and_log_target() {
    let t = Tmp::new("container");
    let pw = t.write("admin_password", "from-secret\n");
    let empty = t.write("empty", "");
    let p = t.write(
        "c.toml",
        "[auth]\nadmin_password = \"file\"\n[log]\ntarget = \"syslog\"\n",
    );
    let none = Overrides::default();
    let pw_s = pw.to_str().unwrap();
    let env = [("ADMIN_PASSWORD_FILE", pw_s), ("LOG_TARGET", "stderr")];
    let l = run(&p, true, &env, &none).unwrap();
    assert_eq!(
        l.config.auth.admin_password.unwrap().expose(),
        "from-secret"
    );
    assert_eq!(l.config.log.target, LogTarget::Stderr);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);

    let err = |env: &[(&str, &str)]| run(&p, true, env, &none).unwrap_err().to_string();
    assert_eq!(
        err(&[("ADMIN_PASSWORD_FILE", pw_s), ("ADMIN_PASSWORD", "x")]),
        "environment variable ADMIN_PASSWORD_FILE: ADMIN_PASSWORD is set too; keep one"
    );
    assert_eq!(
        err(&[("SERVER_PASSWORD_FILE", empty.to_str().unwrap())]),
        format!(
            "environment variable SERVER_PASSWORD_FILE: password file {} is empty",
            empty.display()
        )
    );
    assert!(err(&[("SERVER_PASSWORD_FILE", "/nonexistent/pw")])
        .starts_with("environment variable SERVER_PASSWORD_FILE: cannot read password file"));
    assert_eq!(
        err(&[("ADMIN_PASSWORD_FILE", "run/secrets/pw")]),
        "environment variable ADMIN_PASSWORD_FILE: 'run/secrets/pw' is not an absolute path"
    );
    assert_eq!(
        err(&[("LOG_TARGET", "docker")]),
        "environment variable LOG_TARGET: 'docker' is not one of \"auto\", \"journal\", \
         \"syslog\", \"stderr\""
    );
}
