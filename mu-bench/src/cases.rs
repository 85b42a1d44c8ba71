//! What a benchmark run consists of: the list of cases (phase + parameters) with their message
//! counts for a full or a `--quick` run, which servers each case applies to, and how one case's
//! raw result becomes report rows.

use std::time::Instant;

use crate::frames::Frames;
use crate::phases;
use crate::report::{Measure, Report};
use crate::servers::{self, Kind, Server};

#[derive(Clone, Copy, Debug)]
pub enum Case {
    Fanout {
        k: usize,
        big: bool,
        count: usize,
    },
    Commit {
        big: bool,
        count: usize,
    },
    Latency {
        n: usize,
    },
    Join {
        n: usize,
    },
    Idle {
        clients: usize,
        secs: f64,
    },
    /// Issue 16: `joiners` join `n` nodes at once through a WAN proxy of `delay_ms` each way
    /// (optional cap, Mbit/s). The reference's slow links are measured on fewer nodes and the
    /// times multiplied by `scale` (`on_mu` false, `on_ref` true), stated in the label.
    Wan {
        n: usize,
        delay_ms: u64,
        mbit: Option<u32>,
        joiners: usize,
        scale: usize,
        on_mu: bool,
        on_ref: bool,
    },
}

pub const PHASES: &[&str] = &["fanout", "commit", "latency", "join", "idle", "wan"];

/// The WAN cases: each link at `n` nodes on mu-serverd, and on the reference at `n` (RTT 0)
/// or at `small` nodes scaled to `n` (its one round trip per node makes `n` take minutes).
fn wan_cases(v: &mut Vec<Case>, n: usize, small: usize, rtt: u64, joiners: usize) {
    let w = |n, delay_ms, mbit, joiners, scale, on_mu, on_ref| Case::Wan {
        n,
        delay_ms,
        mbit,
        joiners,
        scale,
        on_mu,
        on_ref,
    };
    let d = rtt / 2;
    v.push(w(n, 0, None, 1, 1, true, true));
    for (delay, mbit, j) in [
        (d, None, 1),
        (3 * d, None, 1),
        (d, Some(20), 1),
        (d, None, joiners),
    ] {
        v.push(w(n, delay, mbit, j, 1, true, small == n));
        if small != n {
            v.push(w(small, delay, mbit, j, n / small, false, true));
        }
    }
}

/// The cases of a run, in order, restricted to `phases`.
pub fn plan(quick: bool, phases: &[String]) -> Vec<Case> {
    let mut v = Vec::new();
    // Deliveries per case, sized so the reference needs a few seconds (issue 8's figures).
    let fan = |k: usize, big: bool| {
        let (budget, min) = if big { (48_000, 500) } else { (240_000, 2_000) };
        Case::Fanout {
            k,
            big,
            count: (budget / k).max(min),
        }
    };
    if quick {
        v.push(Case::Fanout {
            k: 2,
            big: false,
            count: 300,
        });
        v.push(Case::Fanout {
            k: 8,
            big: true,
            count: 40,
        });
        v.push(Case::Commit {
            big: false,
            count: 100,
        });
        v.push(Case::Commit {
            big: true,
            count: 40,
        });
        v.push(Case::Latency { n: 30 });
        v.push(Case::Join { n: 200 });
        v.push(Case::Idle {
            clients: 2,
            secs: 0.5,
        });
        wan_cases(&mut v, 200, 200, 10, 2);
    } else {
        for big in [false, true] {
            for k in [2, 8, 32] {
                v.push(fan(k, big));
            }
        }
        v.push(Case::Commit {
            big: false,
            count: 15_000,
        });
        v.push(Case::Commit {
            big: true,
            count: 2_000,
        });
        v.push(Case::Latency { n: 500 });
        v.push(Case::Join { n: 1_000 });
        v.push(Case::Join { n: 10_000 });
        v.push(Case::Idle {
            clients: 0,
            secs: 10.0,
        });
        v.push(Case::Idle {
            clients: 2,
            secs: 10.0,
        });
        wan_cases(&mut v, 10_000, 500, 50, 20);
    }
    v.retain(|c| phases.iter().any(|p| p == c.phase()));
    v
}

impl Case {
    pub fn phase(&self) -> &'static str {
        match self {
            Case::Fanout { .. } => "fanout",
            Case::Commit { .. } => "commit",
            Case::Latency { .. } => "latency",
            Case::Join { .. } => "join",
            Case::Idle { .. } => "idle",
            Case::Wan { .. } => "wan",
        }
    }

    /// Whether this case is measured against `kind`.
    pub fn applies(&self, kind: Kind) -> bool {
        match (self, kind) {
            (Case::Fanout { .. }, _) => true,
            (_, Kind::MuPersist) => false,
            (Case::Wan { on_mu, .. }, Kind::Mu) => *on_mu,
            (Case::Wan { on_ref, .. }, Kind::Reference) => *on_ref,
            (Case::Wan { .. }, _) => false,
            _ => true,
        }
    }

    /// Join dataset sizes the frame generator must build.
    pub fn join_count(&self) -> Option<usize> {
        match self {
            Case::Join { n } | Case::Wan { n, .. } => Some(*n),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        format!("{self:?}")
    }

    /// Runs the case once against `srv` and records its rows (or its failure) into `rep`.
    /// `wan_client_us`: time a WAN joiner spends per node (0: as fast as the bench client).
    pub fn run(
        &self,
        srv: &Server,
        f: &Frames,
        recv_threads: usize,
        wan_client_us: u64,
        rep: &mut Report,
    ) {
        let kind = srv.kind;
        let t0 = Instant::now();
        let (s0, g0) = (srv.cpu_ns(), servers::self_cpu_ns());
        let cores = |s1: u64, g1: u64| {
            let el = t0.elapsed().as_secs_f64().max(1e-9);
            (
                Some((s1.saturating_sub(s0)) as f64 / 1e9 / el),
                Some((g1.saturating_sub(g0)) as f64 / 1e9 / el),
            )
        };
        match *self {
            Case::Fanout { k, big, count } => {
                let (ds, name, what) = if big {
                    ("fan64k", "node/64k", "64 KiB Node")
                } else {
                    ("fan1k", "node/1k", "1 KiB Node")
                };
                let id = format!("fanout-k{k}-{}", if big { "64k" } else { "1k" });
                let label = format!("fan-out K={k} × {what}");
                self.throughput(
                    srv,
                    f,
                    ds,
                    &[name],
                    k,
                    count,
                    recv_threads,
                    &id,
                    &label,
                    rep,
                );
            }
            Case::Commit { big, count } => {
                let (ds, pre, what) = if big {
                    ("commit64k", "commit/64k", "8,000-float node (4 changes)")
                } else {
                    ("commit1k", "commit/1k", "1 KiB object node (4 changes)")
                };
                let id = format!("commit-k8-{}", if big { "64k" } else { "1k" });
                let label = format!("Commit fan-out K=8, {what}");
                let names = [format!("{pre}/fwd"), format!("{pre}/back")];
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                self.throughput(srv, f, ds, &names, 8, count, recv_threads, &id, &label, rep);
            }
            Case::Latency { n } => {
                let rows = [
                    ("latency-p50", "relay latency p50 @100 msg/s"),
                    ("latency-p99", "relay latency p99 @100 msg/s"),
                    ("latency-max", "relay latency max @100 msg/s"),
                ];
                match phases::latency(srv, f, n, 20.min(n)) {
                    Ok(mut l) => {
                        let (sc, gc) = cores(srv.cpu_ns(), servers::self_cpu_ns());
                        l.sort_by(|a, b| a.total_cmp(b));
                        let pct = |p: f64| {
                            l[((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1]
                        };
                        let vals = [pct(0.50), pct(0.99), l[l.len() - 1]];
                        for ((id, label), v) in rows.iter().zip(vals) {
                            rep.record(
                                id,
                                label,
                                "ms",
                                false,
                                kind,
                                Measure {
                                    value: v,
                                    server_cores: sc,
                                    gen_cores: gc,
                                },
                            );
                        }
                    }
                    Err(e) => rep.fail(rows[0].0, rows[0].1, "ms", false, kind, e),
                }
            }
            Case::Join { n } => {
                let id = format!("join-{n}");
                let label = format!("join {n} × 1 KiB nodes (one GET per round trip)");
                match phases::join(srv, f, n) {
                    Ok(j) => {
                        let (sc, gc) = cores(srv.cpu_ns(), servers::self_cpu_ns());
                        let m = |v: f64| Measure {
                            value: v,
                            server_cores: sc,
                            gen_cores: gc,
                        };
                        rep.record(&id, &label, "s", false, kind, m(j.join_s));
                        rep.record(
                            &format!("{id}-per-get"),
                            &format!("  per GET round trip, {n} nodes"),
                            "µs",
                            false,
                            kind,
                            m(j.join_s * 1e6 / n as f64),
                        );
                        if let Some(u) = j.upload_s {
                            rep.record(
                                &format!("upload-{n}"),
                                &format!("upload {n} × 1 KiB nodes (first client)"),
                                "s",
                                false,
                                kind,
                                m(u),
                            );
                        }
                        if let (Some(r), true) = (j.rss_kib, kind.speaks_protocol()) {
                            let no_cpu = Measure {
                                value: r as f64 / 1024.0,
                                server_cores: None,
                                gen_cores: None,
                            };
                            rep.record(
                                &format!("rss-{n}"),
                                &format!("RSS after loading {n} nodes"),
                                "MiB",
                                false,
                                kind,
                                no_cpu,
                            );
                        }
                    }
                    Err(e) => rep.fail(&id, &label, "s", false, kind, e),
                }
            }
            Case::Wan {
                n,
                delay_ms,
                mbit,
                joiners,
                scale,
                ..
            } => {
                let link = crate::wan::Link {
                    delay: std::time::Duration::from_millis(delay_ms),
                    rate: mbit.map(|m| u64::from(m) * 1_000_000 / 8),
                };
                let per_node = std::time::Duration::from_micros(wan_client_us);
                let r = crate::wanjoin::run(srv, f, n, link, joiners, per_node);
                crate::wanrows::record(rep, kind, n, delay_ms, mbit, joiners, scale, r);
            }
            Case::Idle { clients, secs } => {
                let id = format!("idle-{clients}");
                let label = format!("idle CPU over {secs} s, {clients} heartbeating clients");
                match phases::idle(srv, f, clients, secs) {
                    Ok(p) => rep.record(
                        &id,
                        &label,
                        "% core",
                        false,
                        kind,
                        Measure {
                            value: p,
                            server_cores: None,
                            gen_cores: None,
                        },
                    ),
                    Err(e) => rep.fail(&id, &label, "% core", false, kind, e),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn throughput(
        &self,
        srv: &Server,
        f: &Frames,
        ds: &str,
        names: &[&str],
        k: usize,
        count: usize,
        recv_threads: usize,
        id: &str,
        label: &str,
        rep: &mut Report,
    ) {
        let kind = srv.kind;
        let msgs = match names
            .iter()
            .map(|n| f.get(n).cloned())
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(m) => m,
            Err(e) => return rep.fail(id, label, "deliveries/s", true, kind, e),
        };
        let size = crate::frames::msg_bytes(&msgs[0]) as f64;
        match phases::throughput(srv, f, ds, msgs, k, count, recv_threads) {
            Ok(o) => {
                let el = o.elapsed.as_secs_f64().max(1e-9);
                let rate = o.delivered as f64 / el;
                let sc = Some(o.server_cpu_ns as f64 / 1e9 / el);
                let gc = Some(o.gen_cpu_ns as f64 / 1e9 / el);
                rep.record(
                    id,
                    label,
                    "deliveries/s",
                    true,
                    kind,
                    Measure {
                        value: rate,
                        server_cores: sc,
                        gen_cores: gc,
                    },
                );
                rep.record(
                    &format!("{id}-mbs"),
                    &format!("  same, payload {:.0} B/msg", size),
                    "MB/s",
                    true,
                    kind,
                    Measure {
                        value: rate * size / 1e6,
                        server_cores: sc,
                        gen_cores: gc,
                    },
                );
                rep.record(
                    &format!("{id}-wakeups"),
                    "  same, receiver wake-ups per 1,000 deliveries",
                    "count",
                    false,
                    kind,
                    Measure {
                        value: o.recv_rounds as f64 * 1000.0 / (o.delivered.max(1) as f64),
                        server_cores: sc,
                        gen_cores: gc,
                    },
                );
            }
            Err(e) => rep.fail(id, label, "deliveries/s", true, kind, e),
        }
    }
}
