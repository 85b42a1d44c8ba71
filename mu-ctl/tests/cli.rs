//! Drives the real `mu-ctl` binary against a small fake daemon (a thread answering canned
//! replies over a real Unix socket), checking output, JSON and exit codes. The real daemon is
//! exercised end to end by mu-serverd's tests and tests/suite.d/60-packaging.sh.

use mu_ctl::frame::{read_frame, write_frame};
use mu_ctl::proto::{ErrorCode, Reply, Request, StatusInfo, UserInfo, PROTOCOL_VERSION};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread;

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mu-ctl-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Serves one connection: answers Hello with `hello`, then every request with `answer`.
/// Returns the socket path and a handle yielding the requests it saw.
fn fake_daemon(
    tag: &str,
    hello: Reply,
    answer: fn(&Request) -> Reply,
) -> (PathBuf, thread::JoinHandle<Vec<Request>>) {
    let path = tempdir(tag).join("control.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        let Ok((mut s, _)) = listener.accept() else {
            return seen;
        };
        while let Ok(Some(req)) = read_frame::<Request, _>(&mut s) {
            let reply = match &req {
                Request::Hello { .. } => hello.clone(),
                other => answer(other),
            };
            seen.push(req);
            if write_frame(&mut s, &reply).is_err() {
                break;
            }
        }
        seen
    });
    (path, handle)
}

fn hello() -> Reply {
    Reply::Hello {
        version: PROTOCOL_VERSION,
        daemon_version: "9.9.9".into(),
    }
}

fn mu_ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mu-ctl"))
        .args(args)
        .output()
        .expect("run mu-ctl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn alice() -> UserInfo {
    UserInfo {
        name: "alice".into(),
        admin: true,
        status: "active".into(),
        latency_ms: 12,
        connected_since_unix: 1,
        peer: Some("127.0.0.1:40000".into()),
        msgs_in: 10,
        msgs_out: 20,
        bytes_in: 2048,
        bytes_out: 100,
    }
}

#[test]
fn users_prints_a_table_and_json() {
    let (sock, h) = fake_daemon("users", hello(), |_| Reply::Users(vec![alice()]));
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "users"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("NAME "), "{stdout}");
    assert!(stdout.contains("alice") && stdout.contains("127.0.0.1:40000"));
    assert!(stdout.contains("2.0 KiB/100 B") && stdout.contains("10/20"));
    assert_eq!(
        h.join().expect("thread"),
        [
            Request::Hello {
                version: PROTOCOL_VERSION
            },
            Request::Users
        ]
    );

    let (sock, _h) = fake_daemon("usersjson", hello(), |_| Reply::Users(vec![alice()]));
    let out = mu_ctl(&["users", "--json", "--socket", sock.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["users"][0]["name"], "alice");
    assert_eq!(v["users"][0]["admin"], true);
    assert_eq!(v["users"][0]["latency_ms"], 12);
    assert_eq!(v["users"][0]["bytes_in"], 2048);
    assert_eq!(v["users"][0]["peer"], "127.0.0.1:40000");
}

#[test]
fn status_shows_ports_and_config() {
    let (sock, _h) = fake_daemon("status", hello(), |_| {
        Reply::Status(StatusInfo {
            version: "9.9.9".into(),
            uptime_s: 90,
            session_state: "active".into(),
            nodes: 412,
            bytes_stored: 10,
            users: 3,
            bind: "127.0.0.1".into(),
            ports: vec![24100, 24101, 24102],
            config_file: Some("/etc/mu-server.toml".into()),
            last_save_unix: None,
            journal_bytes: None,
            state_dir: None,
        })
    });
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "status"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    for want in [
        "1m 30s",
        "412",
        "24100, 24101, 24102",
        "/etc/mu-server.toml",
        "never",
    ] {
        assert!(s.contains(want), "missing {want:?} in {s}");
    }
}

#[test]
fn kick_sends_user_and_reason_and_prints_the_message() {
    let (sock, h) = fake_daemon("kick", hello(), |r| match r {
        Request::Kick { user, .. } => Reply::done(format!("kicked {user}")),
        _ => Reply::error(ErrorCode::BadRequest, "?"),
    });
    let out = mu_ctl(&[
        "--socket",
        sock.to_str().expect("utf8"),
        "kick",
        "bob",
        "--reason",
        "lunch",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "kicked bob\n");
    let seen = h.join().expect("thread");
    assert_eq!(
        seen[1],
        Request::Kick {
            user: "bob".into(),
            reason: Some("lunch".into())
        }
    );
}

#[test]
fn a_daemon_error_exits_1_with_its_message() {
    let (sock, _h) = fake_daemon("notfound", hello(), |_| {
        Reply::error(ErrorCode::NotFound, "no user named zed")
    });
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "kick", "zed"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no user named zed"));

    let (sock, _h) = fake_daemon("notfoundjson", hello(), |_| {
        Reply::error(ErrorCode::NotFound, "no user named zed")
    });
    let out = mu_ctl(&[
        "--json",
        "--socket",
        sock.to_str().expect("utf8"),
        "kick",
        "zed",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "not_found");
}

#[test]
fn a_refused_handshake_exits_1_with_the_reason() {
    let refusal = Reply::error(
        ErrorCode::Refused,
        "permission denied: uid 1234 is not root, the daemon user or in group mu-server",
    );
    let (sock, _h) = fake_daemon("refused", refusal, |_| Reply::done("unreachable"));
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "users"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("permission denied: uid 1234"));
}

#[test]
fn a_version_mismatch_is_explained() {
    let newer = Reply::Hello {
        version: PROTOCOL_VERSION + 1,
        daemon_version: "2.0.0".into(),
    };
    let (sock, _h) = fake_daemon("version", newer, |_| Reply::done("x"));
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("protocol version mismatch") && err.contains("2.0.0"),
        "{err}"
    );
}

#[test]
fn no_daemon_exits_2_with_a_hint() {
    let dir = tempdir("absent");
    let sock = dir.join("control.sock");
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "users"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no such file — is mu-serverd running?"),
        "{err}"
    );
    // A socket file nobody listens on (a crashed daemon).
    drop(UnixListener::bind(&sock).expect("bind"));
    let out = mu_ctl(&["--socket", sock.to_str().expect("utf8"), "users"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("connection refused"));
    // --instance picks /run/mu-server/NAME/control.sock.
    let out = mu_ctl(&["--instance", "no-such-instance-xyz", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/run/mu-server/no-such-instance-xyz/control.sock"));
}

#[test]
fn usage_errors_exit_64() {
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["kick"][..],
        &["reset"][..],
        &["--socket", "/x", "--instance", "y", "users"][..],
        &["--instance", "../etc", "users"][..],
        &["--instance", "", "users"][..],
    ] {
        let out = mu_ctl(args);
        assert_eq!(out.status.code(), Some(64), "args {args:?}");
    }
    let out = mu_ctl(&["reset"]);
    assert!(text(&out.stderr).contains("--yes"));
    assert_eq!(mu_ctl(&["--help"]).status.code(), Some(0));
}

#[test]
fn export_sends_an_absolute_name_and_renames_its_file_on_success() {
    let dir = tempdir("export-rel");
    let (sock, h) = fake_daemon("export", hello(), |_| Reply::done("exported"));
    let out = Command::new(env!("CARGO_BIN_EXE_mu-ctl"))
        .current_dir(&dir)
        .args([
            "--socket",
            sock.to_str().expect("utf8"),
            "export",
            "rel.mus",
        ])
        .output()
        .expect("run mu-ctl");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seen = h.join().expect("thread");
    let want = dir.join("rel.mus");
    assert_eq!(
        seen[1],
        Request::ExportFile {
            name: want.to_str().expect("utf8").to_string()
        }
    );
    // mu-ctl created the file itself and gave it its name after the daemon's success; no
    // temporary is left next to it.
    assert!(want.is_file());
    let left: Vec<_> = std::fs::read_dir(&dir).expect("ls").flatten().collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn a_failed_export_leaves_no_file_and_special_files_are_refused_locally() {
    let dir = tempdir("export-fail");
    let (sock, h) = fake_daemon("exportfail", hello(), |_| {
        Reply::error(ErrorCode::Failed, "disk full")
    });
    let target = dir.join("out.db");
    let out = mu_ctl(&[
        "--socket",
        sock.to_str().expect("utf8"),
        "export",
        target.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    h.join().expect("thread");
    assert_eq!(
        std::fs::read_dir(&dir).expect("ls").count(),
        0,
        "a file was left"
    );
    // Nothing is sent for a directory, a device or a link: no daemon listens on this socket.
    let link = dir.join("link");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    for (cmd, path, word) in [
        ("import", "/dev/zero", "character device"),
        ("import", dir.to_str().expect("utf8"), "directory"),
        ("import", link.to_str().expect("utf8"), "symbolic link"),
        ("export", "/dev/null", "character device"),
        ("export", link.to_str().expect("utf8"), "symbolic link"),
    ] {
        let out = mu_ctl(&["--socket", "/nonexistent.sock", cmd, path]);
        assert_eq!(out.status.code(), Some(1), "{cmd} {path}");
        assert!(
            text(&out.stderr).contains(word),
            "{cmd} {path}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_missing_import_file_is_not_found_and_other_file_faults_are_file() {
    let dir = tempdir("import-missing");
    let missing = dir.join("missing.db");
    // Nothing is sent: no daemon listens on this socket.
    let out = mu_ctl(&[
        "--json",
        "--socket",
        "/nonexistent.sock",
        "import",
        missing.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["error"]["code"], "not_found", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("missing.db"),
        "{v}"
    );
    let out = mu_ctl(&[
        "--json",
        "--socket",
        "/nonexistent.sock",
        "import",
        "/dev/zero",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["error"]["code"], "file", "{v}");
}

#[test]
fn generate_assets_writes_man_page_and_completions() {
    let dir = tempdir("assets");
    let out = mu_ctl(&["--generate-assets", dir.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let man = std::fs::read_to_string(dir.join("mu-ctl.1")).expect("man page");
    assert!(man.contains(".TH mu-ctl") && man.contains("kick"), "{man}");
    let bash = std::fs::read_to_string(dir.join("mu-ctl.bash")).expect("bash");
    assert!(bash.contains("complete") && bash.contains("reload"));
    assert!(std::fs::read_to_string(dir.join("_mu-ctl"))
        .expect("zsh")
        .contains("#compdef mu-ctl"));
    assert!(std::fs::read_to_string(dir.join("mu-ctl.fish"))
        .expect("fish")
        .contains("complete -c mu-ctl"));
}
