//! Who is on the other end of a control connection, and whether they may use it.
//!
//! The socket's mode (0660) and group already keep strangers out at `connect()`; this is the
//! second, explicit check (a socket made world-writable by hand still refuses strangers), and it
//! gives the daemon a name to log next to every kick, reload and stop. SO_PEERCRED gives the
//! peer's uid/gid/pid; SO_PEERGROUPS (Linux 4.13+, not wrapped by nix 0.31 or libc 0.2) gives the
//! supplementary groups the process really had when it connected, which is what matters (a user
//! just added to the group has it only after logging in again, and `setpriv --groups` works).

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::{Gid, Uid, User};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd};

const SO_PEERGROUPS: libc::c_int = 59;
/// Linux caps supplementary groups at 65536.
const MAX_GROUPS: usize = 65536;

/// The credentials of a connected peer, fixed at `connect()` time by the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeerInfo {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (empty if the kernel could not say).
    pub groups: Vec<u32>,
    /// Login name of `uid`, when the user database knows it.
    pub user: Option<String>,
}

impl fmt::Display for PeerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.user {
            Some(name) => write!(f, "uid {} ({name}, pid {})", self.uid, self.pid),
            None => write!(f, "uid {} (pid {})", self.uid, self.pid),
        }
    }
}

impl PeerInfo {
    /// Reads SO_PEERCRED and SO_PEERGROUPS from a connected Unix stream.
    pub(crate) fn of<S: AsFd>(stream: &S) -> std::io::Result<PeerInfo> {
        let cred = getsockopt(stream, PeerCredentials).map_err(std::io::Error::from)?;
        let uid = cred.uid();
        let user = User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name);
        Ok(PeerInfo {
            pid: cred.pid(),
            uid,
            gid: cred.gid(),
            groups: peer_groups(stream).unwrap_or_default(),
            user,
        })
    }

    /// Root, the daemon's own user, or a member (primary or supplementary) of `group`.
    pub(crate) fn allowed(&self, daemon_uid: Uid, group: Gid) -> bool {
        self.uid == 0
            || self.uid == daemon_uid.as_raw()
            || self.gid == group.as_raw()
            || self.groups.contains(&group.as_raw())
    }
}

fn peer_groups<S: AsFd>(stream: &S) -> std::io::Result<Vec<u32>> {
    let fd = stream.as_fd().as_raw_fd();
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut len = (groups.len() * std::mem::size_of::<libc::gid_t>()) as libc::socklen_t;
        // SAFETY: the buffer is valid for `len` bytes and the kernel writes at most `len`.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut len,
            )
        };
        let n = len as usize / std::mem::size_of::<libc::gid_t>();
        if rc == 0 {
            groups.truncate(n);
            return Ok(groups);
        }
        let err = std::io::Error::last_os_error();
        // ERANGE: the kernel wrote the size it needs into `len`.
        if err.raw_os_error() == Some(libc::ERANGE) && n > groups.len() && n <= MAX_GROUPS {
            groups.resize(n, 0);
            continue;
        }
        return Err(err);
    }
}
