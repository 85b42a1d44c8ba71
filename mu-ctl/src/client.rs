//! A blocking control-socket client: connect, handshake, one request at a time. `mu-ctl` is
//! built on it, and tests (or scripts in Rust) can use it to talk to a running daemon.

use crate::frame::{self, FrameError};
use crate::proto::{ErrorCode, Reply, Request, PROTOCOL_VERSION};
use std::fmt;
use std::io;
use std::io::Write;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default socket of the packaged `mu-serverd.service`.
pub const DEFAULT_SOCKET: &str = "/run/mu-server/control.sock";

/// The socket mu-ctl talks to without `--socket`/`--instance`: the packaged service's
/// [`DEFAULT_SOCKET`] when it exists, else the one a daemon run by hand by this (non-root) user
/// creates, `$XDG_RUNTIME_DIR/mu-server/control.sock`, when that exists; else the default (whose
/// error message then says "is mu-serverd running?").
pub fn default_socket() -> PathBuf {
    let default = PathBuf::from(DEFAULT_SOCKET);
    if default.exists() {
        return default;
    }
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => {
            let user = dir.join("mu-server").join("control.sock");
            if user.exists() {
                user
            } else {
                default
            }
        }
        _ => default,
    }
}

/// Socket of the instance `NAME` of `mu-serverd@NAME.service`.
pub fn instance_socket(name: &str) -> PathBuf {
    Path::new("/run/mu-server").join(name).join("control.sock")
}

/// Why talking to the daemon failed. `exit_code` maps it onto mu-ctl's documented codes.
#[derive(Debug)]
pub enum ClientError {
    /// `connect()` failed: the daemon is not running, or the socket is not ours to use.
    Connect { path: PathBuf, source: io::Error },
    /// The connection broke or carried garbage after connecting.
    Transport { path: PathBuf, source: FrameError },
    /// The daemon closed the connection without answering.
    Closed { path: PathBuf },
    /// The daemon answered the handshake with another protocol version.
    Version {
        ours: u16,
        theirs: u16,
        daemon_version: String,
    },
    /// The daemon answered with an error (permission, unknown user, bad config, ...).
    Daemon { code: ErrorCode, message: String },
    /// The daemon answered something that makes no sense for the request.
    Unexpected {
        request: &'static str,
        reply: String,
    },
}

impl ClientError {
    /// 1 = refused by the daemon, 2 = cannot reach it (see docs/mu-ctl.md).
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Daemon { .. } | ClientError::Version { .. } => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect { path, source } => {
                let p = path.display();
                match source.kind() {
                    io::ErrorKind::NotFound => {
                        write!(
                            f,
                            "cannot connect to {p}: no such file — is mu-serverd running?"
                        )
                    }
                    io::ErrorKind::ConnectionRefused => write!(
                        f,
                        "cannot connect to {p}: connection refused — the socket exists but \
                         nobody listens; is mu-serverd running?"
                    ),
                    io::ErrorKind::PermissionDenied => write!(
                        f,
                        "cannot connect to {p}: permission denied — run as root or as a member \
                         of the daemon's group (adduser $USER mu-server, then log in again)"
                    ),
                    _ => write!(f, "cannot connect to {p}: {source}"),
                }
            }
            ClientError::Transport { path, source } => {
                write!(f, "connection to {} failed: {source}", path.display())
            }
            ClientError::Closed { path } => write!(
                f,
                "mu-serverd closed the connection on {} without answering",
                path.display()
            ),
            ClientError::Version {
                ours,
                theirs,
                daemon_version,
            } => write!(
                f,
                "protocol version mismatch: this mu-ctl speaks control protocol {ours}, \
                 mu-serverd {daemon_version} speaks {theirs}; use the mu-ctl installed with \
                 the daemon"
            ),
            ClientError::Daemon { code, message } => write!(f, "mu-serverd: {message} ({code})"),
            ClientError::Unexpected { request, reply } => {
                write!(f, "unexpected reply to {request}: {reply}")
            }
        }
    }
}

impl std::error::Error for ClientError {}

/// A connection that has completed the `Hello` handshake.
pub struct Client {
    stream: UnixStream,
    path: PathBuf,
    daemon_version: String,
}

impl Client {
    /// Connects and performs the handshake. `timeout` bounds every read and write (a stuck
    /// daemon makes mu-ctl fail instead of hanging forever).
    pub fn connect(path: &Path, timeout: Duration) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        let transport = |source: io::Error| ClientError::Transport {
            path: path.to_path_buf(),
            source: FrameError::Io(source),
        };
        stream.set_read_timeout(Some(timeout)).map_err(transport)?;
        stream.set_write_timeout(Some(timeout)).map_err(transport)?;
        let mut client = Client {
            stream,
            path: path.to_path_buf(),
            daemon_version: String::new(),
        };
        match client.raw(&Request::Hello {
            version: PROTOCOL_VERSION,
        })? {
            Reply::Hello {
                version,
                daemon_version,
            } if version == PROTOCOL_VERSION => {
                client.daemon_version = daemon_version;
                Ok(client)
            }
            Reply::Hello {
                version,
                daemon_version,
            } => Err(ClientError::Version {
                ours: PROTOCOL_VERSION,
                theirs: version,
                daemon_version,
            }),
            Reply::Error { code, message } => Err(ClientError::Daemon { code, message }),
            other => Err(ClientError::Unexpected {
                request: "hello",
                reply: format!("{other:?}"),
            }),
        }
    }

    /// The daemon's process ID, from the socket's peer credentials (None when the kernel
    /// cannot say, e.g. the daemon lives in another PID namespace).
    pub fn daemon_pid(&self) -> Option<i32> {
        let cred =
            nix::sys::socket::getsockopt(&self.stream, nix::sys::socket::sockopt::PeerCredentials)
                .ok()?;
        (cred.pid() > 0).then_some(cred.pid())
    }

    /// The daemon's package version from the handshake.
    pub fn daemon_version(&self) -> &str {
        &self.daemon_version
    }

    /// Sends one request and returns the reply; a `Reply::Error` becomes `ClientError::Daemon`.
    pub fn request(&mut self, req: &Request) -> Result<Reply, ClientError> {
        match self.raw(req)? {
            Reply::Error { code, message } => Err(ClientError::Daemon { code, message }),
            reply => Ok(reply),
        }
    }

    /// Sends one request and returns whatever reply came back.
    pub fn raw(&mut self, req: &Request) -> Result<Reply, ClientError> {
        // A daemon that refuses us writes its refusal and closes without reading, so our write
        // may fail with EPIPE/ECONNRESET; the refusal is still waiting to be read.
        let sent = frame::write_frame(&mut self.stream, req);
        self.answer(sent)
    }

    /// Sends a request together with an open file (SCM_RIGHTS on the frame's first byte), as
    /// `ExportFile`/`ImportFile` need; a `Reply::Error` becomes `ClientError::Daemon`.
    pub fn request_with_file(
        &mut self,
        req: &Request,
        file: BorrowedFd<'_>,
    ) -> Result<Reply, ClientError> {
        let sent = frame::encode(req)
            .and_then(|bytes| send_with_fd(&mut self.stream, &bytes, file).map_err(FrameError::Io));
        match self.answer(sent)? {
            Reply::Error { code, message } => Err(ClientError::Daemon { code, message }),
            reply => Ok(reply),
        }
    }

    /// Reads the reply to a request whose sending gave `sent`.
    fn answer(&mut self, sent: Result<(), FrameError>) -> Result<Reply, ClientError> {
        let transport = |source: FrameError| ClientError::Transport {
            path: self.path.clone(),
            source,
        };
        match frame::read_frame_max::<Reply, _>(&mut self.stream, frame::MAX_REPLY) {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => match sent {
                Err(e) => Err(transport(e)),
                Ok(()) => Err(ClientError::Closed {
                    path: self.path.clone(),
                }),
            },
            Err(e) => match sent {
                Err(first) => Err(transport(first)),
                Ok(()) => Err(transport(e)),
            },
        }
    }
}

/// Writes `bytes` with `fd` attached to the first `sendmsg` (the kernel delivers it with the
/// first byte, so the daemon pairs it with this frame), the rest with plain writes.
fn send_with_fd(stream: &mut UnixStream, bytes: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [io::IoSlice::new(bytes)];
    let sent = loop {
        match sendmsg::<()>(
            stream.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(n) => break n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    };
    stream.write_all(&bytes[sent..])
}
