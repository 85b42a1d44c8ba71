//! Creating the three ROUTER sockets with the options the protocol and the daemon need.

use crate::session::io::Channel;

/// Socket settings taken from the configuration.
#[derive(Clone, Debug)]
pub struct SocketOptions {
    pub bind: String,
    pub port: u16,
    pub max_message_bytes: u64,
}

/// Per-pipe high-water marks. Parked messages beyond these live in our per-peer queues, where
/// they are counted and bounded.
pub(crate) const SNDHWM: i32 = 1000;
pub(crate) const RCVHWM: i32 = 1000;

pub(crate) fn endpoint(bind: &str, port: u16) -> String {
    if bind.contains(':') {
        format!("tcp://[{bind}]:{port}")
    } else {
        format!("tcp://{bind}:{port}")
    }
}

pub(crate) fn port_of(opts: &SocketOptions, ch: Channel) -> u16 {
    opts.port
        + match ch {
            Channel::Command => 0,
            Channel::Data => 1,
            Channel::Heartbeat => 2,
        }
}

/// Opens and binds one ROUTER. Options are set before `bind` so they apply to every connection.
pub(crate) fn open(
    ctx: &zmq::Context,
    opts: &SocketOptions,
    ch: Channel,
) -> Result<zmq::Socket, String> {
    let port = port_of(opts, ch);
    let ep = endpoint(&opts.bind, port);
    let what = |e: zmq::Error| format!("{ch:?} socket {ep}: {e}");
    let s = ctx.socket(zmq::ROUTER).map_err(what)?;
    // Report EAGAIN / EHOSTUNREACH instead of dropping silently (difference 9).
    s.set_router_mandatory(true).map_err(what)?;
    // No ROUTER_HANDOVER (the reference does not set it either): with it, any connection
    // presenting a connected client's identity takes that client's route, and the client's
    // own later messages never reach us (pyzmq check, libzmq 4.3.4). Without it libzmq ignores
    // a second connection with an identity in use; a client that reconnects after its old
    // connection closed gets its identity back. The core refuses an identity used from
    // another address than the one it logged in from (difference 15).
    s.set_router_handover(false).map_err(what)?;
    // Never block shutdown on unsent messages.
    s.set_linger(0).map_err(what)?;
    s.set_maxmsgsize(opts.max_message_bytes.min(i64::MAX as u64) as i64)
        .map_err(what)?;
    s.set_tcp_keepalive(1).map_err(what)?;
    s.set_tcp_keepalive_idle(300).map_err(what)?;
    s.set_tcp_keepalive_intvl(300).map_err(what)?;
    s.set_sndhwm(SNDHWM).map_err(what)?;
    s.set_rcvhwm(RCVHWM).map_err(what)?;
    if opts.bind.contains(':') {
        s.set_ipv6(true).map_err(what)?;
    }
    s.bind(&ep).map_err(what)?;
    Ok(s)
}
