//! The control server in a real mio loop on a thread, driven over a real Unix socket by
//! mu-ctl's client library, by raw byte streams (hostile frames) and, as root, by a Python
//! process running under other uids (setpriv) to exercise SO_PEERCRED/SO_PEERGROUPS.

use super::*;
use mio::{Events, Poll};
use mu_ctl::client::{Client, ClientError};
use mu_ctl::frame::{read_frame, write_frame};
use mu_ctl::proto::UserInfo;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

const LISTENER: Token = Token(1);
const FIRST: usize = 100;
const TIMEOUT: Duration = Duration::from_secs(5);

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mu-control-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// What the fake daemon answers; `Stop` ends the loop after replying.
fn dispatch(req: &Request, peer: &PeerInfo) -> Reply {
    match req {
        Request::Users => Reply::Users(vec![UserInfo {
            name: format!("uid{}", peer.uid),
            admin: false,
            status: "active".into(),
            latency_ms: 1,
            connected_since_unix: 0,
            peer: None,
            msgs_in: 0,
            msgs_out: 0,
            bytes_in: 0,
            bytes_out: 0,
        }]),
        Request::Kick { user, .. } if user == "bob" => Reply::done("kicked bob"),
        Request::Kick { user, .. } => Reply::error(ErrorCode::NotFound, format!("no user {user}")),
        Request::Stop => Reply::done("stopping"),
        other => Reply::error(ErrorCode::Unsupported, other.name()),
    }
}

struct Daemon {
    path: PathBuf,
    handle: Option<thread::JoinHandle<()>>,
    /// Requests dispatched so far.
    served: Arc<AtomicUsize>,
}

impl Daemon {
    fn start(tag: &str, group: Option<&'static str>) -> Daemon {
        Daemon::start_idle(tag, group, IDLE_TIMEOUT)
    }

    fn start_idle(tag: &str, group: Option<&'static str>, idle: Duration) -> Daemon {
        let path = tempdir(tag).join("run").join("control.sock");
        let mut server = ControlServer::bind(&path, group).expect("bind");
        server.set_idle_timeout(idle);
        let served = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        let handle = thread::spawn(move || {
            let mut poll = Poll::new().expect("poll");
            server
                .register(poll.registry(), LISTENER, FIRST)
                .expect("register");
            let mut events = Events::with_capacity(64);
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Err(e) = poll.poll(&mut events, Some(Duration::from_millis(100))) {
                    assert_eq!(e.kind(), std::io::ErrorKind::Interrupted);
                    continue;
                }
                let mut stop = false;
                for ev in events.iter() {
                    assert!(server.owns(ev.token()), "foreign token {:?}", ev.token());
                    for inc in server.handle_event(poll.registry(), ev.token()) {
                        counter.fetch_add(1, Ordering::SeqCst);
                        stop |= inc.request == Request::Stop;
                        let reply = dispatch(&inc.request, &inc.peer);
                        server.reply(poll.registry(), inc.id, reply);
                    }
                }
                server.expire(poll.registry(), Instant::now());
                if stop {
                    server.flush_all(Duration::from_secs(1));
                    server.deregister(poll.registry());
                    return;
                }
            }
            panic!("test daemon was never stopped");
        });
        Daemon {
            path,
            handle: Some(handle),
            served,
        }
    }

    fn client(&self) -> Client {
        Client::connect(&self.path, TIMEOUT).expect("connect")
    }

    fn raw(&self) -> UnixStream {
        let s = UnixStream::connect(&self.path).expect("connect");
        s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        s
    }

    fn stop(mut self) {
        let reply = self.client().request(&Request::Stop).expect("stop");
        assert_eq!(reply, Reply::done("stopping"));
        self.handle
            .take()
            .expect("handle")
            .join()
            .expect("daemon thread");
        assert!(!self.path.exists(), "socket file removed on drop");
    }
}

/// Reads until EOF (bounded by the read timeout); true if the peer closed the connection.
fn closed_by_peer(s: &mut UnixStream) -> bool {
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
fn socket_is_0660_in_the_group_and_replaces_only_stale_sockets() {
    let dir = tempdir("bind");
    let path = dir.join("sub").join("c.sock");
    let server = ControlServer::bind(&path, None).expect("bind creates the parent dir");
    let meta = std::fs::symlink_metadata(&path).expect("socket exists");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
    assert_eq!(meta.gid(), nix::unistd::getegid().as_raw());
    // A second daemon on the same path is refused while the first one listens.
    assert!(matches!(
        ControlServer::bind(&path, None),
        Err(ControlError::InUse { .. })
    ));
    drop(server);
    assert!(!path.exists(), "dropping the server removes its socket");

    // A stale socket (nobody listening) is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).expect("stale"));
    assert!(path.exists());
    let server = ControlServer::bind(&path, None).expect("stale socket replaced");
    drop(server);

    // A regular file is never deleted.
    std::fs::write(&path, b"precious").expect("write");
    assert!(matches!(
        ControlServer::bind(&path, None),
        Err(ControlError::NotASocket { .. })
    ));
    assert_eq!(std::fs::read(&path).expect("still there"), b"precious");

    let err = ControlServer::bind(&dir.join("x.sock"), Some("no-such-group-mu"));
    let Err(e) = err else {
        panic!("unknown group accepted")
    };
    assert!(
        e.to_string()
            .contains("\"no-such-group-mu\" does not exist"),
        "{e}"
    );
}

#[test]
fn configured_group_owns_the_socket() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: chown to another group needs root (CI runs as root)");
        return;
    }
    let path = tempdir("group").join("c.sock");
    let _server = ControlServer::bind(&path, Some("nogroup")).expect("bind");
    let meta = std::fs::symlink_metadata(&path).expect("socket");
    let nogroup = nix::unistd::Group::from_name("nogroup")
        .expect("lookup")
        .expect("nogroup exists on Debian");
    assert_eq!(meta.gid(), nogroup.gid.as_raw());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
}

#[test]
fn handshake_requests_and_pipelining() {
    let d = Daemon::start("basic", None);
    let mut c = d.client();
    assert_eq!(c.daemon_version(), env!("CARGO_PKG_VERSION"));
    let me = nix::unistd::geteuid().as_raw();
    match c.request(&Request::Users).expect("users") {
        Reply::Users(u) => assert_eq!(u[0].name, format!("uid{me}"), "peer uid from SO_PEERCRED"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.request(&Request::Kick {
            user: "bob".into(),
            reason: Some("x".into())
        })
        .expect("kick"),
        Reply::done("kicked bob")
    );
    match c.request(&Request::Kick {
        user: "zed".into(),
        reason: None,
    }) {
        Err(ClientError::Daemon { code, .. }) => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("{other:?}"),
    }
    // Three requests written at once are answered in order.
    let mut s = d.raw();
    let mut burst = frame::encode(&Request::Hello {
        version: PROTOCOL_VERSION,
    })
    .expect("enc");
    for r in [Request::Users, Request::Save, Request::Status] {
        burst.extend(frame::encode(&r).expect("enc"));
    }
    s.write_all(&burst).expect("write");
    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(
            read_frame::<Reply, _>(&mut s)
                .expect("read")
                .expect("reply"),
        );
    }
    assert!(matches!(replies[0], Reply::Hello { version: 1, .. }));
    assert!(matches!(replies[1], Reply::Users(_)));
    assert_eq!(replies[2], Reply::error(ErrorCode::Unsupported, "save"));
    assert_eq!(replies[3], Reply::error(ErrorCode::Unsupported, "status"));
    d.stop();
}

#[test]
fn version_mismatch_and_missing_hello_close_the_connection() {
    let d = Daemon::start("hello", None);
    let mut s = d.raw();
    write_frame(&mut s, &Request::Hello { version: 999 }).expect("write");
    let reply = read_frame::<Reply, _>(&mut s)
        .expect("read")
        .expect("reply");
    assert!(matches!(
        reply,
        Reply::Hello {
            version: PROTOCOL_VERSION,
            ..
        }
    ));
    assert!(closed_by_peer(&mut s));

    let mut s = d.raw();
    write_frame(&mut s, &Request::Users).expect("write");
    let reply = read_frame::<Reply, _>(&mut s)
        .expect("read")
        .expect("reply");
    assert_eq!(
        reply,
        Reply::error(ErrorCode::BadRequest, "the first request must be Hello")
    );
    assert!(closed_by_peer(&mut s));
    assert_eq!(
        d.served.load(Ordering::SeqCst),
        0,
        "nothing reached the daemon"
    );
    d.stop();
}

#[test]
fn hostile_frames_only_lose_their_own_connection() {
    let d = Daemon::start("hostile", None);
    // A well-behaved client stays connected throughout.
    let mut good = d.client();

    // Oversized: only the 4-byte header is sent; the server must not wait for 4 GiB.
    let mut s = d.raw();
    s.write_all(&u32::MAX.to_be_bytes()).expect("write");
    assert!(
        closed_by_peer(&mut s),
        "oversized frame closes the connection"
    );

    // Just over the cap, after a valid Hello.
    let mut s = d.raw();
    write_frame(&mut s, &Request::Hello { version: 1 }).expect("hello");
    let _ = read_frame::<Reply, _>(&mut s).expect("hello reply");
    s.write_all(&(mu_ctl::frame::MAX_FRAME + 1).to_be_bytes())
        .expect("write");
    assert!(closed_by_peer(&mut s));

    // Truncated: a header announcing 10 bytes, 3 bytes, then end of stream.
    let mut s = d.raw();
    s.write_all(&[0, 0, 0, 10, 2, 5, b'a']).expect("write");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(closed_by_peer(&mut s));

    // Garbage body and trailing bytes.
    for bad in [&[0u8, 0, 0, 1, 0xee][..], &[0, 0, 0, 3, 0, 1, 7][..]] {
        let mut s = d.raw();
        s.write_all(bad).expect("write");
        assert!(closed_by_peer(&mut s), "{bad:?}");
    }

    // The good client and a new one still work.
    assert!(matches!(
        good.request(&Request::Users).expect("users"),
        Reply::Users(_)
    ));
    assert!(matches!(
        d.client().request(&Request::Users).expect("users"),
        Reply::Users(_)
    ));
    d.stop();
}

#[test]
fn idle_connections_are_closed_and_busy_ones_kept() {
    let d = Daemon::start_idle("idle", None, Duration::from_millis(300));
    let mut idle = d.raw();
    let mut greeted = d.client();
    thread::sleep(Duration::from_millis(100));
    // A connection that keeps asking is not idle.
    for _ in 0..6 {
        thread::sleep(Duration::from_millis(100));
        greeted.request(&Request::Users).expect("still served");
    }
    assert!(
        closed_by_peer(&mut idle),
        "a silent connection outlived the timeout"
    );
    thread::sleep(Duration::from_millis(600));
    match greeted.request(&Request::Users) {
        Err(ClientError::Closed { .. }) | Err(ClientError::Transport { .. }) => {}
        other => panic!(
            "an idle greeted connection was kept: {:?}",
            other.map(|_| ())
        ),
    }
    d.stop();
}

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

#[test]
fn a_late_reply_never_reaches_a_connection_that_reused_the_slot() {
    let path = tempdir("generation").join("c.sock");
    let mut server = ControlServer::bind(&path, None).expect("bind");
    let poll = Poll::new().expect("poll");
    server
        .register(poll.registry(), LISTENER, FIRST)
        .expect("register");
    let hello = frame::encode(&Request::Hello {
        version: PROTOCOL_VERSION,
    })
    .expect("enc");
    let users = frame::encode(&Request::Users).expect("enc");

    // First connection: Hello + Users, then it goes away before the daemon answers.
    let mut first = UnixStream::connect(&path).expect("connect");
    first.write_all(&hello).expect("w");
    first.write_all(&users).expect("w");
    let reqs = server.handle_event(poll.registry(), LISTENER);
    assert_eq!(reqs.len(), 1, "the Users request");
    let stale_id = reqs.into_iter().next().expect("one").id;
    drop(first);
    let _ = server.handle_event(poll.registry(), Token(FIRST));
    assert_eq!(server.connections(), 0);

    // Second connection takes the same slot.
    let mut second = UnixStream::connect(&path).expect("connect");
    second.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    second.write_all(&hello).expect("w");
    assert!(server.handle_event(poll.registry(), LISTENER).is_empty());
    assert_eq!(server.connections(), 1);
    assert!(!server.reply(poll.registry(), stale_id, Reply::done("for the first one")));
    // The second client sees its Hello reply and nothing else.
    let r = read_frame::<Reply, _>(&mut second)
        .expect("read")
        .expect("hello");
    assert!(matches!(r, Reply::Hello { .. }));
    second.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 64];
    assert!(matches!(
        second.read(&mut buf),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
    ));
}

/// Binds on parallel threads (as the test harness runs them) must each get mode 0660 and leave
/// the process umask as it was: umask is process-wide, so binds are serialized around it.
#[test]
fn parallel_binds_keep_mode_0660_and_the_umask() {
    // Read under the binds' lock: other tests bind on parallel threads meanwhile.
    let dir = tempdir("parallel-binds");
    let before = socket::current_umask();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let path = dir.join(format!("s{t}-{i}.sock"));
                    let server = ControlServer::bind(&path, None).expect("bind");
                    let mode = std::fs::symlink_metadata(&path).expect("socket").mode() & 0o7777;
                    drop(server);
                    assert_eq!(mode, 0o660, "socket {t}-{i}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("bind thread");
    }
    assert_eq!(socket::current_umask(), before, "umask left changed");
}
