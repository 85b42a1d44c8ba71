//! `mu-ctl stop` returns once the daemon's process is gone, not when it has merely accepted the
//! request: scripts that stop and then start, back up the state dir or upgrade rely on it. The
//! PID comes from the control socket's peer credentials (SO_PEERCRED).

use std::time::{Duration, Instant};

/// Waits until `pid` is gone (or a zombie nobody reaped yet: it has finished all its work).
/// Returns false if it is still running after `timeout`.
pub fn until_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ...": the state follows the last ')'; comm may contain anything.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| !matches!(state, 'Z' | 'X')),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        // No /proc view of it (hidepid): ask the kernel; EPERM means it exists.
        Err(_) => !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_alive_and_a_reaped_one_is_gone() {
        assert!(alive(std::process::id() as i32));
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id() as i32;
        // Exited but not reaped: a zombie counts as gone.
        assert!(until_gone(pid, Duration::from_secs(5)));
        child.wait().expect("reap");
        assert!(!alive(pid));
        assert!(!until_gone(
            std::process::id() as i32,
            Duration::from_millis(50)
        ));
    }
}
