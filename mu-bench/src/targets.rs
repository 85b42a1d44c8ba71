//! Issue 8's targets, checked against the medians of this run (same machine, same run): each line
//! says the measured figure, the target and MET / MISSED, or why it could not be judged.

use crate::report::Report;
use crate::servers::Kind;

pub fn med(rep: &Report, id: &str, k: Kind) -> Option<f64> {
    rep.rows
        .iter()
        .find(|r| r.id == id)?
        .cells
        .get(&k)
        .filter(|c| c.ok())?
        .median()
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "MET"
    } else {
        "MISSED"
    }
}

/// The target lines without their MET / MISSED: `--quick` (CI's smoke run: tiny counts, often a
/// debug build) cannot judge a target, and a MISSED line inside a passing suite reads like a
/// failure.
pub fn without_verdicts(lines: &str) -> String {
    lines
        .lines()
        .map(|l| {
            let l = l
                .strip_suffix(" MISSED")
                .or_else(|| l.strip_suffix(" MET"))
                .unwrap_or(l);
            format!("{l}\n")
        })
        .collect()
}

/// One line per target, Markdown list.
pub fn check(rep: &Report) -> String {
    let mut out = Vec::new();
    let na = |what: &str| format!("- {what}: not measured in this run");
    for size in ["1k", "64k"] {
        let id = format!("fanout-k8-{size}");
        let what = format!("fan-out K=8 {size} >= 80 % of the ceiling");
        out.push(
            match (med(rep, &id, Kind::Mu), med(rep, &id, Kind::Ceiling)) {
                (Some(m), Some(c)) if c > 0.0 => {
                    let p = 100.0 * m / c;
                    format!(
                        "- {what}: {p:.0} % ({m:.0} vs {c:.0} deliveries/s) {}",
                        verdict(p >= 80.0)
                    )
                }
                _ => na(&what),
            },
        );
    }
    let what = "Commit fan-out on 64 KiB float nodes >= 20x the reference";
    out.push(
        match (
            med(rep, "commit-k8-64k", Kind::Mu),
            med(rep, "commit-k8-64k", Kind::Reference),
        ) {
            (Some(m), Some(r)) if r > 0.0 => {
                format!("- {what}: {:.1}x {}", m / r, verdict(m / r >= 20.0))
            }
            _ => na(what),
        },
    );
    for n in [1_000, 10_000] {
        let id = format!("join-{n}-per-get");
        let what = format!("join {n}: <= 15 µs per GET above the ceiling's round trip");
        out.push(
            match (
                med(rep, &id, Kind::Mu),
                med(rep, &id, Kind::Ceiling),
                med(rep, &id, Kind::Reference),
            ) {
                (Some(m), Some(c), r) => {
                    let r = r
                        .map(|r| format!(", reference {:+.1} µs", r - c))
                        .unwrap_or_default();
                    format!(
                        "- {what}: {:+.1} µs ({m:.1} vs {c:.1} µs{r}) {}",
                        m - c,
                        verdict(m - c <= 15.0)
                    )
                }
                _ => na(&what),
            },
        );
    }
    let what = "latency p99 at 100 msg/s <= 1.3x the ceiling's";
    out.push(
        match (
            med(rep, "latency-p99", Kind::Mu),
            med(rep, "latency-p99", Kind::Ceiling),
        ) {
            (Some(m), Some(c)) if c > 0.0 => {
                format!(
                    "- {what}: {:.2}x ({m:.3} vs {c:.3} ms) {}",
                    m / c,
                    verdict(m / c <= 1.3)
                )
            }
            _ => na(what),
        },
    );
    for clients in [0, 2] {
        let id = format!("idle-{clients}");
        let what = format!("idle CPU with {clients} clients <= 0.1 % of a core");
        let floor = med(rep, &id, Kind::Ceiling)
            .map(|c| format!(" (ceiling, heartbeats only: {c:.3} %)"))
            .unwrap_or_default();
        out.push(match med(rep, &id, Kind::Mu) {
            Some(m) => format!("- {what}: {m:.3} %{floor} {}", verdict(m <= 0.1)),
            None => na(&what),
        });
    }
    let what = "RSS with 10,000 nodes <= half of the reference's";
    out.push(
        match (
            med(rep, "rss-10000", Kind::Mu),
            med(rep, "rss-10000", Kind::Reference),
        ) {
            (Some(m), Some(r)) if r > 0.0 => {
                format!(
                    "- {what}: {m:.1} vs {r:.1} MiB ({:.0} %) {}",
                    100.0 * m / r,
                    verdict(m <= r / 2.0)
                )
            }
            _ => na(what),
        },
    );
    out.join("\n") + "\n"
}
