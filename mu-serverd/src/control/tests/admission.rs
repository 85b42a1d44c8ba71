//! Who is admitted: the connection limit, and (as root) peers in and outside the group.

use super::*;

#[test]
fn too_many_connections_are_refused_with_a_message() {
    let d = Daemon::start("many", None);
    let held: Vec<Client> = (0..MAX_CONNS).map(|_| d.client()).collect();
    match Client::connect(&d.path, TIMEOUT) {
        Err(ClientError::Daemon { code, message }) => {
            assert_eq!(code, ErrorCode::Refused);
            assert!(message.contains("too many"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    drop(held);
    // Slots come back once the clients hang up (give the loop a moment to see the EOFs).
    let start = Instant::now();
    let mut c = loop {
        match Client::connect(&d.path, TIMEOUT) {
            Ok(c) => break c,
            Err(_) if start.elapsed() < TIMEOUT => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("slots never freed: {e}"),
        }
    };
    assert!(matches!(
        c.request(&Request::Users).expect("users"),
        Reply::Users(_)
    ));
    d.stop();
}

/// Runs the system Python (/usr/bin/python3, readable by any uid) as another uid (setpriv) to connect, say Hello and print the reply
/// frame's body as hex ("" if the connection was closed without a reply).
fn hello_as(path: &Path, setpriv_args: &[&str]) -> Reply {
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect-error", e.errno); sys.exit(0)
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
    assert!(!text.starts_with("connect-error"), "{text}");
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect();
    mu_ctl::frame::decode_body(&bytes).expect("reply body")
}

#[test]
fn peers_outside_the_group_are_refused_and_members_admitted() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: running clients as other uids needs root (CI runs as root)");
        return;
    }
    let d = Daemon::start("peers", Some("nogroup"));
    // The parent directories must be traversable by the test uid.
    let mut p = d.path.parent();
    while let Some(dir) = p {
        if dir == std::env::temp_dir() {
            break;
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p = dir.parent();
    }
    // Member through a supplementary group only (seen via SO_PEERGROUPS).
    let member = hello_as(
        &d.path,
        &["--reuid", "12345", "--regid", "12345", "--groups", "65534"],
    );
    assert!(matches!(member, Reply::Hello { .. }), "{member:?}");

    // A stranger: the socket is made world-writable, as a careless admin might, so only the
    // daemon's own check stands in the way.
    std::fs::set_permissions(&d.path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let stranger = hello_as(
        &d.path,
        &["--reuid", "12345", "--regid", "12345", "--clear-groups"],
    );
    assert_eq!(
        stranger,
        Reply::error(
            ErrorCode::Refused,
            "permission denied: uid 12345 is not root, the daemon user or in group nogroup"
        )
    );
    assert_eq!(d.served.load(Ordering::SeqCst), 0);
    d.stop();
}
