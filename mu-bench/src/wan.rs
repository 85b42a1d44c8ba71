//! A WAN link on loopback (issue 16): a userspace TCP proxy in front of a server's three ports
//! that adds a fixed one-way delay in each direction, optionally under a bandwidth cap.
//! `tc netem` is not available on these machines (no `sch_netem`).
//!
//! Each accepted connection gets a connection to the same port offset of the target, and two
//! pipes. A pipe is a reader thread that stamps each chunk it reads with its due time (read
//! time + delay) and a writer thread that writes the chunks in order, each not before its due
//! time; with a cap, the writer also spaces the chunks of that direction (shared by the three
//! ports, as one access link would) by their size over the rate. The channel between the two
//! holds at most [`MAX_CHUNKS`] chunks of at most [`CHUNK`] bytes: when it is full the reader
//! stops reading and TCP's own flow control pushes back on the sender. Loopback only.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Largest chunk read at once.
const CHUNK: usize = 16 * 1024;
/// Chunks in flight per direction of one connection (at most 16 MiB).
const MAX_CHUNKS: usize = 1024;
/// How often a listener looks at the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// What the link does to the bytes.
#[derive(Clone, Copy, Debug)]
pub struct Link {
    /// One-way delay, each direction (RTT = 2 x delay).
    pub delay: Duration,
    /// Bytes per second, each direction; `None`: no cap.
    pub rate: Option<u64>,
}

/// A running proxy; stops accepting when dropped (open connections end with their peers).
pub struct Proxy {
    pub base: u16,
    stop: Arc<AtomicBool>,
    listeners: Vec<thread::JoinHandle<()>>,
}

/// The moment the capped direction is free again (shared by every connection of the proxy).
type Pacer = Arc<Mutex<Instant>>;

impl Proxy {
    /// Listens on 127.0.0.1:`listen`..+2 and forwards to 127.0.0.1:`target`..+2.
    pub fn start(listen: u16, target: u16, link: Link) -> Result<Proxy, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let up: Pacer = Arc::new(Mutex::new(Instant::now()));
        let down: Pacer = Arc::new(Mutex::new(Instant::now()));
        let mut socks = Vec::new();
        for i in 0..3u16 {
            let addr = ("127.0.0.1", listen + i);
            let l = TcpListener::bind(addr).map_err(|e| format!("bind {}: {e}", listen + i))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            socks.push((l, target + i));
        }
        let mut listeners = Vec::new();
        for (l, to) in socks {
            let (stop, up, down) = (stop.clone(), up.clone(), down.clone());
            listeners.push(thread::spawn(move || {
                accept_loop(l, to, link, &stop, &up, &down)
            }));
        }
        Ok(Proxy {
            base: listen,
            stop,
            listeners,
        })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.listeners.drain(..) {
            let _ = h.join();
        }
    }
}

fn accept_loop(l: TcpListener, to: u16, link: Link, stop: &AtomicBool, up: &Pacer, down: &Pacer) {
    while !stop.load(Ordering::Relaxed) {
        match l.accept() {
            Ok((client, _)) => {
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nonblocking(false);
                for s in [&client, &server] {
                    let _ = s.set_nodelay(true);
                }
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                pipe(client, s2, link, up.clone());
                pipe(server, c2, link, down.clone());
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

/// Bytes read from `from` are written to `to` after the link's delay, in order.
fn pipe(from: TcpStream, to: TcpStream, link: Link, pacer: Pacer) {
    let (tx, rx) = sync_channel::<(Instant, Vec<u8>)>(MAX_CHUNKS);
    thread::spawn(move || read_side(from, tx, link.delay));
    thread::spawn(move || write_side(to, rx, link.rate, &pacer));
}

fn read_side(mut from: TcpStream, tx: SyncSender<(Instant, Vec<u8>)>, delay: Duration) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx
                    .send((Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Read);
}

fn write_side(
    mut to: TcpStream,
    rx: Receiver<(Instant, Vec<u8>)>,
    rate: Option<u64>,
    pacer: &Pacer,
) {
    while let Ok((due, chunk)) = rx.recv() {
        let at = match rate {
            Some(r) if r > 0 => {
                let cost = Duration::from_secs_f64(chunk.len() as f64 / r as f64);
                let mut free = pacer.lock().unwrap_or_else(|p| p.into_inner());
                let done = (*free).max(due) + cost;
                *free = done;
                done
            }
            _ => due,
        };
        let wait = at.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        if to.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// `mu-bench wan-proxy`: runs a proxy until killed (the conformance suite's WAN rig).
pub fn run(listen: u16, target: u16, delay_ms: u64, mbit: Option<f64>) -> Result<(), String> {
    let link = Link {
        delay: Duration::from_millis(delay_ms),
        rate: mbit.map(|m| (m * 1e6 / 8.0) as u64),
    };
    let _p = Proxy::start(listen, target, link)?;
    println!("ready {listen} -> {target}, one-way delay {delay_ms} ms, cap {mbit:?} Mbit/s");
    let _ = std::io::stdout().flush();
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_base() -> u16 {
        // 127.0.0.1 ports in the benchmark's range, three in a row.
        for base in (22_600..22_900).step_by(3) {
            if (0..3).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
                return base;
            }
        }
        panic!("no free ports")
    }

    /// An echo server on `base`..+2 for `n` connections.
    fn echo(base: u16) -> Vec<TcpListener> {
        (0..3)
            .map(|i| TcpListener::bind(("127.0.0.1", base + i)).expect("bind"))
            .collect()
    }

    #[test]
    fn delays_each_direction_keeps_order_and_caps_the_rate() {
        let target = free_base();
        let ls = echo(target);
        let srv = thread::spawn(move || {
            let (mut s, _) = ls[0].accept().expect("accept");
            let mut buf = vec![0u8; 300_000];
            let mut got = 0;
            while got < buf.len() {
                match s.read(&mut buf[got..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            s.write_all(&buf[..got]).expect("echo");
        });
        let listen = free_base();
        let link = Link {
            delay: Duration::from_millis(40),
            rate: Some(2_000_000),
        };
        let _p = Proxy::start(listen, target, link).expect("proxy");
        let mut c = TcpStream::connect(("127.0.0.1", listen)).expect("connect");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let t0 = Instant::now();
        c.write_all(&data).expect("send");
        let mut back = vec![0u8; data.len()];
        c.read_exact(&mut back).expect("echoed");
        let el = t0.elapsed();
        srv.join().expect("server");
        assert_eq!(back, data, "bytes arrive whole and in order");
        // Two delays of 40 ms, and 300 kB each way at 2 MB/s (150 ms each way).
        assert!(el >= Duration::from_millis(80 + 300), "{el:?}");
        assert!(el < Duration::from_secs(10), "{el:?}");
    }
}
