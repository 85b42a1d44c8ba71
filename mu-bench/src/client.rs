//! A benchmark client that does on the wire exactly what replication 0.9.10's client does
//! (`interface.py`, `repository.py`, `ttl.py`): three DEALERs sharing one 16-byte uuid identity
//! (command P, data P+1, heartbeat P+2), Auth, heartbeat INIT then PONG for every PING, upload of
//! the first client's scene (ServerSnapshot INIT/SET.../END) and the join of later clients
//! (Snapshot REQUEST_INIT, one GET per round trip popping the catalog from its end, DONE).
//! Against the ceiling (no protocol) a client only registers its data socket with `HELLO`.

use std::io::Read;
use std::time::{Duration, Instant};

use zmq::Socket;

use crate::frames::{self, Frames, Msg, NAME_PLACEHOLDER, UUID_PLACEHOLDER};
use crate::pickle::{self, V};

/// Replication type numbers used here (objects.py).
pub const T_SNAPSHOT: i64 = 7;
pub const T_SERVER_SNAPSHOT: i64 = 8;
pub const T_AUTH: i64 = 9;
pub const T_DISCONNECT: i64 = 10;

pub struct Client {
    pub name: Vec<u8>,
    pub cmd: Socket,
    pub data: Socket,
    /// Taken by the keeper right after login, so PINGs are answered during long uploads and
    /// joins too (the real client answers them from its separate `ttl.py` process).
    pub hb: Option<Socket>,
}

fn zerr(what: &str) -> impl Fn(zmq::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn uuid4() -> Result<[u8; 16], String> {
    let mut id = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut id))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    Ok(id)
}

impl Client {
    /// Connects the three sockets; `idx` picks the client name (`bench-cNNN`).
    pub fn connect(ctx: &zmq::Context, port: u16, idx: usize) -> Result<Self, String> {
        let id = uuid4()?;
        let sock = |p: u16| -> Result<Socket, String> {
            let s = ctx.socket(zmq::DEALER).map_err(zerr("socket"))?;
            s.set_identity(&id).map_err(zerr("identity"))?;
            s.set_linger(0).map_err(zerr("linger"))?;
            s.connect(&format!("tcp://127.0.0.1:{p}"))
                .map_err(zerr("connect"))?;
            Ok(s)
        };
        Ok(Client {
            name: frames::client_name(idx),
            cmd: sock(port)?,
            data: sock(port + 1)?,
            hb: Some(sock(port + 2)?),
        })
    }

    fn own(&self, msg: &Msg) -> Msg {
        frames::substitute(msg, NAME_PLACEHOLDER, &self.name)
    }

    pub fn send_cmd(&self, msg: &Msg) -> Result<(), String> {
        self.cmd
            .send_multipart(msg.iter(), 0)
            .map_err(zerr("send command"))
    }

    /// Waits for the next command of type `want`, skipping the broadcasts a client may get at any
    /// time (UpdateClientsState, metadata, Right, Delete). Returns its decoded data frame.
    pub fn expect(&self, want: i64, timeout: Duration) -> Result<V, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no reply of type {want} within {timeout:?}"));
            }
            if self
                .cmd
                .poll(zmq::POLLIN, left.as_millis() as i64 + 1)
                .map_err(zerr("poll"))?
                == 0
            {
                continue;
            }
            let m = self.cmd.recv_multipart(0).map_err(zerr("recv command"))?;
            let t = m.first().and_then(|f| pickle::type_num(f));
            if t == Some(T_DISCONNECT) {
                let why = m.get(2).and_then(|d| pickle::loads(d).ok());
                return Err(format!("server sent Disconnect: {why:?}"));
            }
            if t == Some(want) {
                let d = m.get(2).ok_or("command without data frame")?;
                return pickle::loads(d);
            }
        }
    }

    /// Auth as a plain client (no passwords), then starts the heartbeat with INIT.
    /// Returns the server's answer (`LOBBY` or `RUNNING`).
    pub fn login(&self, f: &Frames) -> Result<String, String> {
        self.send_cmd(&self.own(f.get("auth")?))?;
        if let Some(hb) = &self.hb {
            hb.send(&b"INIT"[..], 0).map_err(zerr("send INIT"))?;
        }
        let answer = self.expect(T_AUTH, Duration::from_secs(10))?;
        match answer.as_str() {
            Some(s) if s.contains("FAILED") => Err(format!("login refused: {s}")),
            Some(s) if s == "LOBBY" || s == "RUNNING" => Ok(s.to_string()),
            other => Err(format!("unexpected Auth answer {other:?}")),
        }
    }

    /// The first client's upload of dataset `name` (ServerSnapshot INIT, every SET, END), then
    /// waits for the server's DONE.
    pub fn upload(&self, f: &Frames, name: &str, timeout: Duration) -> Result<usize, String> {
        self.send_cmd(f.get(&format!("{name}/init"))?)?;
        let st = self.expect(T_SERVER_SNAPSHOT, Duration::from_secs(10))?;
        if st.get("STATE").and_then(V::as_str) != Some("ACCEPTED") {
            return Err(format!("upload not accepted: {st:?}"));
        }
        let n = f.dataset_len(name);
        for i in 0..n {
            self.send_cmd(f.get(&format!("{name}/set/{i}"))?)?;
        }
        self.send_cmd(f.get(&format!("{name}/end"))?)?;
        let st = self.expect(T_SERVER_SNAPSHOT, timeout)?;
        if st.get("STATE").and_then(V::as_str) != Some("DONE") {
            return Err(format!("upload not done: {st:?}"));
        }
        Ok(n)
    }

    /// A joining client's snapshot: REQUEST_INIT, then one GET per round trip, then DONE.
    /// Checks that every SET carries the node asked for. Returns the number of nodes received.
    pub fn join(&self, f: &Frames, timeout: Duration) -> Result<usize, String> {
        self.join_paced(f, timeout, Duration::ZERO)
    }

    /// [`Client::join`], spending `per_node` after each SET before the next GET (the time the
    /// real client spends storing a node: `mu-bench --wan-client-us`).
    pub fn join_paced(
        &self,
        f: &Frames,
        timeout: Duration,
        per_node: Duration,
    ) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        self.send_cmd(&self.own(f.get("snap/request_init")?))?;
        let init = self.expect(T_SNAPSHOT, left())?;
        let mut catalog: Vec<String> = match init.get("CATALOG") {
            Some(V::List(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => return Err(format!("snapshot INIT without CATALOG: {init:?}")),
        };
        let get = self.own(f.get("snap/get")?);
        let mut got = 0;
        while let Some(uuid) = catalog.pop() {
            if uuid.len() != UUID_PLACEHOLDER.len() {
                return Err(format!("catalog uuid of unexpected length: {uuid}"));
            }
            self.send_cmd(&frames::substitute(&get, UUID_PLACEHOLDER, uuid.as_bytes()))?;
            let set = self.expect(T_SNAPSHOT, left())?;
            match set.get("DATA") {
                Some(V::List(chunks))
                    if chunks.get(1) == Some(&V::Bytes(uuid.clone().into_bytes())) =>
                {
                    got += 1
                }
                Some(V::Bytes(b)) if b == b"removed" => {}
                other => return Err(format!("GET {uuid}: wrong SET {other:?}")),
            }
            if !per_node.is_zero() {
                std::thread::sleep(per_node);
            }
        }
        self.send_cmd(&self.own(f.get("snap/done")?))?;
        Ok(got)
    }

    /// Against the ceiling: registers the data socket and waits for the relay's `WELCOME`.
    pub fn hello(&self) -> Result<(), String> {
        self.data
            .send(&b"HELLO"[..], 0)
            .map_err(zerr("send HELLO"))?;
        if self.data.poll(zmq::POLLIN, 5000).map_err(zerr("poll"))? == 0 {
            return Err("ceiling did not answer HELLO".into());
        }
        let m = self.data.recv_multipart(0).map_err(zerr("recv"))?;
        if m != [b"WELCOME".to_vec()] {
            return Err("unexpected HELLO answer".into());
        }
        Ok(())
    }

    /// Against the ceiling: `n` bare request/reply round trips with the GET request's bytes.
    pub fn bare_round_trips(
        &self,
        f: &Frames,
        n: usize,
        timeout: Duration,
    ) -> Result<usize, String> {
        let get = self.own(f.get("snap/get")?);
        let deadline = Instant::now() + timeout;
        for i in 0..n {
            self.send_cmd(&get)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if self
                .cmd
                .poll(zmq::POLLIN, left.as_millis() as i64)
                .map_err(zerr("poll"))?
                == 0
            {
                return Ok(i);
            }
            self.cmd.recv_multipart(0).map_err(zerr("recv"))?;
        }
        Ok(n)
    }
}
