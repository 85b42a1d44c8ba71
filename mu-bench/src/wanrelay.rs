//! Relay latency between two active clients while others join (issue 16: "relayed traffic
//! between active clients keeps its latency"). The uploader sends 1 KiB Nodes (`node/1k`,
//! numbered) at 100 msg/s on its data socket, directly (no proxy); a second client, joined
//! directly, receives them. Each message's send-to-receive time is measured in this process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use zmq::Socket;

use crate::blast;
use crate::frames::{self, Frames, Msg};

/// Messages a second, as the `latency` phase.
const PERIOD: Duration = Duration::from_millis(10);

pub struct Probe {
    msg: Msg,
    slot: (usize, usize),
    next_seq: u64,
    arrivals: Receiver<(u64, Instant)>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

/// Send-to-receive times, ms, and how many were lost.
pub struct Latencies {
    pub ms: Vec<f64>,
    pub lost: usize,
}

impl Latencies {
    /// The `q` quantile (0..=1), nearest rank.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len().max(1)) - 1;
        v.get(i).copied()
    }
}

impl Probe {
    /// Starts reading `rx` (the receiving client's data socket).
    pub fn start(f: &Frames, rx: Socket) -> Result<Probe, String> {
        let msg = f.get("node/1k")?.clone();
        let slot = frames::seq_slot(&msg).ok_or("node/1k has no sequence slot")?;
        let (tx, arrivals) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let on = stop.clone();
        let reader = thread::spawn(move || {
            // Bounded by the stop flag, checked every 50 ms at most.
            while !on.load(Ordering::Relaxed) {
                if rx.poll(zmq::POLLIN, 50).unwrap_or(0) == 0 {
                    continue;
                }
                while let Ok(m) = rx.recv_multipart(zmq::DONTWAIT) {
                    let now = Instant::now();
                    let seq = m.get(slot.0).and_then(|f| f.get(slot.1..));
                    if let Some(n) = seq.and_then(frames::read_seq) {
                        if tx.send((n, now)).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok(Probe {
            msg,
            slot,
            next_seq: 0,
            arrivals,
            stop,
            reader: Some(reader),
        })
    }

    /// Sends at 100 msg/s on `sender` for at least `min` messages and while `more()` holds,
    /// at most `max`; then waits up to a second for the last ones.
    pub fn run(
        &mut self,
        sender: &Socket,
        min: usize,
        max: usize,
        more: impl Fn() -> bool,
    ) -> Result<Latencies, String> {
        let first = self.next_seq;
        let mut sent = Vec::new();
        let start = Instant::now();
        while sent.len() < max && (sent.len() < min || more()) {
            let due = start + PERIOD * sent.len() as u32;
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                thread::sleep(d);
            }
            sent.push(Instant::now());
            blast::send_numbered(sender, &self.msg, self.slot, self.next_seq)
                .map_err(|e| format!("relay send: {e}"))?;
            self.next_seq += 1;
        }
        let mut got: Vec<Option<Instant>> = vec![None; sent.len()];
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut missing = sent.len();
        while missing > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok((n, at)) = self.arrivals.recv_timeout(left) else {
                break;
            };
            let Some(i) = n.checked_sub(first).map(|i| i as usize) else {
                continue;
            };
            if let Some(slot @ None) = got.get_mut(i) {
                *slot = Some(at);
                missing -= 1;
            }
        }
        let ms = sent
            .iter()
            .zip(&got)
            .filter_map(|(s, r)| {
                Some(r.as_ref()?.saturating_duration_since(*s).as_secs_f64() * 1e3)
            })
            .collect();
        Ok(Latencies { ms, lost: missing })
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}
