//! The REAL replication client's join through the WAN proxy (issue 16, "the real
//! one-GET-per-round-trip client logic"): runs `py/real_wan_join.py` (replication 0.9.10's own
//! interface, porcelain and repository, as the conformance suite drives it) against a server
//! that script starts, and records one row per link. The `wan` phase's Rust joiner does the same
//! on the wire but spends only what `--wan-client-us` says per node; this phase spends what
//! Python spends. Its joins are timed from the connect to ACTIVE (login included).

use std::path::Path;
use std::process::Command;

use crate::report::{Measure, Report};
use crate::servers::{Env, Kind};

/// One server's joins: `nodes` at each one-way delay of `delays_ms`; with `scale` > 1 the times
/// are multiplied by it (the reference's slow links on fewer nodes, said in the label).
pub struct Plan {
    pub nodes: usize,
    pub delays_ms: Vec<u64>,
    pub scale: usize,
}

/// A parsed result line: `mu nodes=10000 rtt_ms=50 join_s=1.531 ms_per_node=0.153`.
#[derive(Debug, PartialEq)]
pub struct Joined {
    pub nodes: usize,
    pub rtt_ms: u64,
    pub join_s: f64,
}

pub fn parse_line(line: &str) -> Option<Joined> {
    let mut it = line.split_whitespace();
    let _server = it.next()?;
    let mut field = |key: &str| it.next()?.strip_prefix(key)?.strip_prefix('=');
    Some(Joined {
        nodes: field("nodes")?.parse().ok()?,
        rtt_ms: field("rtt_ms")?.parse().ok()?,
        join_s: field("join_s")?.parse().ok()?,
    })
}

pub fn row_id(rtt_ms: u64) -> String {
    format!("realwan-rtt{rtt_ms}")
}

/// Runs `plan` on `kind` (mu-serverd or the reference) and records its rows.
pub fn run(kind: Kind, env: &Env, plan: &Plan, rep: &mut Report) {
    let full = plan.nodes * plan.scale;
    let label = |rtt: u64| {
        let mut l = format!("real replication client's join {full} × 1 KiB, RTT {rtt} ms");
        if plan.scale > 1 {
            l.push_str(&format!(
                " (reference: {} nodes, time × {})",
                plan.nodes, plan.scale
            ));
        }
        l
    };
    let fail = |rep: &mut Report, e: String| {
        for &d in &plan.delays_ms {
            rep.fail(&row_id(2 * d), &label(2 * d), "s", false, kind, e.clone());
        }
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py/real_wan_join.py");
    let server = match kind {
        Kind::Mu => "mu",
        Kind::Reference => "reference",
        _ => return,
    };
    let out = Command::new(&env.python)
        .arg(&script)
        .args(["--server", server, "--nodes", &plan.nodes.to_string()])
        .arg("--delay-ms")
        .args(plan.delays_ms.iter().map(u64::to_string))
        .args(["--timeout", "300"])
        .env("MU_SERVERD_BIN", &env.mu_serverd)
        .env("MU_BENCH_BIN", &env.self_exe)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let last = err.lines().last().unwrap_or("no output").to_string();
            return fail(rep, format!("real_wan_join.py: {}: {last}", o.status));
        }
        Err(e) => return fail(rep, format!("real_wan_join.py: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let joins: Vec<Joined> = text.lines().filter_map(parse_line).collect();
    for &d in &plan.delays_ms {
        let rtt = 2 * d;
        match joins.iter().find(|j| j.rtt_ms == rtt) {
            Some(j) if j.nodes == plan.nodes => rep.record(
                &row_id(rtt),
                &label(rtt),
                "s",
                false,
                kind,
                Measure {
                    value: j.join_s * plan.scale as f64,
                    server_cores: None,
                    gen_cores: None,
                },
            ),
            Some(j) => rep.fail(
                &row_id(rtt),
                &label(rtt),
                "s",
                false,
                kind,
                format!("joined {} of {} nodes", j.nodes, plan.nodes),
            ),
            None => rep.fail(
                &row_id(rtt),
                &label(rtt),
                "s",
                false,
                kind,
                "no result line".into(),
            ),
        }
    }
}

/// Issue 16's RTT targets on the real client's joins (mu-serverd's medians of this run).
pub fn targets(rep: &Report) -> String {
    use crate::targets::{med, verdict};
    let mu = |rtt: u64| med(rep, &row_id(rtt), Kind::Mu);
    let mut rtts: Vec<u64> = rep
        .rows
        .iter()
        .filter_map(|r| r.id.strip_prefix("realwan-rtt")?.parse().ok())
        .filter(|r| *r > 0)
        .collect();
    rtts.sort_unstable();
    rtts.dedup();
    let mut out = vec![
        String::new(),
        "Targets (issue 16, the real replication client on mu-serverd):".into(),
        String::new(),
    ];
    // The shorter and the longer link (issue 16's 50 and 150 ms when none ran).
    let mid_slow = [
        (rtts.first().copied().unwrap_or(50), 2.0),
        (rtts.last().copied().unwrap_or(150), 3.0),
    ];
    for (rtt, max) in mid_slow {
        let what = format!("real client's join at RTT {rtt} ms <= {max}x the same join at RTT 0");
        out.push(match (mu(rtt), mu(0)) {
            (Some(a), Some(b)) if b > 0.0 => format!(
                "- {what}: {:.2}x ({a:.2} vs {b:.2} s) {}",
                a / b,
                verdict(a / b <= max)
            ),
            _ => format!("- {what}: not measured in this run"),
        });
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_parse_and_comments_do_not() {
        assert_eq!(
            parse_line("mu nodes=10000 rtt_ms=50 join_s=1.531 ms_per_node=0.153"),
            Some(Joined {
                nodes: 10000,
                rtt_ms: 50,
                join_s: 1.531
            })
        );
        assert_eq!(parse_line("# upload of 10000 nodes: 3.2 s"), None);
        assert_eq!(parse_line("mu nodes=x rtt_ms=50 join_s=1"), None);
    }

    #[test]
    fn targets_compare_each_link_with_rtt_0() {
        let mut rep = Report::default();
        let m = |v| Measure {
            value: v,
            server_cores: None,
            gen_cores: None,
        };
        for (rtt, s) in [(0, 1.0), (50, 1.9), (150, 3.2)] {
            rep.record(&row_id(rtt), "x", "s", false, Kind::Mu, m(s));
        }
        let t = targets(&rep);
        assert!(
            t.contains("RTT 50 ms <= 2x the same join at RTT 0: 1.90x (1.90 vs 1.00 s) MET"),
            "{t}"
        );
        assert!(
            t.contains("RTT 150 ms <= 3x the same join at RTT 0: 3.20x (3.20 vs 1.00 s) MISSED"),
            "{t}"
        );
    }
}
