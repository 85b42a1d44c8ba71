//! The measured phases, each against one freshly started server: fan-out and Commit throughput
//! (via `blast`), relay latency at a fixed rate, snapshot join time (and the RSS it leaves), and
//! idle CPU. Each returns raw figures; `main` turns them into report rows.

use std::time::{Duration, Instant};

use crate::blast::{self, Outcome, Plan};
use crate::client::Client;
use crate::frames::{Frames, Msg};
use crate::rig;
use crate::servers::Server;

/// Fan-out of `msgs` (sent in turn) from one client to `k` others; `dataset` is uploaded first so
/// the nodes exist. Loss and malformed messages are errors.
pub fn throughput(
    srv: &Server,
    f: &Frames,
    dataset: &str,
    msgs: Vec<Msg>,
    k: usize,
    count: usize,
    recv_threads: usize,
) -> Result<Outcome, String> {
    let mut rig = rig::session(srv.kind, srv.port, f, dataset, k)?;
    let size: usize = msgs[0].iter().map(Vec::len).sum();
    // Enough in flight to keep the pipeline full, far below any high-water mark (1000).
    let window = (4 << 20) / size.max(1);
    let plan = Plan {
        msgs,
        warmup: 20,
        count,
        window: window.clamp(16, 256),
        recv_threads,
        stall: Duration::from_secs(3),
    };
    let receivers = std::mem::take(&mut rig.receivers);
    let out = blast::run(&rig.sender, receivers, &plan, &|| srv.cpu_ns());
    rig.finish()?;
    let out = out?;
    if out.delivered < out.expected {
        return Err(format!(
            "LOST {} of {} deliveries",
            out.expected - out.delivered,
            out.expected
        ));
    }
    if out.out_of_order > 0 {
        return Err(format!(
            "{} deliveries duplicated or out of order",
            out.out_of_order
        ));
    }
    if out.malformed > 0 {
        return Err(format!("{} malformed deliveries", out.malformed));
    }
    Ok(out)
}

/// Latencies (ms) of `n` Nodes sent A -> B at 100 msg/s, after `warm` unmeasured ones.
pub fn latency(srv: &Server, f: &Frames, n: usize, warm: usize) -> Result<Vec<f64>, String> {
    let mut rig = rig::session(srv.kind, srv.port, f, "fan1k", 1)?;
    let rx = rig.receivers.pop().ok_or("no receiver")?;
    let total = n + warm;
    let msg = f.get("node/1k")?;
    let slot = crate::frames::seq_slot(msg).ok_or("node/1k has no sequence slot")?;
    let recv = std::thread::spawn(move || {
        let mut at = Vec::with_capacity(total);
        let mut disorder = 0usize;
        let deadline = Instant::now() + Duration::from_millis(10 * total as u64 + 5000);
        while at.len() < total && Instant::now() < deadline {
            if rx.poll(zmq::POLLIN, 100).unwrap_or(0) > 0 {
                if let Ok(m) = rx.recv_multipart(0) {
                    let now = Instant::now();
                    let seq = m.get(slot.0).and_then(|f| f.get(slot.1..));
                    if seq.and_then(crate::frames::read_seq) != Some(at.len() as u64) {
                        disorder += 1;
                    }
                    at.push(now);
                }
            }
        }
        (at, disorder)
    });
    let start = Instant::now();
    let mut sent = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_millis(10 * i as u64);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        sent.push(Instant::now());
        blast::send_numbered(&rig.sender, msg, slot, i as u64).map_err(|e| format!("send: {e}"))?;
    }
    let (got, disorder) = recv.join().map_err(|_| "receiver thread panicked")?;
    rig.finish()?;
    if disorder > 0 {
        return Err(format!("{disorder} messages duplicated or out of order"));
    }
    if got.len() < total {
        return Err(format!("LOST {} of {} messages", total - got.len(), total));
    }
    Ok(sent
        .iter()
        .zip(&got)
        .skip(warm)
        .map(|(s, r)| r.saturating_duration_since(*s).as_secs_f64() * 1e3)
        .collect())
}

pub struct JoinResult {
    pub upload_s: Option<f64>,
    pub join_s: f64,
    pub rss_kib: Option<u64>,
}

/// Upload of `n` nodes by a first client, then the timed join of a second one (Auth to DONE).
/// Against the ceiling: `n` bare request/reply round trips.
pub fn join(srv: &Server, f: &Frames, n: usize) -> Result<JoinResult, String> {
    let dataset = format!("join{n}");
    if srv.kind.speaks_protocol() && f.dataset_len(&dataset) != n {
        return Err(format!("frames for {dataset} were not generated"));
    }
    let t_up = Instant::now();
    let rig = rig::session(srv.kind, srv.port, f, &dataset, 0)?;
    let upload_s = t_up.elapsed().as_secs_f64();
    let mut c = Client::connect(&rig.ctx, srv.port, 1)?;
    let timeout = Duration::from_secs(120);
    let t0 = Instant::now();
    let got = if srv.kind.speaks_protocol() {
        let ans = c.login(f)?;
        rig.keep_hb(&mut c);
        if ans != "RUNNING" {
            return Err(format!("joiner got {ans}, expected RUNNING"));
        }
        c.join(f, timeout)?
    } else {
        c.bare_round_trips(f, n, timeout)?
    };
    let join_s = t0.elapsed().as_secs_f64();
    if got != n {
        return Err(format!("joined {got} of {n} nodes"));
    }
    let rss_kib = srv.rss_kib();
    let proto = srv.kind.speaks_protocol();
    if proto {
        rig.keep(c);
    }
    rig.finish()?;
    Ok(JoinResult {
        upload_s: proto.then_some(upload_s),
        join_s,
        rss_kib,
    })
}

/// The server's CPU, % of one core, over `secs` seconds with `clients` (0 or 2) logged-in clients
/// that only answer heartbeats. Against the ceiling the clients only start their heartbeat (no
/// login, no scene): what is left is the floor of a libzmq server that pings them every second.
pub fn idle(srv: &Server, f: &Frames, clients: usize, secs: f64) -> Result<f64, String> {
    let rig = if clients > 0 && srv.kind.speaks_protocol() {
        Some(rig::session(srv.kind, srv.port, f, "fan1k", clients - 1)?)
    } else {
        None
    };
    let floor = if clients > 0 && !srv.kind.speaks_protocol() {
        Some(rig::heartbeats_only(srv.port, clients)?)
    } else {
        None
    };
    std::thread::sleep(Duration::from_millis(1500));
    let c0 = srv.cpu_ns();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let c1 = srv.cpu_ns();
    let el = t0.elapsed().as_secs_f64();
    if let Some(r) = rig {
        r.finish()?;
    }
    if let Some(h) = floor {
        h.finish(secs)?;
    }
    Ok(100.0 * (c1.saturating_sub(c0)) as f64 / 1e9 / el)
}
