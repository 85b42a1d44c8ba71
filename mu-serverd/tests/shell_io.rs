//! The IO shell on its own, driven by small test cores over real ZeroMQ sockets on loopback:
//! - no stall: a flood across all three channels from several clients is echoed completely,
//!   with the loop sleeping without a timeout in between (a missed ZMQ_FD edge would hang
//!   until the test's deadline fails it), and no wake-up ever finds work a missed edge hid;
//! - a slow peer: its queue overflows, the shell reports `QueueOverflow` for it once, and the
//!   other peers receive every message in order;
//! - zero-copy: relayed 20 kB frames (sent by reference) reach every fast peer byte for byte.
//!
//! Ports 22100-22199.

use mio::{Events, Poll, Token, Waker};
use mu_serverd::session::io::{Action, Channel, Frame, Identity, Millis, SendFailure};
use mu_serverd::shell::{Core, Shell, SocketOptions};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAKE: Token = Token(0);

#[derive(Default)]
struct LoopStats {
    wakeups: u64,
    /// Woke by timeout (no event) and then found messages: an edge was missed.
    stalls: u64,
}

/// Runs the shell with `core` on a thread until the returned handle is stopped.
struct Server {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<LoopStats>>,
}

impl Server {
    fn start<C: Core + Send + 'static>(port: u16, limit: usize, mut core: C) -> Server {
        let opts = SocketOptions {
            bind: "127.0.0.1".into(),
            port,
            max_message_bytes: 1 << 20,
        };
        let mut shell = Shell::bind(&opts, limit).expect("bind");
        let mut poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
        shell.register(poll.registry(), 1).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut stats = LoopStats::default();
            let mut events = Events::with_capacity(16);
            while !stop2.load(Ordering::SeqCst) {
                let timeout = shell
                    .next_wake(&core)
                    .map(|t| t.saturating_duration_since(Instant::now()));
                // A zero timeout means the last pump stopped on its round budget with work
                // left: finding messages then is expected, not a stall.
                let continuing = timeout == Some(Duration::ZERO);
                if let Err(e) = poll.poll(&mut events, timeout) {
                    assert_eq!(e.kind(), std::io::ErrorKind::Interrupted);
                    continue;
                }
                stats.wakeups += 1;
                let before = shell.counters().0;
                shell.pump(&mut core, &mut |_| {});
                if events.is_empty() && !continuing && shell.counters().0 > before {
                    eprintln!("stall: timeout {timeout:?}");
                    stats.stalls += 1;
                }
            }
            shell.deregister(poll.registry());
            stats
        });
        Server {
            stop,
            waker,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> LoopStats {
        self.stop.store(true, Ordering::SeqCst);
        self.waker.wake().unwrap();
        self.thread.take().unwrap().join().expect("server thread")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }
}

/// Echoes every message back to its sender on the same channel.
struct Echo {
    out: Vec<Action>,
}

impl Core for Echo {
    fn handle_frame(&mut self, _: Millis, channel: Channel, from: &Identity, frames: Vec<Frame>) {
        self.out.push(Action::Send {
            channel,
            to: from.clone(),
            frames: frames.into(),
        });
    }
    fn handle_tick(&mut self, _: Millis) {}
    fn handle_send_failure(&mut self, _: Millis, _: Channel, _: &Identity, f: SendFailure) {
        panic!("echo peer failed: {f:?}");
    }
    fn poll_action(&mut self) -> Option<Action> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.remove(0))
        }
    }
    fn next_deadline(&self) -> Option<Millis> {
        None
    }
}

fn dealer(ctx: &zmq::Context, id: &[u8], port: u16) -> zmq::Socket {
    let s = ctx.socket(zmq::DEALER).unwrap();
    s.set_identity(id).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(10_000).unwrap();
    s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    s
}

/// One client: three DEALERs with one identity, each keeping `window` echoes in flight.
fn echo_client(port: u16, n: u32, client: u8) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let id = [client; 16];
    let socks: Vec<zmq::Socket> = (0..3).map(|i| dealer(&ctx, &id, port + i)).collect();
    let window = 300u32;
    let mut sent = [0u32; 3];
    let mut got = [0u32; 3];
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.iter().any(|g| *g < n) {
        if Instant::now() > deadline {
            return Err(format!("client {client}: timed out with {got:?} of {n}"));
        }
        for (i, s) in socks.iter().enumerate() {
            while sent[i] < n && sent[i] - got[i] < window {
                let payload = [client, i as u8, 0, 0, 0, 0, 0, 0, 0, 0];
                let mut p = payload.to_vec();
                p[2..6].copy_from_slice(&sent[i].to_le_bytes());
                s.send_multipart([b"seq".to_vec(), p], 0).unwrap();
                sent[i] += 1;
            }
        }
        let mut items: Vec<zmq::PollItem> =
            socks.iter().map(|s| s.as_poll_item(zmq::POLLIN)).collect();
        // A missed edge on the server shows up as no progress here for many seconds.
        let n_ready = zmq::poll(&mut items, 10_000).unwrap();
        if n_ready == 0 {
            return Err(format!(
                "client {client}: no reply for 10 s with {got:?} of {n}: stall"
            ));
        }
        for (i, s) in socks.iter().enumerate() {
            while let Ok(m) = s.recv_multipart(zmq::DONTWAIT) {
                if m.len() != 2 || m[0] != b"seq" {
                    return Err(format!("client {client}: bad echo {m:?}"));
                }
                let seq = u32::from_le_bytes(m[1][2..6].try_into().unwrap());
                if seq != got[i] || m[1][0] != client || m[1][1] != i as u8 {
                    return Err(format!(
                        "client {client} ch {i}: got seq {seq}, want {}",
                        got[i]
                    ));
                }
                got[i] += 1;
            }
        }
    }
    Ok(())
}

#[test]
fn flood_across_channels_never_stalls() {
    let port = 22100;
    let server = Server::start(port, 1_000_000, Echo { out: Vec::new() });
    let n = 20_000;
    let clients: Vec<_> = (1..=3u8)
        .map(|c| std::thread::spawn(move || echo_client(port, n, c)))
        .collect();
    let results: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let stats = server.stop();
    for r in results {
        r.expect("client");
    }
    eprintln!("wakeups {} stalls {}", stats.wakeups, stats.stalls);
    assert_eq!(
        stats.stalls, 0,
        "a wake-up by timeout found messages a missed edge had hidden"
    );
}

/// Relays every data message to every other peer that said hello on the data channel;
/// records send failures and stops sending to a peer that failed.
struct FanOut {
    peers: Vec<Identity>,
    failed: Arc<Mutex<Vec<(Channel, Identity, SendFailure)>>>,
    out: std::collections::VecDeque<Action>,
    dead: HashSet<Identity>,
}

impl Core for FanOut {
    fn handle_frame(&mut self, _: Millis, channel: Channel, from: &Identity, frames: Vec<Frame>) {
        if frames.first().map(|f| &f[..]) == Some(b"hello") {
            self.peers.push(from.clone());
            self.out.push_back(Action::Send {
                channel,
                to: from.clone(),
                frames: frames.into(),
            });
            return;
        }
        for p in &self.peers {
            if p != from && !self.dead.contains(p) {
                self.out.push_back(Action::Send {
                    channel,
                    to: p.clone(),
                    frames: frames.clone().into(),
                });
            }
        }
    }
    fn handle_tick(&mut self, _: Millis) {}
    fn handle_send_failure(&mut self, _: Millis, ch: Channel, to: &Identity, f: SendFailure) {
        self.failed.lock().unwrap().push((ch, to.clone(), f));
        self.dead.insert(to.clone());
        self.out.push_back(Action::DropPeer { to: to.clone() });
    }
    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }
    fn next_deadline(&self) -> Option<Millis> {
        None
    }
}

fn hello(s: &zmq::Socket) {
    s.send("hello", 0).unwrap();
    let m = s.recv_multipart(0).expect("hello echo");
    assert_eq!(m, vec![b"hello".to_vec()]);
}

fn size_of(i: u32) -> usize {
    if i % 50 == 0 {
        20_000
    } else {
        1024
    }
}

#[test]
fn slow_peer_overflows_alone_and_others_get_everything() {
    let port = 22110;
    let failed = Arc::new(Mutex::new(Vec::new()));
    let core = FanOut {
        peers: Vec::new(),
        failed: failed.clone(),
        out: Default::default(),
        dead: HashSet::new(),
    };
    let limit = 200;
    let server = Server::start(port, limit, core);
    let ctx = zmq::Context::new();
    let sender = dealer(&ctx, b"sender", port + 1);
    let fast1 = dealer(&ctx, b"fast-1", port + 1);
    let fast2 = dealer(&ctx, b"fast-2", port + 1);
    let slow = dealer(&ctx, b"slow", port + 1);
    for s in [&sender, &fast1, &fast2, &slow] {
        hello(s);
    }
    // `slow` never reads again. The sender keeps at most WINDOW messages ahead of the fast
    // readers, so they are never the ones that fall behind (2 cores, 5+ busy threads). Every
    // 50th message is 20 kB, which goes out by reference (the zero-copy path).
    const WINDOW: u32 = 300;
    let n: u32 = 20_000;
    let progress: Arc<[std::sync::atomic::AtomicU32; 2]> = Arc::new(Default::default());
    let readers: Vec<_> = [fast1, fast2]
        .into_iter()
        .enumerate()
        .map(|(k, s)| {
            let progress = progress.clone();
            std::thread::spawn(move || {
                for i in 0..n {
                    let m = s.recv_multipart(0).map_err(|e| format!("msg {i}: {e}"))?;
                    let seq = u32::from_le_bytes(m[0][..4].try_into().unwrap());
                    if seq != i
                        || m[0].len() != size_of(i)
                        || m[0][size_of(i) - 1] != (i % 251) as u8
                    {
                        return Err(format!("msg {i}: got seq {seq}"));
                    }
                    progress[k].store(i + 1, Ordering::SeqCst);
                }
                Ok::<_, String>(s)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..n {
        while progress
            .iter()
            .map(|p| p.load(Ordering::SeqCst))
            .min()
            .unwrap_or(0)
            + WINDOW
            < i
        {
            assert!(
                Instant::now() < deadline,
                "fast readers stuck at {progress:?}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut p = vec![0u8; size_of(i)];
        p[..4].copy_from_slice(&i.to_le_bytes());
        p[size_of(i) - 1] = (i % 251) as u8;
        sender.send(p, 0).unwrap();
    }
    for r in readers {
        r.join()
            .unwrap()
            .expect("a fast peer missed or reordered a message");
    }
    let stats = server.stop();
    let failed = failed.lock().unwrap().clone();
    assert_eq!(
        failed,
        vec![(
            Channel::Data,
            Arc::<[u8]>::from(&b"slow"[..]),
            SendFailure::QueueOverflow
        )],
        "exactly the slow peer overflows, once"
    );
    assert_eq!(stats.stalls, 0);
    drop(slow);
}

#[test]
fn oversized_multipart_is_dropped_and_the_peer_keeps_working() {
    let port = 22120;
    let server = Server::start(port, 1000, Echo { out: Vec::new() });
    let ctx = zmq::Context::new();
    let s = dealer(&ctx, b"many-frames", port);
    let parts: Vec<Vec<u8>> = (0..70u8).map(|i| vec![i]).collect();
    s.send_multipart(parts, 0).unwrap();
    s.send_multipart([b"after".to_vec()], 0).unwrap();
    let m = s.recv_multipart(0).expect("echo of the normal message");
    assert_eq!(
        m,
        vec![b"after".to_vec()],
        "the 70-frame message must not be echoed"
    );
    assert_eq!(server.stop().stalls, 0);
}

#[test]
fn departed_peer_is_reported_unreachable() {
    let port = 22130;
    let failed = Arc::new(Mutex::new(Vec::new()));
    let core = FanOut {
        peers: Vec::new(),
        failed: failed.clone(),
        out: Default::default(),
        dead: HashSet::new(),
    };
    let server = Server::start(port, 1000, core);
    let ctx = zmq::Context::new();
    let sender = dealer(&ctx, b"sender", port + 1);
    let gone = dealer(&ctx, b"gone", port + 1);
    hello(&sender);
    hello(&gone);
    drop(gone);
    // The disconnect reaches the server asynchronously: keep sending until it is reported.
    let deadline = Instant::now() + Duration::from_secs(10);
    while failed.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no Unreachable report");
        sender.send("x", 0).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
    assert_eq!(
        failed.lock().unwrap()[0],
        (
            Channel::Data,
            Arc::<[u8]>::from(&b"gone"[..]),
            SendFailure::Unreachable
        )
    );
}

#[test]
fn reconnecting_identity_takes_over_its_route() {
    let port = 22140;
    let server = Server::start(port, 1000, Echo { out: Vec::new() });
    let ctx = zmq::Context::new();
    let old = dealer(&ctx, b"same-id", port);
    old.send("one", 0).unwrap();
    assert_eq!(old.recv_bytes(0).unwrap(), b"one");
    // A second connection with the same identity (ROUTER_HANDOVER): replies go to it.
    let new = dealer(&ctx, b"same-id", port);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        new.send("two", 0).unwrap();
        new.set_rcvtimeo(200).unwrap();
        if let Ok(m) = new.recv_bytes(0) {
            assert_eq!(m, b"two");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new connection never got its echo"
        );
    }
    server.stop();
}
