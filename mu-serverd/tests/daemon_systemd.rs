//! The systemd contract of the real binary, without systemd: a datagram socket stands in for
//! `$NOTIFY_SOCKET`, a pipe whose dev:ino is in `JOURNAL_STREAM` for the journal's stderr, and a
//! bound datagram socket for `/dev/log`. Also the graceful stop: every client gets Disconnect
//! with a reason, STOPPING=1, exit 0. Ports 22300-22399.

mod daemon_common;
use daemon_common::*;
use nix::sys::signal::Signal;
use std::io::BufRead;
use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn recv(sock: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).expect("no datagram within the timeout");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Reads the notify socket on a thread, as systemd would: a reader that stops reading would
/// make the daemon's blocking `sendto` wait once the socket's queue is full.
struct Notes {
    msgs: Arc<Mutex<Vec<(Instant, String)>>>,
    seen: usize,
}

impl Notes {
    fn listen(sock: UnixDatagram) -> Notes {
        let msgs = Arc::new(Mutex::new(Vec::new()));
        let m2 = msgs.clone();
        sock.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                let s = String::from_utf8_lossy(&buf[..n]).into_owned();
                m2.lock().unwrap().push((Instant::now(), s));
            }
        });
        Notes { msgs, seen: 0 }
    }

    /// The next message (after those already returned) containing `needle`, within `secs`.
    fn next(&mut self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            {
                let m = self.msgs.lock().unwrap();
                while self.seen < m.len() {
                    self.seen += 1;
                    if m[self.seen - 1].1.contains(needle) {
                        return m[self.seen - 1].1.clone();
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no notification containing {needle:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Messages received so far, with their arrival times.
    fn all(&self) -> Vec<(Instant, String)> {
        self.msgs.lock().unwrap().clone()
    }
}

#[test]
fn notify_ready_status_watchdog_reload_stopping() {
    let d = TempDir::new("notify");
    let cfg = d.write("c.toml", &config(&d, 22300, "", ""));
    let path = d.path("notify.sock");
    let mut notes = Notes::listen(UnixDatagram::bind(&path).unwrap());
    let mut dm = Daemon::spawn(
        &["--config", cfg.to_str().unwrap()],
        &[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let first = notes.next("READY=1", 10);
    assert!(
        first.contains("STATUS=0 users, 0 nodes, session waiting"),
        "{first:?}"
    );

    // Pings every 100 ms from the loop itself, with nothing else happening.
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    let pings = notes
        .all()
        .iter()
        .filter(|(t, m)| *t >= t0 && m == "WATCHDOG=1\n")
        .count();
    // About 10 expected; the bounds only rule out "none" and "a storm" on a loaded CI machine.
    assert!(
        (3..=20).contains(&pings),
        "{pings} watchdog pings in 1 s at a 100 ms period"
    );

    // A user logs in: STATUS follows.
    assert!(auth(22300, "alice", None).starts_with("AUTH LOBBY"));
    notes.next(
        "STATUS=1 user, 0 nodes, session waiting, replication 0.9.10",
        10,
    );
    // Its heartbeat never starts: dropped after timeout_ms (3 s) by a core tick that sends
    // nothing (nobody else is online); STATUS follows anyway.
    notes.next("STATUS=0 users, 0 nodes, session waiting", 10);

    dm.signal(Signal::SIGHUP);
    let reloading = notes.next("RELOADING=1", 10);
    notes.next("READY=1", 10);
    let usec = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .expect("MONOTONIC_USEC with RELOADING=1");
    let usec: u64 = usec.parse().unwrap();
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) },
        0
    );
    let now_us = ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000;
    assert!(
        usec <= now_us && now_us - usec < 10_000_000,
        "MONOTONIC_USEC {usec} vs now {now_us}"
    );

    dm.signal(Signal::SIGTERM);
    notes.next("STOPPING=1", 10);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
}

#[test]
fn no_notify_socket_means_no_notifications_and_no_errors() {
    let d = TempDir::new("nonotify");
    let cfg = d.write("c.toml", &config(&d, 22310, "", ""));
    let mut dm = Daemon::spawn(
        &["--config", cfg.to_str().unwrap()],
        &[("WATCHDOG_USEC", "100000")],
    );
    dm.wait_log("ready", 10);
    std::thread::sleep(Duration::from_millis(200));
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    assert_eq!(dm.count_log("sd_notify"), 0, "{}", dm.log_text());
}

#[test]
fn syslog_socket_gets_rfc3164_lines_with_priorities_and_identifier() {
    let d = TempDir::new("syslog");
    let dev_log = d.path("dev-log");
    let sock = UnixDatagram::bind(&dev_log).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let cfg = d.write(
        "c.toml",
        &config(
            &d,
            22320,
            "",
            &format!("syslog_socket = \"{}\"", dev_log.display()),
        ),
    );
    // -apwd makes a warning; a bad reload makes an error.
    let mut dm = Daemon::spawn(&["--config", cfg.to_str().unwrap(), "-apwd", "x"], &[]);
    let pid = dm.child.id();
    let tag = format!("mu-serverd[{pid}]: ");
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("ready")) {
        lines.push(recv(&sock));
    }
    std::fs::write(&cfg, "[server]\nport = 0\n").unwrap();
    dm.signal(Signal::SIGHUP);
    while !lines.iter().any(|l: &String| l.contains("reload refused")) {
        lines.push(recv(&sock));
    }
    let find = |needle: &str| lines.iter().find(|l| l.contains(needle)).cloned().unwrap();
    // daemon facility (3): info 3*8+6 = 30, warning 28, error 27.
    let ready = find("ready");
    assert!(ready.starts_with("<30>") && ready.contains(&tag), "{ready}");
    let warn = find("visible to every local user");
    assert!(warn.starts_with("<28>") && warn.contains(&tag), "{warn}");
    let err = find("reload refused");
    assert!(err.starts_with("<27>") && err.contains(&tag), "{err}");
    assert!(err.contains(":2: port: port 0 is out of range"), "{err}");
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    // Nothing went to stderr: the syslog sink took everything.
    assert_eq!(dm.log_text(), "");
}

#[test]
fn journal_stream_on_stderr_gives_priority_prefixes() {
    let d = TempDir::new("journal");
    let cfg = d.write("c.toml", &config(&d, 22330, "", ""));
    // Our own pipe, so we know the dev:ino systemd would put into JOURNAL_STREAM.
    let (r, w) = nix::unistd::pipe().unwrap();
    let st = nix::sys::stat::fstat(w.as_fd()).unwrap();
    let stream = format!("{}:{}", st.st_dev, st.st_ino);
    let child = daemon_command(
        &["--config", cfg.to_str().unwrap(), "-spwd", "x"],
        &[("JOURNAL_STREAM", &stream)],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::from(w))
    .spawn()
    .unwrap();
    let mut dm = Daemon::with_reader(child, std::fs::File::from(r));
    let ready = dm.wait_log("ready", 10);
    assert!(ready.starts_with("<6>mu-serverd "), "{ready}");
    let warn = dm.wait_log("--server-password", 10);
    assert!(warn.starts_with("<4>"), "{warn}");
    std::fs::write(&cfg, "[log]\nlevel = \"loud\"\n").unwrap();
    dm.signal(Signal::SIGHUP);
    let err = dm.wait_log("reload refused", 10);
    assert!(err.starts_with("<3>"), "{err}");
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    for l in dm.log.lock().unwrap().iter() {
        assert!(
            ["<3>", "<4>", "<6>", "<7>"]
                .iter()
                .any(|p| l.starts_with(p)),
            "line without a priority prefix: {l}"
        );
    }
}

#[test]
fn sigterm_sends_disconnect_with_reason_to_every_client_then_exits_0() {
    let d = TempDir::new("stop");
    let port = 22340;
    let cfg = d.write("c.toml", &config(&d, port, "", ""));
    let mut dm = Daemon::spawn(&["--config", cfg.to_str().unwrap()], &[]);
    dm.wait_log("ready", 10);
    let mut clients: Vec<_> = ["ann", "ben"]
        .iter()
        .map(|n| client_staying(port, n, 20))
        .collect();
    let mut outs: Vec<_> = clients
        .iter_mut()
        .map(|c| std::io::BufReader::new(c.stdout.take().unwrap()).lines())
        .collect();
    for o in outs.iter_mut() {
        let l = o.next().expect("auth line").unwrap();
        assert!(l.starts_with("AUTH LOBBY"), "{l}");
    }
    dm.wait_log("ben", 10);
    dm.signal(Signal::SIGTERM);
    for o in outs.iter_mut() {
        let l = o.next().expect("disconnect line").unwrap();
        assert_eq!(l, "DISCONNECT {'reason': 'server shutting down'}");
    }
    for mut c in clients {
        let _ = c.wait();
    }
    assert_eq!(dm.wait_exit(10).code(), Some(0));
    dm.wait_log("stopped", 1);
}

/// Voluntary context switches of the daemon's main thread (the event loop).
fn loop_switches(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("voluntary_ctxt_switches")
}

/// No polling: with nobody connected and no watchdog, the event loop sleeps until something
/// happens. In a 3 s window a once-a-second poll would show 3 wake-ups; measured: 0.
#[test]
fn idle_daemon_does_not_wake_up() {
    let d = TempDir::new("idle");
    let cfg = d.write("c.toml", &config(&d, 22350, "", ""));
    let mut dm = Daemon::spawn(&["--config", cfg.to_str().unwrap()], &[]);
    dm.wait_log("ready", 10);
    std::thread::sleep(Duration::from_millis(200));
    let pid = dm.child.id();
    let before = loop_switches(pid);
    std::thread::sleep(Duration::from_secs(3));
    let woke = loop_switches(pid) - before;
    assert!(woke <= 1, "the idle event loop woke {woke} times in 3 s");
    dm.signal(Signal::SIGTERM);
    assert_eq!(dm.wait_exit(10).code(), Some(0));
}
