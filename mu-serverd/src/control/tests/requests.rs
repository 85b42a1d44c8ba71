//! Requests over a real socket: the handshake, pipelining, hostile frames and peers that do
//! not read, idle connections, late replies.

use super::*;
use mu_ctl::frame::{read_frame, write_frame};
use mu_ctl::proto::PROTOCOL_VERSION;
use std::io::Write;

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
