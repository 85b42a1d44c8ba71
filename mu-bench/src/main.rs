//! mu-bench: measures mu-serverd side by side with the reference `replication.server` and with a
//! bare libzmq relay (the ceiling), in one invocation, on loopback, with pre-built real frames
//! (issue 8). Every case runs against a fresh server, servers alternate within each case, and
//! each figure is the median of `--runs`. `--quick` is the CI smoke mode: tiny counts, and the
//! exit status says whether every message arrived and every server was measured.

mod blast;
mod caserun;
mod cases;
mod ceiling;
mod client;
mod cpus;
mod frames;
mod keeper;
mod pagerent;
mod phases;
mod pickle;
mod rawmsg;
mod realwan;
mod report;
mod rig;
mod servers;
mod targets;
mod wan;
mod wanjoin;
mod wanrelay;
mod wanrows;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use cases::Case;
use report::Report;
use servers::{Env, Kind, Server};

#[derive(Parser)]
#[command(about = "Benchmark mu-serverd against the reference replication server (issue 8)")]
struct Cli {
    #[command(subcommand)]
    sub: Option<Sub>,
    /// CI smoke mode: tiny counts, one run; fails unless every message arrived everywhere.
    #[arg(long)]
    quick: bool,
    /// Runs per case and server; figures are medians (default 3, 1 with --quick).
    #[arg(long)]
    runs: Option<usize>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    table: Option<PathBuf>,
    /// Servers to measure, comma-separated: ceiling, reference, mu.
    #[arg(long, value_delimiter = ',', default_value = "ceiling,reference,mu")]
    servers: Vec<String>,
    /// Also measure fan-out with mu-serverd's persistence on.
    #[arg(long)]
    persist: bool,
    /// Phases to run, comma-separated: fanout, commit, latency, join, idle, wan, realwan.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fanout,commit,latency,join,idle,wan,realwan"
    )]
    phases: Vec<String>,
    /// Only cases whose description contains this text, e.g. "k: 2, big: true".
    #[arg(long)]
    case: Option<String>,
    /// Python with replication 0.9.10 + deepdiff 8.1.1 (default $MU_TEST_PYTHON, else .venv).
    #[arg(long)]
    python: Option<PathBuf>,
    /// The mu-serverd binary (default target/release/mu-serverd).
    #[arg(long)]
    mu_serverd: Option<PathBuf>,
    /// Command prefix for mu-serverd, for profiling, e.g. "valgrind --tool=callgrind".
    #[arg(long)]
    mu_wrapper: Option<String>,
    /// Receiver threads in the load generator.
    #[arg(long, default_value_t = 2)]
    recv_threads: usize,
    /// Keep the temporary directory (server configs and logs) for inspection.
    #[arg(long)]
    keep_tmp: bool,
    /// Heartbeat timeout given to both servers, ms.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Microseconds a WAN joiner sleeps on each node before its next GET (a sleep of 300 takes
    /// about 400 per node in all: the real client's 0.3-0.7 ms per node that issue 16 states;
    /// the realwan phase times the real client itself; 0: as fast as the bench client).
    #[arg(long, default_value_t = 300)]
    wan_client_us: u64,
    /// mu-serverd's `[server] join_window` (default: the server's own).
    #[arg(long)]
    join_window: Option<usize>,
    /// mu-serverd's `[server] join_window_bytes` (default: the server's own).
    #[arg(long)]
    join_window_bytes: Option<usize>,
}

#[derive(Subcommand)]
enum Sub {
    /// Run the ceiling relay (started by mu-bench itself).
    CeilingServer {
        #[arg(long)]
        port: u16,
    },
    /// A WAN link on loopback: forwards 127.0.0.1:LISTEN..+2 to TARGET..+2 with a one-way
    /// delay each direction and an optional bandwidth cap, until killed (issue 16).
    WanProxy {
        #[arg(long)]
        listen: u16,
        #[arg(long)]
        target: u16,
        /// One-way delay, ms (RTT is twice this).
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Bandwidth cap per direction, Mbit/s.
        #[arg(long)]
        mbit: Option<f64>,
    },
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Servers run in their own case directory, so relative program paths are made absolute (not
/// canonicalized: the venv's python must keep its venv path).
fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        return p;
    }
    std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
}

fn sh(cmd: &str) -> String {
    std::process::Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn main() {
    let cli = Cli::parse();
    if let Some(Sub::CeilingServer { port }) = cli.sub {
        if let Err(e) = ceiling::run(port) {
            eprintln!("ceiling-server: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(Sub::WanProxy {
        listen,
        target,
        delay_ms,
        mbit,
    }) = cli.sub
    {
        if let Err(e) = wan::run(listen, target, delay_ms, mbit) {
            eprintln!("wan-proxy: {e}");
            std::process::exit(1);
        }
        return;
    }
    match run(cli) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("mu-bench: {e}");
            std::process::exit(2);
        }
    }
}

fn run(cli: Cli) -> Result<bool, String> {
    let mut kinds = Vec::new();
    for s in &cli.servers {
        kinds.push(match s.as_str() {
            "ceiling" => Kind::Ceiling,
            "reference" | "ref" => Kind::Reference,
            "mu" | "mu-serverd" => Kind::Mu,
            other => return Err(format!("unknown server {other:?}")),
        });
    }
    if cli.persist {
        kinds.push(Kind::MuPersist);
    }
    for p in &cli.phases {
        if !cases::PHASES.contains(&p.as_str()) {
            return Err(format!("unknown phase {p:?}"));
        }
    }
    let runs = cli.runs.unwrap_or(if cli.quick { 1 } else { 3 }).max(1);
    let python = cli
        .python
        .or_else(|| std::env::var_os("MU_TEST_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    if !python.exists() {
        return Err(format!("{} missing: run tests/setup.sh", python.display()));
    }
    let mu_serverd = absolute(
        cli.mu_serverd
            .unwrap_or_else(|| workspace().join("target/release/mu-serverd")),
    );
    let python = absolute(python);
    if kinds
        .iter()
        .any(|k| matches!(k, Kind::Mu | Kind::MuPersist))
        && !mu_serverd.exists()
    {
        return Err(format!(
            "{} missing: cargo build --release -p mu-serverd (or --servers ceiling,reference)",
            mu_serverd.display()
        ));
    }
    let tmp = std::env::temp_dir().join(format!("mu-bench.{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let env = Env {
        python: python.clone(),
        mu_serverd,
        mu_wrapper: cli
            .mu_wrapper
            .map(|w| w.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
        self_exe: std::env::current_exe().map_err(|e| e.to_string())?,
        tmp: tmp.clone(),
        timeout_ms: cli.timeout_ms,
        join_window: cli.join_window,
        join_window_bytes: cli.join_window_bytes,
    };
    let cli_window_bytes = cli
        .join_window_bytes
        .unwrap_or(wanrows::DEFAULT_WINDOW_BYTES);
    let mut plan = cases::plan(cli.quick, &cli.phases);
    if let Some(c) = &cli.case {
        plan.retain(|p| p.describe().contains(c.as_str()));
    }
    let mut joins: Vec<usize> = plan.iter().filter_map(Case::join_count).collect();
    joins.sort_unstable();
    joins.dedup();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("py/gen_frames.py");
    let frames = frames::Frames::generate(&python, &script, &tmp, &joins)?;

    let load_before = sh("cat /proc/loadavg");
    let started = sh("date -u +%Y-%m-%dT%H:%M:%SZ");
    let mut rep = Report::default();
    for case in &plan {
        for run in 0..runs {
            for &kind in kinds.iter().filter(|k| case.applies(**k)) {
                eprintln!(
                    "mu-bench: {} run {}/{runs} on {}",
                    case.describe(),
                    run + 1,
                    kind.label()
                );
                // The real client's script starts its own server.
                if let Case::RealWan { .. } = case {
                    for plan in case.real_wan_plans(kind) {
                        realwan::run(kind, &env, &plan, &mut rep);
                    }
                    continue;
                }
                match Server::start(kind, &env, &frames, case.server_cpu()) {
                    Ok(srv) => {
                        case.run(&srv, &frames, cli.recv_threads, cli.wan_client_us, &mut rep);
                        srv.stop();
                    }
                    Err(e) => {
                        let id = format!("{}-start", case.phase());
                        rep.fail(
                            &id,
                            &format!("{} (server start)", case.phase()),
                            "",
                            true,
                            kind,
                            e,
                        );
                    }
                }
            }
        }
    }
    if cli.keep_tmp {
        eprintln!("mu-bench: kept {}", tmp.display());
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }

    // Right after the idle phase (the last one), when it ran: the idle rows depend on it.
    let rent = plan.iter().any(|c| c.phase() == "idle").then(|| {
        let (slow, fast) = pagerent::measure();
        format!("{slow:.1} µs per 4 KiB page touched after 1 s idle, {fast:.2} µs after 1 ms")
    });
    let judged =
        targets::check(&rep) + &wanrows::targets(&rep, cli_window_bytes) + &realwan::targets(&rep);
    let targets = if cli.quick {
        format!(
            "Targets (issue 8), for information only: --quick uses tiny counts and cannot judge \
             them (a full run prints MET / MISSED):\n\n{}",
            targets::without_verdicts(&judged)
        )
    } else {
        format!("Targets (issue 8):\n\n{judged}")
    };
    let table = format!(
        "{}\n{targets}{}",
        rep.table(&kinds),
        rent.as_ref()
            .map(|r| format!("\nPage rent on this machine (see docs/performance.md): {r}\n"))
            .unwrap_or_default()
    );
    println!("{table}");
    let meta = [
        ("date", started),
        ("command", std::env::args().collect::<Vec<_>>().join(" ")),
        ("nproc", sh("nproc")),
        ("cpu", sh("lscpu | sed -n 's/^Model name: *//p'")),
        ("memory", sh("free -h | awk '/^Mem:/{print $2}'")),
        ("loadavg_before", load_before),
        ("loadavg_after", sh("cat /proc/loadavg")),
        ("runs", runs.to_string()),
        ("page_rent", rent.unwrap_or_else(|| "not measured".into())),
    ];
    for (k, v) in &meta {
        eprintln!("{k}: {v}");
    }
    if let Some(p) = &cli.table {
        std::fs::write(p, &table).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = &cli.json {
        std::fs::write(p, rep.json(&meta)).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(verdict(&rep, &kinds, &plan))
}

/// True when no cell failed and every requested server was measured in every case it applies to.
fn verdict(rep: &Report, kinds: &[Kind], plan: &[Case]) -> bool {
    let mut ok = true;
    for r in &rep.rows {
        for (k, c) in &r.cells {
            if !c.errors.is_empty() {
                eprintln!("FAIL {} on {}: {}", r.label, k.label(), c.errors.join("; "));
                ok = false;
            }
        }
    }
    for &k in kinds {
        let wanted = plan.iter().filter(|c| c.applies(k)).count();
        let measured = rep
            .rows
            .iter()
            .filter(|r| r.cells.get(&k).is_some_and(|c| c.ok()))
            .count();
        if wanted > 0 && measured == 0 {
            eprintln!("FAIL {} was never measured", k.label());
            ok = false;
        }
    }
    ok
}
