//! Joins through a WAN link (issue 16): the first client uploads `joinN` directly, then one or
//! more joiners log in and join through [`wan::Proxy`] (fixed one-way delay, optional cap),
//! each doing exactly what the replication client does (one GET per SET it reads, popping the
//! catalog from its end, checking each SET's uuid). Each joiner's time runs from its
//! REQUEST_INIT to its DONE; logins come first, then every joiner starts at once. The server's
//! RSS is sampled every 10 ms during the joins. With more than one joiner, two active clients
//! (direct, no proxy) exchange 1 KiB Nodes at 100 msg/s ([`wanrelay`]) for 2 s before the
//! joins and all through them. In the pinned case ([`crate::cpus`]) the server, the uploader and
//! the probe's receiver run on one CPU, the proxy and the joiners on the others.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::frames::{self, Frames};
use crate::rig;
use crate::servers::{self, Server};
use crate::wan::{Link, Proxy};
use crate::wanrelay::{self, Latencies};

pub struct WanJoin {
    /// Each joiner's REQUEST_INIT-to-DONE time, s.
    pub join_s: Vec<f64>,
    /// Highest RSS during the joins minus the RSS before them, KiB.
    pub rss_growth_kib: Option<u64>,
    /// Bytes of the n nodes' SET messages (the upload's SETs: the same frames), for the
    /// transfer time at a capped rate.
    pub set_bytes: u64,
    /// Relay latency between two active clients with no join running, and during the joins.
    pub relay_quiet: Option<Latencies>,
    pub relay_busy: Option<Latencies>,
    /// The server's CPU time from the joins' start to the last one's DONE, s (all threads).
    pub server_cpu_s: f64,
}

pub fn run(
    srv: &Server,
    f: &Frames,
    n: usize,
    link: Link,
    joiners: usize,
    per_node: Duration,
    pinned: bool,
) -> Result<WanJoin, String> {
    let dataset = format!("join{n}");
    if f.dataset_len(&dataset) != n {
        return Err(format!("frames for {dataset} were not generated"));
    }
    let set_bytes = (0..n)
        .map(|i| f.get(&format!("{dataset}/set/{i}")).map(frames::msg_bytes))
        .sum::<Result<usize, String>>()? as u64;
    let relay = joiners > 1;
    let split = pinned.then(crate::cpus::split).transpose()?;
    // This thread's sockets and threads (the rig's libzmq I/O threads, the probe's reader) go
    // with the server; the thread itself gets every CPU back when the case ends.
    let _restore = split.as_ref().map(crate::cpus::Split::restore_on_drop);
    if let Some(s) = &split {
        crate::cpus::pin_current_thread(&[s.server])?;
    }
    let mut rig = rig::session(srv.kind, srv.port, f, &dataset, usize::from(relay))?;
    let mut probe = match rig.receivers.pop() {
        Some(rx) if relay => Some(wanrelay::Probe::start(f, rx)?),
        _ => None,
    };
    if let Some(s) = &split {
        crate::cpus::pin_current_thread(&s.rest)?;
    }
    let proxy = Proxy::start(servers::free_base_port()?, srv.port, link)?;
    // The joiners' sockets get their own libzmq I/O threads: on the probe's, 20 joins' bytes
    // would queue the probe's messages in this process, not in the server.
    let join_ctx = rig::context()?;
    let mut clients = Vec::with_capacity(joiners);
    for i in 0..joiners {
        // Client 0 uploaded, client 1 is the relay probe's receiver.
        let mut c = Client::connect(&join_ctx, proxy.base, i + 2)?;
        let ans = c.login(f)?;
        rig.keep_hb(&mut c);
        if ans != "RUNNING" {
            return Err(format!("joiner {i} got {ans}, expected RUNNING"));
        }
        clients.push(c);
    }
    // Let the logins' user-list broadcasts settle before the RSS baseline.
    thread::sleep(Duration::from_millis(300));
    // The probe's node is new: it is in the joiners' catalogs from here on.
    let relay_quiet = match &mut probe {
        Some(p) => Some(p.run(&rig.sender, 200, 200, || false)?),
        None => None,
    };
    let expected = n + usize::from(relay_quiet.is_some());
    let rss0 = srv.rss_kib();
    let sampling = Arc::new(AtomicBool::new(true));
    let pid = srv.pid();
    let sampler = {
        let on = sampling.clone();
        thread::spawn(move || {
            let mut peak = 0u64;
            while on.load(Ordering::Relaxed) {
                if let Some(r) = rss_of(pid) {
                    peak = peak.max(r);
                }
                thread::sleep(Duration::from_millis(10));
            }
            peak
        })
    };
    let start = Barrier::new(joiners);
    let cpu0 = srv.cpu_ns();
    let mut relay_busy = None;
    let results: Vec<_> = thread::scope(|s| {
        let handles: Vec<_> = clients
            .into_iter()
            .map(|c| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let t0 = Instant::now();
                    let got = c.join_paced(f, Duration::from_secs(600), per_node);
                    (c, got, t0.elapsed().as_secs_f64())
                })
            })
            .collect();
        if let Some(p) = &mut probe {
            let joining = || handles.iter().any(|h| !h.is_finished());
            relay_busy = Some(p.run(&rig.sender, 100, 60_000, joining));
        }
        handles.into_iter().map(|h| h.join()).collect()
    });
    let server_cpu_s = srv.cpu_ns().saturating_sub(cpu0) as f64 / 1e9;
    drop(probe);
    let relay_busy = relay_busy.transpose()?;
    let mut join_s = Vec::with_capacity(joiners);
    let mut err = None;
    for r in results {
        match r {
            Ok((c, Ok(got), secs)) if got == expected => {
                join_s.push(secs);
                rig.keep(c);
            }
            Ok((c, Ok(got), _)) => {
                err.get_or_insert(format!("joined {got} of {expected} nodes"));
                rig.keep(c);
            }
            Ok((_, Err(e), _)) => {
                err.get_or_insert(e);
            }
            Err(_) => {
                err.get_or_insert("joiner thread panicked".into());
            }
        }
    }
    sampling.store(false, Ordering::Relaxed);
    let peak = sampler.join().unwrap_or(0);
    drop(proxy);
    rig.finish()?;
    if let Some(e) = err {
        return Err(e);
    }
    Ok(WanJoin {
        join_s,
        rss_growth_kib: rss0.map(|r| peak.saturating_sub(r)),
        set_bytes,
        relay_quiet,
        relay_busy,
        server_cpu_s,
    })
}

fn rss_of(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
