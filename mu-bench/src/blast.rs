//! The throughput engine behind the fan-out and Commit phases: one sender pushes pre-built
//! messages on its data socket while receiver threads (each polling a group of data sockets) count
//! every whole message. The sender keeps at most `window` messages ahead of the slowest receiver,
//! so no queue on the server or in libzmq overflows (the reference drops silently at its
//! high-water mark, mu-serverd disconnects an overflowing client); the window is deep enough that
//! the pipeline never runs dry. A message that never arrives stops progress and is reported as a
//! loss, never averaged away. Every message carries a sequence number (in its dependency uuid),
//! so a duplicated or reordered delivery is caught too.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use zmq::{Message, Socket};

use crate::frames::{self, Msg};

pub struct Plan {
    /// Messages sent in turn (one for fan-out, forward/back deltas for Commits).
    pub msgs: Vec<Msg>,
    pub warmup: usize,
    pub count: usize,
    pub window: usize,
    pub recv_threads: usize,
    /// Give up when no receiver progressed for this long.
    pub stall: Duration,
}

pub struct Outcome {
    pub elapsed: Duration,
    pub expected: u64,
    pub delivered: u64,
    pub malformed: u64,
    /// Deliveries whose sequence number was not the next one expected (duplicate, reorder, gap).
    pub out_of_order: u64,
    pub server_cpu_ns: u64,
    pub gen_cpu_ns: u64,
    /// Receiver wake-ups that found messages: fewer per delivery means the server's output
    /// came in larger bursts, which also costs the generator less CPU per delivery.
    pub recv_rounds: u64,
}

struct Shared {
    counts: Vec<AtomicU64>,
    /// ns since `base` at which each receiver got its last expected message (0 = not yet).
    done_ns: Vec<AtomicU64>,
    bytes: AtomicU64,
    malformed: AtomicU64,
    out_of_order: AtomicU64,
    /// Receiver poll rounds that received something.
    rounds: AtomicU64,
    stop: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
    base: Instant,
}

impl Shared {
    fn min_count(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Acquire))
            .min()
            .unwrap_or(0)
    }
    fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Acquire)).sum()
    }
}

fn receive_group(
    sh: Arc<Shared>,
    socks: Vec<(usize, Socket)>,
    target: u64,
    frames: usize,
    (seq_frame, seq_off): (usize, usize),
) {
    let mut local: Vec<u64> = vec![0; socks.len()];
    let mut part = Message::new();
    while !sh.stop.load(Ordering::Relaxed) && local.iter().any(|&c| c < target) {
        let ready: Vec<bool> = {
            let mut items: Vec<_> = socks
                .iter()
                .map(|(_, s)| s.as_poll_item(zmq::POLLIN))
                .collect();
            if zmq::poll(&mut items, 50).is_err() {
                continue;
            }
            items.iter().map(|i| i.is_readable()).collect()
        };
        let mut progressed = false;
        for (j, ((idx, s), r)) in socks.iter().zip(ready).enumerate() {
            if !r {
                continue;
            }
            let mut bytes = 0u64;
            for _ in 0..512 {
                if s.recv(&mut part, zmq::DONTWAIT).is_err() {
                    break;
                }
                let mut n = 1;
                let mut in_order = false;
                loop {
                    bytes += part.len() as u64;
                    if n - 1 == seq_frame {
                        in_order = part.get(seq_off..).and_then(frames::read_seq) == Some(local[j]);
                    }
                    if !part.get_more() || s.recv(&mut part, 0).is_err() {
                        break;
                    }
                    n += 1;
                }
                if !in_order {
                    sh.out_of_order.fetch_add(1, Ordering::Relaxed);
                }
                if n != frames {
                    sh.malformed.fetch_add(1, Ordering::Relaxed);
                }
                local[j] += 1;
                if local[j] == target {
                    let ns = sh.base.elapsed().as_nanos() as u64;
                    sh.done_ns[*idx].store(ns.max(1), Ordering::Release);
                }
            }
            if bytes > 0 {
                progressed = true;
                sh.bytes.fetch_add(bytes, Ordering::Relaxed);
                sh.counts[*idx].store(local[j], Ordering::Release);
            }
        }
        if progressed {
            sh.rounds.fetch_add(1, Ordering::Relaxed);
            drop(sh.lock.lock());
            sh.cv.notify_all();
        }
    }
}

/// Runs the plan; `server_cpu` reads the server's CPU time in ns.
pub fn run(
    sender: &Socket,
    receivers: Vec<Socket>,
    plan: &Plan,
    server_cpu: &dyn Fn() -> u64,
) -> Result<Outcome, String> {
    let k = receivers.len();
    let target = (plan.warmup + plan.count) as u64;
    let sh = Arc::new(Shared {
        counts: (0..k).map(|_| AtomicU64::new(0)).collect(),
        done_ns: (0..k).map(|_| AtomicU64::new(0)).collect(),
        bytes: AtomicU64::new(0),
        malformed: AtomicU64::new(0),
        out_of_order: AtomicU64::new(0),
        rounds: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        lock: Mutex::new(()),
        cv: Condvar::new(),
        base: Instant::now(),
    });
    let frames = plan.msgs[0].len();
    let slot = frames::seq_slot(&plan.msgs[0]);
    if slot.is_none() || plan.msgs.iter().any(|m| frames::seq_slot(m) != slot) {
        return Err("messages lack a common sequence slot".into());
    }
    let slot = slot.unwrap_or((0, 0));
    let groups = plan.recv_threads.clamp(1, k.max(1));
    let mut buckets: Vec<Vec<(usize, Socket)>> = (0..groups).map(|_| Vec::new()).collect();
    for (i, s) in receivers.into_iter().enumerate() {
        buckets[i % groups].push((i, s));
    }
    let handles: Vec<_> = buckets
        .into_iter()
        .map(|b| {
            let sh = sh.clone();
            std::thread::spawn(move || receive_group(sh, b, target, frames, slot))
        })
        .collect();

    let mut t0 = Instant::now();
    let (mut cpu0, mut gen0) = (server_cpu(), crate::servers::self_cpu_ns());
    let mut rounds0 = 0;
    let mut failed = false;
    let mut min_seen = 0u64;
    'send: for i in 0..target as usize {
        if i == plan.warmup {
            // Wait until the warm-up arrived everywhere, then start the clock.
            if !wait_min(&sh, i as u64, plan.stall) {
                failed = true;
                break 'send;
            }
            t0 = Instant::now();
            cpu0 = server_cpu();
            gen0 = crate::servers::self_cpu_ns();
            rounds0 = sh.rounds.load(Ordering::Relaxed);
        }
        let need = (i + 1).saturating_sub(plan.window) as u64;
        if need > min_seen {
            min_seen = sh.min_count();
            if need > min_seen {
                if !wait_min(&sh, need, plan.stall) {
                    failed = true;
                    break 'send;
                }
                min_seen = need;
            }
        }
        if send_numbered(sender, &plan.msgs[i % plan.msgs.len()], slot, i as u64).is_err() {
            failed = true;
            break;
        }
    }
    if !failed {
        wait_min(&sh, target, plan.stall);
    }
    let end = Instant::now();
    let (cpu1, gen1) = (server_cpu(), crate::servers::self_cpu_ns());
    let rounds1 = sh.rounds.load(Ordering::Relaxed);
    sh.stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let last = sh
        .done_ns
        .iter()
        .map(|d| d.load(Ordering::Acquire))
        .max()
        .unwrap_or(0);
    let all_done = sh.done_ns.iter().all(|d| d.load(Ordering::Acquire) > 0);
    let finish = if all_done {
        sh.base + Duration::from_nanos(last)
    } else {
        end
    };
    let warm = (plan.warmup * k) as u64;
    Ok(Outcome {
        elapsed: finish.saturating_duration_since(t0),
        expected: (plan.count * k) as u64,
        delivered: sh.total().saturating_sub(warm),
        malformed: sh.malformed.load(Ordering::Relaxed),
        out_of_order: sh.out_of_order.load(Ordering::Relaxed),
        server_cpu_ns: cpu1.saturating_sub(cpu0),
        gen_cpu_ns: gen1.saturating_sub(gen0),
        recv_rounds: rounds1.saturating_sub(rounds0),
    })
}

/// Sends `msg` with sequence number `n` written into its slot (one copy per frame, as before).
pub fn send_numbered(s: &Socket, msg: &Msg, (fi, off): (usize, usize), n: u64) -> zmq::Result<()> {
    let last = msg.len().saturating_sub(1);
    for (i, f) in msg.iter().enumerate() {
        let mut m = Message::from(&f[..]);
        if i == fi {
            if let Some(slot) = m.get_mut(off..) {
                frames::write_seq(slot, n);
            }
        }
        s.send(m, if i < last { zmq::SNDMORE } else { 0 })?;
    }
    Ok(())
}

/// Blocks until every receiver counted `need` messages; false if nothing moved for `stall`.
fn wait_min(sh: &Shared, need: u64, stall: Duration) -> bool {
    let mut last_total = sh.total();
    let mut last_move = Instant::now();
    let mut g = sh.lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if sh.min_count() >= need {
            return true;
        }
        let total = sh.total();
        if total != last_total {
            last_total = total;
            last_move = Instant::now();
        } else if last_move.elapsed() > stall {
            return false;
        }
        g = match sh.cv.wait_timeout(g, Duration::from_millis(5)) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inproc ROUTER relaying the sender's messages to two receivers; `dup` re-sends the
    /// message with that index (a duplicate delivery).
    fn relay_run(dup: Option<usize>) -> Outcome {
        let ctx = zmq::Context::new();
        let router = ctx.socket(zmq::ROUTER).unwrap();
        router.bind("inproc://blast-test").unwrap();
        let dealer = |id: &[u8]| {
            let s = ctx.socket(zmq::DEALER).unwrap();
            s.set_identity(id).unwrap();
            s.connect("inproc://blast-test").unwrap();
            s
        };
        let sender = dealer(b"s");
        let receivers = vec![dealer(b"r1"), dealer(b"r2")];
        let total = 25;
        let relay = std::thread::spawn(move || {
            for i in 0..total {
                let m = router.recv_multipart(0).unwrap();
                let copies = if Some(i) == dup { 2 } else { 1 };
                for to in [&b"r1"[..], b"r2"] {
                    for _ in 0..copies {
                        router.send(to, zmq::SNDMORE).unwrap();
                        router.send_multipart(&m[1..], 0).unwrap();
                    }
                }
            }
        });
        let msg: Msg = vec![
            b"t".to_vec(),
            b"[5e9e9e9e-0000-4000-8000-000000000000]".to_vec(),
        ];
        let plan = Plan {
            msgs: vec![msg],
            warmup: 5,
            count: 20,
            window: 4,
            recv_threads: 2,
            stall: Duration::from_millis(500),
        };
        let out = run(&sender, receivers, &plan, &|| 0).unwrap();
        relay.join().unwrap();
        out
    }

    #[test]
    fn clean_relay_counts_every_delivery_in_order() {
        let o = relay_run(None);
        assert_eq!(
            (o.delivered, o.expected, o.out_of_order, o.malformed),
            (40, 40, 0, 0)
        );
    }

    #[test]
    fn duplicated_delivery_is_detected() {
        let o = relay_run(Some(10));
        assert!(o.out_of_order > 0, "{:?}", o.out_of_order);
    }
}
