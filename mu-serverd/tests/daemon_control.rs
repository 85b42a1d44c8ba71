//! Issue #5's control-socket tests on the real `mu-serverd` binary: users, kick (the client
//! sees Disconnect with the reason), reload (a bad file is refused and the old config keeps
//! running), status, stop, with real `replication` clients connected; hostile frames on the
//! socket do not disturb the daemon or its clients; a peer outside the group is refused.
//! Talks through `mu_ctl::client`, the library the `mu-ctl` binary is built on (the binary
//! itself is tested in mu-ctl/tests/cli.rs and end to end in tests/suite.d/60-packaging.sh).
//! Ports 24200-24299 (helper F's range).

mod daemon_common;

use daemon_common::{client_staying, config, Daemon, TempDir};
use mu_ctl::client::{Client, ClientError};
use mu_ctl::frame::{read_frame, write_frame, MAX_FRAME};
use mu_ctl::proto::{ErrorCode, Reply, Request};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

fn users(c: &mut Client) -> Vec<String> {
    match c.request(&Request::Users).expect("users") {
        Reply::Users(list) => {
            let mut names: Vec<String> = list.into_iter().map(|u| u.name).collect();
            names.sort();
            names
        }
        other => panic!("users: {other:?}"),
    }
}

/// Polls `users` until it equals `want` (bounded).
fn wait_users(c: &mut Client, want: &[&str]) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = users(c);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "users {got:?}, want {want:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn closed_by_peer(s: &mut UnixStream) -> bool {
    s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut buf = [0u8; 256];
    for _ in 0..100 {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn users_kick_status_reload_and_stop_with_real_clients() {
    let d = TempDir::new("ctl");
    let port = 24200;
    let text = config(&d, port, "", "");
    let cfg = d.write("c.toml", &text);
    let sock = d.path("control.sock");
    let mut dm = Daemon::spawn(&["--config", cfg.to_str().expect("utf8")], &[]);
    dm.wait_log("ready", 15);

    let mut kids: Vec<_> = ["ann", "ben"]
        .iter()
        .map(|n| client_staying(port, n, 60))
        .collect();
    let mut outs: Vec<_> = kids
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().expect("stdout")).lines())
        .collect();
    for o in outs.iter_mut() {
        let l = o.next().expect("auth line").expect("read");
        assert!(l.starts_with("AUTH LOBBY"), "{l}");
    }

    let mut c = Client::connect(&sock, TIMEOUT).expect("connect");
    assert_eq!(c.daemon_version(), env!("CARGO_PKG_VERSION"));
    wait_users(&mut c, &["ann", "ben"]);
    // Each user's peer address is the loopback TCP address its commands came from.
    match c.request(&Request::Users).expect("users") {
        Reply::Users(list) => {
            for u in &list {
                let peer = u.peer.as_deref().unwrap_or("");
                assert!(peer.starts_with("127.0.0.1"), "{}: peer {peer:?}", u.name);
            }
        }
        other => panic!("users: {other:?}"),
    }

    match c.request(&Request::Status).expect("status") {
        Reply::Status(s) => {
            assert_eq!(s.ports, vec![port, port + 1, port + 2]);
            assert_eq!(s.bind, "127.0.0.1");
            assert_eq!(s.users, 2);
            assert_eq!(s.version, env!("CARGO_PKG_VERSION"));
            assert_eq!(s.config_file.as_deref(), cfg.to_str());
        }
        other => panic!("status: {other:?}"),
    }

    // kick: ben sees the reason, the user list drops him, an unknown user is NotFound.
    let kicked = c
        .request(&Request::Kick {
            user: "ben".into(),
            reason: Some("lunch break".into()),
        })
        .expect("kick");
    assert!(matches!(kicked, Reply::Done { .. }), "{kicked:?}");
    let l = outs[1].next().expect("disconnect line").expect("read");
    assert!(
        l.starts_with("DISCONNECT") && l.contains("lunch break"),
        "{l}"
    );
    wait_users(&mut c, &["ann"]);
    match c.request(&Request::Kick {
        user: "zed".into(),
        reason: None,
    }) {
        Err(ClientError::Daemon { code, .. }) => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("kick zed: {:?}", other.map(|_| ())),
    }

    // reload: a broken file is refused with its line, the daemon and ann carry on.
    // Line 3 of the file is `port = ...` (see daemon_common::config).
    d.write(
        "c.toml",
        &text.replace(&format!("port = {port}"), "port = 0"),
    );
    match c.request(&Request::Reload) {
        Err(ClientError::Daemon { code, message }) => {
            assert_eq!(code, ErrorCode::Failed);
            let at = format!("{}:3", cfg.display());
            assert!(
                message.contains(&at) && message.contains("port"),
                "{message}"
            );
        }
        other => panic!("bad reload accepted: {:?}", other.map(|_| ())),
    }
    wait_users(&mut c, &["ann"]);
    d.write("c.toml", &text);
    let ok = c.request(&Request::Reload).expect("good reload");
    assert!(matches!(ok, Reply::Done { .. }), "{ok:?}");

    // Hostile frames each lose only their own connection.
    let mut s = UnixStream::connect(&sock).expect("connect");
    s.write_all(&u32::MAX.to_be_bytes()).expect("write");
    assert!(closed_by_peer(&mut s), "oversized header");
    let mut s = UnixStream::connect(&sock).expect("connect");
    write_frame(&mut s, &Request::Hello { version: 1 }).expect("hello");
    let _ = read_frame::<Reply, _>(&mut s).expect("hello reply");
    s.write_all(&(MAX_FRAME + 1).to_be_bytes()).expect("write");
    assert!(closed_by_peer(&mut s), "oversized after hello");
    let mut s = UnixStream::connect(&sock).expect("connect");
    s.write_all(&[0, 0, 0, 9, 2, 3]).expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(closed_by_peer(&mut s), "truncated");
    let mut s = UnixStream::connect(&sock).expect("connect");
    s.write_all(&[0, 0, 0, 2, 0xee, 0xee]).expect("write");
    assert!(closed_by_peer(&mut s), "garbage");
    dm.wait_log("oversized request", 5);
    dm.wait_log("truncated request", 5);
    wait_users(&mut c, &["ann"]);
    let mut again = Client::connect(&sock, TIMEOUT).expect("a new client after the hostile ones");
    wait_users(&mut again, &["ann"]);

    // stop: answered, ann told, exit 0, socket removed.
    let stopped = c.request(&Request::Stop).expect("stop");
    assert!(matches!(stopped, Reply::Done { .. }), "{stopped:?}");
    let l = outs[0].next().expect("disconnect line").expect("read");
    assert!(l.starts_with("DISCONNECT"), "{l}");
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    assert!(!sock.exists(), "socket left behind");
    for mut k in kids {
        let _ = k.wait();
    }
}

/// Connects as another uid (setpriv + the system Python), says Hello, returns the reply.
fn hello_as(path: &Path, setpriv_args: &[&str]) -> Reply {
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(bytes([0, 0, 0, 2, 0, 1]))
except OSError:
    pass
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
    if len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:4], "big"): break
print(data[4:].hex())
"#;
    let out = std::process::Command::new("setpriv")
        .args(setpriv_args)
        .args(["/usr/bin/python3", "-c", script])
        .arg(path)
        .output()
        .expect("setpriv python3");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect();
    mu_ctl::frame::decode_body(&bytes).expect("reply body")
}

#[test]
fn a_peer_outside_the_group_is_refused_and_a_member_admitted() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: running a client as another uid needs root (CI runs as root)");
        return;
    }
    let d = TempDir::new("ctlperm");
    let port = 24210;
    let text = config(&d, port, "", "").replace("[control]\n", "[control]\ngroup = \"nogroup\"\n");
    let cfg = d.write("c.toml", &text);
    let sock = d.path("control.sock");
    let dm = Daemon::spawn(&["--config", cfg.to_str().expect("utf8")], &[]);
    dm.wait_log("ready", 15);
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");

    let member = hello_as(
        &sock,
        &["--reuid", "12345", "--regid", "12345", "--groups", "65534"],
    );
    assert!(matches!(member, Reply::Hello { .. }), "{member:?}");

    // World-writable by mistake: only the daemon's own check is left to refuse a stranger.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let stranger = hello_as(
        &sock,
        &["--reuid", "12345", "--regid", "12345", "--clear-groups"],
    );
    assert_eq!(
        stranger,
        Reply::error(
            ErrorCode::Refused,
            "permission denied: uid 12345 is not root, the daemon user or in group nogroup"
        )
    );
    dm.wait_log("control: refused uid 12345", 5);
}
