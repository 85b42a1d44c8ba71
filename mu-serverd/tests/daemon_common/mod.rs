//! Shared helpers for the tests that spawn the real `mu-serverd` binary: a temp directory, a
//! child guard that kills the daemon if a test fails, stderr captured line by line with bounded
//! waits, signals, and a small Python client (the real `replication` objects over pyzmq).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mu-serverd");

/// Environment variables the daemon reads; removed from every spawned daemon so that the
/// environment running the tests (a systemd unit, a shell with PORT set) cannot change them.
pub const DAEMON_ENV: &[&str] = &[
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "JOURNAL_STREAM",
    "PORT",
    "TIMEOUT",
    "LOG_LEVEL",
    "ADMIN_PASSWORD",
    "SERVER_PASSWORD",
    "ADMIN_PASSWORD_FILE",
    "SERVER_PASSWORD_FILE",
    "LOG_TARGET",
    "CREDENTIALS_DIRECTORY",
    "STATE_DIRECTORY",
    "RUNTIME_DIRECTORY",
];

/// A `Command` for the daemon with [`DAEMON_ENV`] removed and `env` set.
pub fn daemon_command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for v in DAEMON_ENV {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("mu-d-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config for tests: loopback, given port, no persistence, control socket in `dir`,
/// plain stderr logging, plus `extra` TOML appended to the matching sections.
pub fn config(dir: &TempDir, port: u16, auth: &str, log: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1\"\nport = {port}\ntimeout_ms = 3000\n\
         [storage]\nenabled = false\n\
         [control]\nsocket = \"{}\"\n\
         [auth]\n{auth}\n\
         [log]\nlevel = \"debug\"\n{log}\n",
        dir.path("control.sock").display()
    )
}

/// The spawned daemon; killed on drop unless it already exited.
pub struct Daemon {
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
    /// Set by the reader thread at the end of the log stream.
    log_done: Arc<std::sync::atomic::AtomicBool>,
}

impl Daemon {
    /// Spawns with stderr captured (lines appear in `log`).
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut cmd = daemon_command(args, env);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn mu-serverd");
        let err = child.stderr.take().unwrap();
        Daemon::with_reader(child, err)
    }

    /// Wraps a child whose log lines come from `reader`.
    pub fn with_reader(child: Child, reader: impl Read + Send + 'static) -> Daemon {
        let log = Arc::new(Mutex::new(Vec::new()));
        let log_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (l2, d2) = (log.clone(), log_done.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                match line {
                    Ok(l) => l2.lock().unwrap().push(l),
                    Err(_) => break,
                }
            }
            d2.store(true, std::sync::atomic::Ordering::Release);
        });
        Daemon {
            child,
            log,
            log_done,
        }
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, s: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), s).expect("kill");
    }

    /// Waits up to `secs` for a log line containing `needle`; returns it.
    pub fn wait_log(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(l) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "no log line containing {needle:?} within {secs}s; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many log lines contain `needle` so far.
    pub fn count_log(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits up to `secs` for the exit status, then (up to 5 s more) for the reader thread to
    /// have read every line the daemon wrote: on a loaded machine it may lag behind the exit.
    pub fn wait_exit(&mut self, secs: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let read_by = Instant::now() + Duration::from_secs(5);
                while !self.log_done.load(std::sync::atomic::Ordering::Acquire)
                    && Instant::now() < read_by
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return st;
            }
            if Instant::now() > deadline {
                panic!(
                    "daemon did not exit within {secs}s; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The venv's Python (env `MU_TEST_PYTHON`, else `<workspace>/.venv/bin/python`).
pub fn python() -> PathBuf {
    let p = match std::env::var_os("MU_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"),
    };
    assert!(p.exists(), "{} is missing: run tests/setup.sh", p.display());
    p
}

/// A client that logs in with the real `replication` Auth object and answers heartbeats;
/// prints `AUTH <answer>` and later `DISCONNECT <data>` (or `TIMEOUT`).
pub const CLIENT_PY: &str = r#"
import sys, time, uuid, zmq
from replication.objects import Auth, ReplicationObject
port, name, spwd, wait_s = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
spwd = None if spwd == "-" else spwd
ident = uuid.uuid4().bytes
ctx = zmq.Context()
def sock(p):
    s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.IDENTITY, ident); s.linger = 0
    s.connect(f"tcp://127.0.0.1:{p}"); return s
cmd, hb = sock(port), sock(port + 2)
auth = Auth(owner=name, data={"AUTH_TYPE": "CLIENT", "AUTH_ID": name, "S_PWD": spwd,
                              "A_PWD": None, "VERSION": "0.9.10"})
cmd.send_multipart(auth.as_raw_chunks())
deadline = time.time() + 10
answer = None
while answer is None and time.time() < deadline:
    if cmd.poll(200):
        o = ReplicationObject.from_raw_chunks(cmd.recv_multipart())
        if o.type_num == 9:
            answer = o.data
print("AUTH", answer, flush=True)
if answer is None or "FAILED" in str(answer) or wait_s <= 0:
    sys.exit(0)
hb.send(b"INIT")
end = time.time() + wait_s
poller = zmq.Poller(); poller.register(cmd, zmq.POLLIN); poller.register(hb, zmq.POLLIN)
while time.time() < end:
    for s, _ in poller.poll(100):
        if s is hb:
            if hb.recv() == b"PING": hb.send(b"PONG")
        else:
            o = ReplicationObject.from_raw_chunks(cmd.recv_multipart())
            if o.type_num == 10:
                print("DISCONNECT", o.data, flush=True); sys.exit(0)
print("TIMEOUT", flush=True)
"#;

/// Runs [`CLIENT_PY`] to completion (wait 0: just the Auth answer).
pub fn auth(port: u16, name: &str, spwd: Option<&str>) -> String {
    let out = Command::new(python())
        .args([
            "-c",
            CLIENT_PY,
            &port.to_string(),
            name,
            spwd.unwrap_or("-"),
            "0",
        ])
        .output()
        .expect("run python");
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "client failed: {s} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.trim().to_string()
}

/// Starts [`CLIENT_PY`] staying connected up to `wait_s` seconds; returns the child with
/// stdout piped.
pub fn client_staying(port: u16, name: &str, wait_s: u32) -> Child {
    Command::new(python())
        .args([
            "-c",
            CLIENT_PY,
            &port.to_string(),
            name,
            "-",
            &wait_s.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python")
}
