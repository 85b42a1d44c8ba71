//! The keeper thread: keeps logged-in bench clients alive while a phase measures something else.
//! It owns their heartbeat sockets (answers every PING with PONG, as `ttl.py` does) and their
//! command sockets (reads and counts the broadcasts, so no queue grows on the server). A
//! Disconnect from the server is recorded: a phase that lost a client failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use zmq::Socket;

use crate::client::T_DISCONNECT;
use crate::pickle;

#[derive(Default, Debug)]
pub struct KeeperStats {
    pub pongs: u64,
    pub commands: u64,
    pub disconnects: Vec<String>,
}

pub struct Keeper {
    tx: Option<Sender<(Socket, bool)>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<KeeperStats>>,
}

impl Keeper {
    pub fn start() -> Self {
        let (tx, rx) = channel::<(Socket, bool)>();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut socks: Vec<(Socket, bool)> = Vec::new();
            let mut st = KeeperStats::default();
            while !stop2.load(Ordering::Relaxed) {
                while let Ok(s) = rx.try_recv() {
                    socks.push(s);
                }
                let ready: Vec<bool> = {
                    let mut items: Vec<_> = socks
                        .iter()
                        .map(|(s, _)| s.as_poll_item(zmq::POLLIN))
                        .collect();
                    if zmq::poll(&mut items, 20).is_err() {
                        continue;
                    }
                    items.iter().map(|i| i.is_readable()).collect()
                };
                for ((s, is_hb), r) in socks.iter().zip(ready) {
                    if !r {
                        continue;
                    }
                    while let Ok(m) = s.recv_multipart(zmq::DONTWAIT) {
                        if *is_hb {
                            if s.send(&b"PONG"[..], zmq::DONTWAIT).is_ok() {
                                st.pongs += 1;
                            }
                        } else {
                            st.commands += 1;
                            if m.first().and_then(|f| pickle::type_num(f)) == Some(T_DISCONNECT) {
                                let why = m.get(2).and_then(|d| pickle::loads(d).ok());
                                st.disconnects.push(format!("{why:?}"));
                            }
                        }
                    }
                }
            }
            st
        });
        Keeper {
            tx: Some(tx),
            stop,
            handle: Some(handle),
        }
    }

    /// Hands a heartbeat socket (`is_hb`) or a command socket to the keeper.
    pub fn adopt(&self, s: Socket, is_hb: bool) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((s, is_hb));
        }
    }

    /// Takes a client's heartbeat socket, if it still has one.
    pub fn adopt_hb(&self, c: &mut crate::client::Client) {
        if let Some(hb) = c.hb.take() {
            self.adopt(hb, true);
        }
    }

    /// Stops the thread (its sockets close) and returns what it saw.
    pub fn finish(mut self) -> KeeperStats {
        self.stop.store(true, Ordering::Relaxed);
        self.tx = None;
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
