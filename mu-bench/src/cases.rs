//! What a benchmark run consists of: the list of cases (phase + parameters) with their message
//! counts for a full or a `--quick` run, and which servers each case applies to. Running a case
//! and turning its raw result into report rows is in `caserun`.

use crate::servers::Kind;

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
        /// The server and the relay probe on one CPU, the joiners and the proxy on the others
        /// ([`crate::cpus`]).
        pinned: bool,
    },
    /// Issue 16: the REAL replication client joins `n` nodes through the WAN proxy at one-way
    /// delays 0, `delay_ms` and 3 x `delay_ms` ([`crate::realwan`]); the reference's slow links
    /// on `small` nodes, scaled. The script starts its own server.
    RealWan {
        n: usize,
        small: usize,
        delay_ms: u64,
    },
}

pub const PHASES: &[&str] = &[
    "fanout", "commit", "latency", "join", "idle", "wan", "realwan",
];

/// The WAN cases: each link at `n` nodes on mu-serverd, and on the reference at `n` (RTT 0)
/// or at `small` nodes scaled to `n` (its one round trip per node makes `n` take minutes).
fn wan_cases(v: &mut Vec<Case>, n: usize, small: usize, rtt: u64, joiners: usize) {
    let w = |n, delay_ms, mbit, joiners, scale, on_mu, on_ref, pinned| Case::Wan {
        n,
        delay_ms,
        mbit,
        joiners,
        scale,
        on_mu,
        on_ref,
        pinned,
    };
    let d = rtt / 2;
    v.push(w(n, 0, None, 1, 1, true, true, false));
    for (delay, mbit, j, pinned) in [
        (d, None, 1, false),
        (3 * d, None, 1, false),
        (d, Some(20), 1, false),
        (d, None, joiners, false),
        (d, None, joiners, true),
    ] {
        // Pinning needs two CPUs; on one the case is left out (not measured).
        if pinned && crate::cpus::split().is_err() {
            continue;
        }
        v.push(w(n, delay, mbit, j, 1, true, small == n, pinned));
        if small != n {
            v.push(w(small, delay, mbit, j, n / small, false, true, pinned));
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
        v.push(Case::RealWan {
            n: 200,
            small: 200,
            delay_ms: 5,
        });
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
        v.push(Case::RealWan {
            n: 10_000,
            small: 500,
            delay_ms: 25,
        });
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
            Case::RealWan { .. } => "realwan",
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
            (Case::RealWan { .. }, k) => matches!(k, Kind::Mu | Kind::Reference),
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

    /// The CPU to start the server on, for the pinned WAN case (None when the machine has
    /// fewer than two: the case then fails with the reason).
    pub fn server_cpu(&self) -> Option<usize> {
        match self {
            Case::Wan { pinned: true, .. } => crate::cpus::split().ok().map(|s| s.server),
            _ => None,
        }
    }

    /// The plans of a `RealWan` case on `kind` (mu-serverd: every link on `n` nodes; the
    /// reference: RTT 0 on `n`, the slow links on `small`, scaled).
    pub fn real_wan_plans(&self, kind: Kind) -> Vec<crate::realwan::Plan> {
        use crate::realwan::Plan;
        let Case::RealWan { n, small, delay_ms } = *self else {
            return Vec::new();
        };
        let (d, slow) = (delay_ms, 3 * delay_ms);
        if kind == Kind::Mu || small == n {
            return vec![Plan {
                nodes: n,
                delays_ms: vec![0, d, slow],
                scale: 1,
            }];
        }
        vec![
            Plan {
                nodes: n,
                delays_ms: vec![0],
                scale: 1,
            },
            Plan {
                nodes: small,
                delays_ms: vec![d, slow],
                scale: n / small,
            },
        ]
    }

    pub fn describe(&self) -> String {
        format!("{self:?}")
    }
}
