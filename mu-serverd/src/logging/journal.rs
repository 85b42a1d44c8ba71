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
    let Ok(st) = nix::sys::stat::fstat(std::io::stderr().as_fd()) else {
        return false;
    };
    dev.parse::<libc::dev_t>() == Ok(st.st_dev) && ino.parse::<libc::ino_t>() == Ok(st.st_ino)
}
