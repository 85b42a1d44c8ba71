//! The control server in a real mio loop on a thread, driven over a real Unix socket by
//! mu-ctl's client library, by raw byte streams (hostile frames) and, as root, by a Python
//! process running under other uids (setpriv) to exercise SO_PEERCRED/SO_PEERGROUPS.

use super::*;
use mio::{Events, Poll};
use mu_ctl::client::{Client, ClientError};
use mu_ctl::proto::UserInfo;
use std::io::Read;
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

mod admission;
mod requests;
