//! What the shell tests share: a [`Server`] running a `Shell` with a test core on a thread
//! (the loop sleeps without a timeout, and counts wake-ups that found work no event announced),
//! DEALER clients, and a flooding echo client that checks every reply's order.

#![allow(dead_code)] // each test binary uses its own part

use mio::{Events, Poll, Token, Waker};
use mu_serverd::session::io::Journal;
use mu_serverd::shell::{Core, Shell, SocketOptions};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAKE: Token = Token(0);
const FIRST_ZMQ: usize = 1;

pub type Persist = Box<dyn Journal + Send>;

/// Persistence off, as the daemon runs it: no store.
pub fn no_journal() -> Persist {
    Box::new(None::<mu_serverd::store::Store>)
}

#[derive(Default)]
pub struct LoopStats {
    pub wakeups: u64,
    /// Woke by timeout (no event) and then found messages: an edge was missed.
    pub stalls: u64,
}

/// Runs the shell with a core on a thread until stopped.
pub struct Server {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<LoopStats>>,
}

impl Server {
    /// `selective`: the daemon's mode (every poll event passed to `Shell::note_event`).
    pub fn start<C: Core + Send + 'static>(
        port: u16,
        limit: usize,
        mut core: C,
        mut persist: Persist,
        selective: bool,
    ) -> Server {
        let opts = SocketOptions {
            bind: "127.0.0.1".into(),
            port,
            max_message_bytes: 1 << 20,
        };
        let mut shell = Shell::bind(&opts, limit).expect("bind");
        let mut poll = Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
        shell.register(poll.registry(), FIRST_ZMQ).unwrap();
        shell.set_selective(selective);
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
                for ev in events.iter() {
                    shell.note_event(ev.token());
                }
                let before = shell.counters().0;
                shell.pump(&mut core, &mut *persist);
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

    pub fn stop(mut self) -> LoopStats {
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

pub fn dealer(ctx: &zmq::Context, id: &[u8], port: u16) -> zmq::Socket {
    let s = ctx.socket(zmq::DEALER).unwrap();
    s.set_identity(id).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(10_000).unwrap();
    s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    s
}

/// One client: three DEALERs with one identity, each keeping `window` `seq` messages in flight
/// and checking that every echo comes back on its channel, in order.
pub fn echo_client(port: u16, n: u32, client: u8, window: u32) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let id = [client; 16];
    let socks: Vec<zmq::Socket> = (0..3).map(|i| dealer(&ctx, &id, port + i)).collect();
    let mut sent = [0u32; 3];
    let mut got = [0u32; 3];
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.iter().any(|g| *g < n) {
        if Instant::now() > deadline {
            return Err(format!("client {client}: timed out with {got:?} of {n}"));
        }
        for (i, s) in socks.iter().enumerate() {
            while sent[i] < n && sent[i] - got[i] < window {
                let mut p = vec![client, i as u8, 0, 0, 0, 0, 0, 0, 0, 0];
                p[2..6].copy_from_slice(&sent[i].to_le_bytes());
                s.send_multipart([b"seq".to_vec(), p], 0).unwrap();
                sent[i] += 1;
            }
        }
        let mut items: Vec<zmq::PollItem> =
            socks.iter().map(|s| s.as_poll_item(zmq::POLLIN)).collect();
        // A missed edge on the server shows up as no progress here for many seconds.
        if zmq::poll(&mut items, 10_000).unwrap() == 0 {
            return Err(format!(
                "client {client}: no reply for 10 s with {got:?} of {n}: stall"
            ));
        }
        for (i, s) in socks.iter().enumerate() {
            while let Ok(m) = s.recv_multipart(zmq::DONTWAIT) {
                if m.len() != 2 || m[0] != b"seq" || m[1].len() != 10 {
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
