//! The operator's first hour (issue 15) on the real binary: `--check-config` prints the
//! effective settings (and never a password), and `--check-config --user USER` reads every file
//! as that user would, so a password file the service user cannot read fails before a start,
//! with the file and the reason.

mod daemon_common;
use daemon_common::*;
use std::os::unix::fs::PermissionsExt;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = daemon_command(args, &[]).output().expect("run mu-serverd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn check_config_prints_the_effective_settings_without_passwords() {
    let d = TempDir::new("opset");
    let cfg = d.write(
        "c.toml",
        &format!(
            "[server]\nbind = \"127.0.0.1\"\nport = 22250\n[auth]\nserver_password = \"pw-s3cr3t\"\n\
             [storage]\nstate_dir = \"{}\"\n[control]\nsocket = \"{}\"\n",
            d.path("state").display(),
            d.path("ctl.sock").display()
        ),
    );
    let (code, out, err) = run(&["--check-config", "--config", cfg.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "bind:            127.0.0.1".to_string(),
        "22250 (command), 22251 (data), 22252 (heartbeat)".into(),
        format!(
            "state dir:       {} (created at start)",
            d.path("state").display()
        ),
        format!("control socket:  {}", d.path("ctl.sock").display()),
        "server password: set".into(),
        "admin login:     disabled".into(),
    ] {
        assert!(out.contains(&want), "{want:?} not in:\n{out}");
    }
    assert!(!out.contains("pw-s3cr3t") && !err.contains("pw-s3cr3t"));
    assert!(
        !d.path("state").exists(),
        "--check-config must not create anything"
    );
}

#[test]
fn check_config_as_the_service_user_fails_on_a_password_file_it_cannot_read() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: switching to user nobody needs root");
        return;
    }
    let d = TempDir::new("opuser");
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let pw = d.write("admin-password", "adm\n");
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let cfg = d.write(
        "c.toml",
        &format!(
            "[server]\nport = 22253\n[auth]\nadmin_password_file = \"{}\"\n[storage]\nenabled = false\n",
            pw.display()
        ),
    );
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let c = cfg.to_str().expect("utf8");
    // As root it reads: OK. As nobody: the file and the reason, exit 1.
    let (code, out, err) = run(&["--check-config", "--config", c]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("admin login:     enabled"), "{out}");
    let (code, out, err) = run(&["--check-config", "--user", "nobody", "--config", c]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("cannot read password file {}", pw.display()))
            && err.contains("Permission denied"),
        "{err}"
    );
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, out, err) = run(&["--check-config", "--user", "nobody", "--config", c]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("read as user nobody"), "{out}");
    let (code, _, err) = run(&["--check-config", "--user", "no-such-user-mu", "--config", c]);
    assert_eq!(code, 1);
    assert!(err.contains("no-such-user-mu: no such user"), "{err}");
}

#[test]
fn a_state_dir_that_cannot_be_created_names_the_fix_not_reset_state() {
    let d = TempDir::new("opnodir");
    // Nobody, not even root, can create a directory under a regular file.
    d.write("file", "x");
    let state = d.path("file").join("state");
    let cfg = d.write(
        "c.toml",
        &format!(
            "[server]\nbind = \"127.0.0.1\"\nport = 22256\n[storage]\nstate_dir = \"{}\"\n\
             [control]\nenabled = false\n[log]\ntarget = \"stderr\"\n",
            state.display()
        ),
    );
    let (code, _, err) = run(&["--config", cfg.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("cannot start"))
        .unwrap_or_else(|| panic!("no 'cannot start' line in {err}"));
    assert!(
        line.contains(&format!(
            "state directory {} does not exist and cannot be created",
            state.display()
        )) && line.contains("install -d"),
        "{line}"
    );
    assert!(!line.contains("--reset-state"), "a circular hint: {line}");
}
