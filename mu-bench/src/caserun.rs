//! Running one benchmark case against one server and turning its raw result into report rows
//! (ids, labels, units, CPU shares), or a failure row. Apart from `cases` so the plan of a run
//! reads on its own, and the per-phase row layout in one place.

use std::time::Instant;

use crate::cases::Case;
use crate::frames::Frames;
use crate::phases;
use crate::report::{Measure, Report};
use crate::servers::{self, Server};

impl Case {
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
                pinned,
                ..
            } => {
                let link = crate::wan::Link {
                    delay: std::time::Duration::from_millis(delay_ms),
                    rate: mbit.map(|m| u64::from(m) * 1_000_000 / 8),
                };
                let per_node = std::time::Duration::from_micros(wan_client_us);
                let r = crate::wanjoin::run(srv, f, n, link, joiners, per_node, pinned);
                crate::wanrows::record(rep, kind, n, delay_ms, mbit, joiners, scale, pinned, r);
            }
            // Runs without a bench-started server (`main`, [`crate::realwan`]).
            Case::RealWan { .. } => {}
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
