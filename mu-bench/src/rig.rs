//! Bringing a set of bench clients into a running session before a phase measures anything:
//! the first client logs in and uploads the dataset, the others log in and join, and all of them
//! hand their heartbeat and command sockets to the keeper so the server keeps them. Against the
//! ceiling, clients only register their data sockets.

use std::time::Duration;

use zmq::Socket;

use crate::client::Client;
use crate::frames::Frames;
use crate::keeper::Keeper;
use crate::servers::Kind;

pub struct Rig {
    pub sender: Socket,
    pub receivers: Vec<Socket>,
    keeper: Option<Keeper>,
    // Declared last: sockets above are dropped first.
    pub ctx: zmq::Context,
}

pub fn context() -> Result<zmq::Context, String> {
    let ctx = zmq::Context::new();
    ctx.set_io_threads(2)
        .map_err(|e| format!("io threads: {e}"))?;
    Ok(ctx)
}

/// Logs in client 0, which must get `LOBBY` and uploads `dataset`, then `k` more clients that
/// must get `RUNNING` and join. Returns the sender's and the receivers' data sockets.
pub fn session(kind: Kind, port: u16, f: &Frames, dataset: &str, k: usize) -> Result<Rig, String> {
    let ctx = context()?;
    if !kind.speaks_protocol() {
        let s = Client::connect(&ctx, port, 0)?;
        s.hello()?;
        let mut receivers = Vec::with_capacity(k);
        for i in 1..=k {
            let c = Client::connect(&ctx, port, i)?;
            c.hello()?;
            receivers.push(c.data);
        }
        return Ok(Rig {
            sender: s.data,
            receivers,
            keeper: None,
            ctx,
        });
    }
    let keeper = Keeper::start();
    let mut up = Client::connect(&ctx, port, 0)?;
    let ans = up.login(f)?;
    keeper.adopt_hb(&mut up);
    if ans != "LOBBY" {
        return Err(format!("first client got {ans}, expected LOBBY"));
    }
    up.upload(f, dataset, Duration::from_secs(120))?;
    let Client {
        cmd, data: sender, ..
    } = up;
    keeper.adopt(cmd, false);
    let mut receivers = Vec::with_capacity(k);
    for i in 1..=k {
        let mut c = Client::connect(&ctx, port, i)?;
        let ans = c.login(f)?;
        keeper.adopt_hb(&mut c);
        if ans != "RUNNING" {
            return Err(format!("client {i} got {ans}, expected RUNNING"));
        }
        let n = c.join(f, Duration::from_secs(120))?;
        if n != f.dataset_len(dataset) {
            return Err(format!("client {i} joined with {n} nodes"));
        }
        let Client { cmd, data, .. } = c;
        keeper.adopt(cmd, false);
        receivers.push(data);
    }
    Ok(Rig {
        sender,
        receivers,
        keeper: Some(keeper),
        ctx,
    })
}

/// Clients that only run a heartbeat (INIT, then PONG for every PING), for the ceiling's idle row.
pub struct Heartbeats {
    keeper: Keeper,
    _clients: Vec<Client>,
    _ctx: zmq::Context,
    n: usize,
}

/// Connects `n` clients to the ceiling and starts their heartbeats.
pub fn heartbeats_only(port: u16, n: usize) -> Result<Heartbeats, String> {
    let ctx = context()?;
    let keeper = Keeper::start();
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = Client::connect(&ctx, port, i)?;
        if let Some(hb) = &c.hb {
            hb.send(&b"INIT"[..], 0)
                .map_err(|e| format!("send INIT: {e}"))?;
        }
        keeper.adopt_hb(&mut c);
        clients.push(c);
    }
    Ok(Heartbeats {
        keeper,
        _clients: clients,
        _ctx: ctx,
        n,
    })
}

impl Heartbeats {
    /// Stops the keeper; an error unless every client answered about one PING a second over
    /// `secs` (so the floor was really measured with heartbeating clients).
    pub fn finish(self, secs: f64) -> Result<(), String> {
        let st = self.keeper.finish();
        let want = (self.n as f64 * (secs - 1.0)).max(1.0) as u64;
        if st.pongs < want {
            return Err(format!(
                "only {} PONGs from {} clients in {secs} s",
                st.pongs, self.n
            ));
        }
        Ok(())
    }
}

impl Rig {
    /// Hands a client's heartbeat socket to the keeper (call right after login).
    pub fn keep_hb(&self, c: &mut Client) {
        if let Some(k) = &self.keeper {
            k.adopt_hb(c);
        }
    }

    /// Adds a logged-in client's command socket (and heartbeat, if still held) to the keeper.
    pub fn keep(&self, mut c: Client) {
        if let Some(k) = &self.keeper {
            k.adopt_hb(&mut c);
            k.adopt(c.cmd, false);
        }
    }

    /// Stops the keeper; an error if the server disconnected any bench client meanwhile.
    pub fn finish(mut self) -> Result<(), String> {
        if let Some(k) = self.keeper.take() {
            let st = k.finish();
            if !st.disconnects.is_empty() {
                return Err(format!(
                    "server disconnected bench clients: {}",
                    st.disconnects.join("; ")
                ));
            }
        }
        Ok(())
    }
}
