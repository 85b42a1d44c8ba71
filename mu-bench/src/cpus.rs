//! CPU affinity for the WAN rig's pinned case (issue 16, "relayed traffic between active
//! clients keeps its latency"). On a small machine the twenty bench joiners and the proxy take
//! the CPU the server needs, and the relay probe then measures the run queue, not the server.
//! The pinned case puts the server, the uploader and the probe's receiver on the first allowed
//! CPU and everything else of the bench on the others: the probe's messages then wait only for
//! the server (a server on its own machine does not share its CPU with its clients).

use std::mem::{size_of, zeroed};

/// The CPUs this thread may run on.
pub fn allowed() -> Result<Vec<usize>, String> {
    // SAFETY: a zeroed cpu_set_t is an empty set; the kernel fills it.
    let mut set: libc::cpu_set_t = unsafe { zeroed() };
    let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Err(format!(
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    let max = 8 * size_of::<libc::cpu_set_t>();
    // SAFETY: every index is below the set's size.
    Ok((0..max)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect())
}

fn set_of(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: as in `allowed`; CPU_SET ignores indices past the set's size.
    let mut set: libc::cpu_set_t = unsafe { zeroed() };
    for &c in cpus {
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    set
}

/// Pins the calling thread (threads it spawns later inherit it).
pub fn pin_current_thread(cpus: &[usize]) -> Result<(), String> {
    let set = set_of(cpus);
    // SAFETY: pid 0 is the calling thread; `set` outlives the call.
    let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(format!(
            "sched_setaffinity {cpus:?}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The server's CPU and the bench's others.
pub struct Split {
    pub server: usize,
    pub rest: Vec<usize>,
    all: Vec<usize>,
}

/// The first allowed CPU for the server, the others for the bench; needs two.
pub fn split() -> Result<Split, String> {
    let all = allowed()?;
    match all.split_first() {
        Some((&server, rest)) if !rest.is_empty() => Ok(Split {
            server,
            rest: rest.to_vec(),
            all: all.clone(),
        }),
        _ => Err(format!(
            "the pinned case needs 2 CPUs, this process may use {all:?}"
        )),
    }
}

impl Split {
    /// Gives the calling thread every CPU of the split back when dropped.
    pub fn restore_on_drop(&self) -> Restore {
        Restore(self.all.clone())
    }
}

pub struct Restore(Vec<usize>);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = pin_current_thread(&self.0);
    }
}

/// Makes `cmd`'s process run on `cpu` only.
pub fn pin_command(cmd: &mut std::process::Command, cpu: usize) {
    use std::os::unix::process::CommandExt;
    let set = set_of(&[cpu]);
    // SAFETY: sched_setaffinity is async-signal-safe; `set` is moved into the closure.
    unsafe {
        cmd.pre_exec(move || {
            if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_and_a_restore_gives_the_others_back() {
        let all = allowed().expect("affinity");
        assert!(!all.is_empty());
        // In a thread of its own: the test harness's threads keep their mask.
        std::thread::spawn(move || {
            pin_current_thread(&all[..1]).expect("pin");
            assert_eq!(allowed().expect("affinity"), all[..1]);
            drop(Restore(all.clone()));
            assert_eq!(allowed().expect("affinity"), all);
        })
        .join()
        .expect("thread");
    }
}
