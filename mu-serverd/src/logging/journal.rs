//! Is stderr the journal? systemd sets `JOURNAL_STREAM=<dev>:<inode>` for a service whose
//! stdout/stderr is connected to journald; it is inherited by children whose stderr may be
//! elsewhere, so it only counts when it matches stderr's own device and inode.

use std::os::fd::AsFd;

pub fn stderr_is_journal() -> bool {
    let Ok(var) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = var.split_once(':') else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    match nix::sys::stat::fstat(std::io::stderr().as_fd()) {
        Ok(st) => st.st_dev as u64 == dev && st.st_ino as u64 == ino,
        Err(_) => false,
    }
}
