//! Starting, probing and stopping the servers under test: the reference
//! (`python -m replication.server`), mu-serverd (temp TOML config), and the ceiling relay (this
//! same binary, `mu-bench ceiling-server`). A fresh server per case, on ports from mu-bench's range
//! 25000-25999, stopped by its own pid. Also reads a server's CPU time and RSS from /proc.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use crate::frames::Frames;
use crate::pickle;

/// Which server a measurement ran against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A minimal ROUTER relay with no protocol work: the libzmq limit on this machine.
    Ceiling,
    /// `python -m replication.server` 0.9.10 from the test venv.
    Reference,
    /// `target/release/mu-serverd`, persistence off.
    Mu,
    /// mu-serverd with persistence on.
    MuPersist,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ceiling => "ceiling",
            Kind::Reference => "reference",
            Kind::Mu => "mu-serverd",
            Kind::MuPersist => "mu-serverd+persist",
        }
    }

    /// Column abbreviation.
    pub fn short(self) -> &'static str {
        match self {
            Kind::Ceiling => "ceil",
            Kind::Reference => "ref",
            Kind::Mu => "mu",
            Kind::MuPersist => "mu+p",
        }
    }

    /// True for servers that speak the replication protocol (login, snapshots).
    pub fn speaks_protocol(self) -> bool {
        self != Kind::Ceiling
    }
}

/// Where to find the programs to start.
pub struct Env {
    pub python: PathBuf,
    pub mu_serverd: PathBuf,
    /// Optional command prefix for mu-serverd (profiling: `valgrind --tool=callgrind`).
    pub mu_wrapper: Vec<String>,
    pub self_exe: PathBuf,
    pub tmp: PathBuf,
    /// Heartbeat timeout given to both servers, ms (the seed deploys 10 s).
    pub timeout_ms: u64,
    /// mu-serverd's join window settings, when not its defaults (issue 16).
    pub join_window: Option<usize>,
    pub join_window_bytes: Option<usize>,
}

/// A running server.
pub struct Server {
    pub kind: Kind,
    pub port: u16,
    child: Child,
    dir: PathBuf,
    /// Started in its own process group (profiler wrapper): signal the group.
    own_group: bool,
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);
const PORT_LO: u16 = 25000;
const PORT_SPAN: u16 = 990;

/// A base port P with P, P+1, P+2 free on every interface (the reference binds `tcp://*`).
pub fn free_base_port() -> Result<u16, String> {
    for _ in 0..PORT_SPAN / 3 {
        let off = NEXT_PORT.fetch_add(3, Ordering::Relaxed) % PORT_SPAN;
        let p = PORT_LO + off;
        if (p..p + 3).all(|q| TcpListener::bind(("0.0.0.0", q)).is_ok()) {
            return Ok(p);
        }
    }
    Err("no free port triple in 25000-25999".into())
}

impl Server {
    /// `cpu`: run the server on that CPU only (the WAN rig's pinned case, [`crate::cpus`]).
    pub fn start(
        kind: Kind,
        env: &Env,
        frames: &Frames,
        cpu: Option<usize>,
    ) -> Result<Self, String> {
        let port = free_base_port()?;
        let dir = env.tmp.join(format!("{}-{port}", kind.label()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = match kind {
            Kind::Ceiling => {
                let mut c = Command::new(&env.self_exe);
                c.args(["ceiling-server", "--port", &port.to_string()]);
                c
            }
            Kind::Reference => {
                let mut c = Command::new(&env.python);
                c.args(["-m", "replication.server", "-p", &port.to_string()])
                    .args(["-t", &env.timeout_ms.to_string(), "-apwd", "bench-admin"])
                    .args(["-l", "INFO", "-lf"])
                    .arg(dir.join("ref.log"));
                c
            }
            Kind::Mu | Kind::MuPersist => {
                let conf = write_mu_config(&dir, port, env, kind == Kind::MuPersist)?;
                let mut c = match env.mu_wrapper.split_first() {
                    Some((prog, args)) => {
                        let mut c = Command::new(prog);
                        c.args(args).arg(&env.mu_serverd);
                        c
                    }
                    None => Command::new(&env.mu_serverd),
                };
                c.arg("--config").arg(conf);
                c
            }
        };
        // A profiler wrapper gets its own process group, so stop() also reaches the server it
        // runs. Without a wrapper the server stays in ours and gets a terminal's Ctrl-C with us.
        let own_group = matches!(kind, Kind::Mu | Kind::MuPersist) && !env.mu_wrapper.is_empty();
        if own_group {
            cmd.process_group(0);
        }
        if let Some(c) = cpu {
            crate::cpus::pin_command(&mut cmd, c);
        }
        // The reference runs a `cmd` shell on stdin and stops reading it at EOF: keep a pipe open.
        let child = cmd
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", kind.label()))?;
        let mut s = Server {
            kind,
            port,
            child,
            dir,
            own_group,
        };
        s.wait_ready(frames)?;
        Ok(s)
    }

    /// Waits until the command channel answers a RequestServerInfo (the ceiling echoes it).
    fn wait_ready(&mut self, frames: &Frames) -> Result<(), String> {
        let info = frames.get("server_info")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let ctx = zmq::Context::new();
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited early ({st}); {}",
                    self.kind.label(),
                    self.log_tail()
                ));
            }
            let s = ctx.socket(zmq::DEALER).map_err(|e| e.to_string())?;
            s.set_linger(0).map_err(|e| e.to_string())?;
            s.connect(&format!("tcp://127.0.0.1:{}", self.port))
                .map_err(|e| e.to_string())?;
            s.send_multipart(info.iter(), 0)
                .map_err(|e| e.to_string())?;
            if s.poll(zmq::POLLIN, 200).unwrap_or(0) > 0 {
                let reply = s.recv_multipart(0).map_err(|e| e.to_string())?;
                let ok = match self.kind {
                    Kind::Ceiling => reply == *info,
                    _ => reply.first().and_then(|f| pickle::type_num(f)) == Some(14),
                };
                if ok {
                    return Ok(());
                }
                return Err(format!("{}: unexpected readiness reply", self.kind.label()));
            }
        }
        Err(format!(
            "{} not ready after 60 s; {}",
            self.kind.label(),
            self.log_tail()
        ))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time of every thread of the server so far, in ns (sum of /proc/PID/task/*/schedstat).
    pub fn cpu_ns(&self) -> u64 {
        proc_cpu_ns(self.pid())
    }

    /// Resident set size, KiB (VmRSS).
    pub fn rss_kib(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for name in ["server.log", "ref.log"] {
            if let Ok(s) = std::fs::read_to_string(self.dir.join(name)) {
                let lines: Vec<&str> = s.lines().collect();
                let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
                out.push_str(&format!("{name}: {tail} "));
            }
        }
        out
    }

    /// Stops the server: SIGTERM, then SIGKILL after 10 s (a profiler writes its output). Only
    /// this child's pid is signalled, or the process group it leads when it is a wrapper.
    pub fn stop(mut self) {
        let pid = self.pid() as libc::pid_t;
        let target = if self.own_group { -pid } else { pid };
        // SAFETY: kill(2) on our child (or the group it leads); no memory is touched.
        unsafe { libc::kill(target, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above.
        unsafe { libc::kill(target, libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sum of the first field of /proc/PID/task/*/schedstat (ns on CPU), 0 if unreadable.
pub fn proc_cpu_ns(pid: u32) -> u64 {
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    rd.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// CPU time of this process (all threads), ns, from getrusage.
pub fn self_cpu_ns() -> u64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Writes mu-serverd's config for one case: loopback only, no server password, a control socket
/// in the case directory, persistence on or off.
fn write_mu_config(dir: &Path, port: u16, env: &Env, persist: bool) -> Result<PathBuf, String> {
    let timeout_ms = env.timeout_ms;
    let mut window = String::new();
    if let Some(w) = env.join_window {
        window.push_str(&format!("join_window = {w}\n"));
    }
    if let Some(b) = env.join_window_bytes {
        window.push_str(&format!("join_window_bytes = {b}\n"));
    }
    // Keys from mu-serverd/src/config/file.rs. Persistence "batch" = fsync every interval.
    let storage = if persist {
        format!(
            "enabled = true\nstate_dir = \"{}\"\nfsync = \"batch\"\n",
            dir.join("state").display()
        )
    } else {
        "enabled = false\n".to_string()
    };
    let text = format!(
        "[server]\nbind = \"127.0.0.1\"\nport = {port}\ntimeout_ms = {timeout_ms}\n{window}\n\
         [auth]\nadmin_password = \"bench-admin\"\n\n[storage]\n{storage}\n\
         [control]\nsocket = \"{}\"\n\n[log]\ntarget = \"stderr\"\nlevel = \"info\"\n",
        dir.join("control.sock").display()
    );
    let path = dir.join("mu-server.toml");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
