//! A driver for the core with a simulated clock, and helpers to build client frames and read
//! the server's.

pub(crate) use crate::objects::CommandKind;
use crate::objects::{T_COMMIT, T_NODE};
use crate::pickle::{decode, encode, Limits, Value};
use crate::session::io::{Action, Change, Channel, Frame, Identity, Millis};
use crate::session::wire::sdict;
use crate::session::{Session, SessionConfig};
use std::sync::Arc;

pub(crate) const ADMIN_PWD: &str = "adm";

pub(crate) fn id(n: u8) -> Identity {
    Arc::from(&[n; 16][..])
}

pub(crate) fn s(v: &str) -> Value {
    Value::str(v)
}

pub(crate) fn pk(v: &Value) -> Frame {
    Arc::from(encode(v))
}

/// Frame 0 holding any number, as a hostile peer may send it (CPython's pickle of the int).
pub(crate) fn tframe(t: i64) -> Frame {
    pk(&Value::Int(t))
}

/// Frame 0 of a command kind.
pub(crate) fn kframe(kind: CommandKind) -> Frame {
    tframe(i64::from(kind.num()))
}

pub(crate) fn cmd(kind: CommandKind, owner: &str, data: &Value) -> Vec<Frame> {
    vec![kframe(kind), Arc::from(owner.as_bytes()), pk(data)]
}

pub(crate) fn deps(list: &[&str]) -> Frame {
    pk(&Value::list(list.iter().map(|d| s(d)).collect()))
}

pub(crate) fn node_frames(uuid: &str, owner: &str, dep: &[&str], data: &Value) -> Vec<Frame> {
    vec![
        tframe(T_NODE.into()),
        Arc::from(uuid.as_bytes()),
        Arc::from(owner.as_bytes()),
        deps(dep),
        pk(data),
    ]
}

pub(crate) fn commit_frames(uuid: &str, dep: &[&str], delta: &Value) -> Vec<Frame> {
    vec![
        tframe(T_COMMIT.into()),
        Arc::from(uuid.as_bytes()),
        deps(dep),
        pk(delta),
    ]
}

/// `{'values_changed': {"root['key']": {'new_value': v}}}` as deepdiff 8 writes it.
pub(crate) fn set_delta(key: &str, v: Value) -> Value {
    sdict(vec![(
        "values_changed",
        sdict(vec![(
            &format!("root['{key}']"),
            sdict(vec![("new_value", v)]),
        )]),
    )])
}

pub(crate) fn auth_data(name: &str, admin_pwd: Option<&str>, spwd: Value, version: &str) -> Value {
    sdict(vec![
        (
            "AUTH_TYPE",
            s(if admin_pwd.is_some() {
                "ADMIN"
            } else {
                "CLIENT"
            }),
        ),
        ("AUTH_ID", s(name)),
        ("S_PWD", spwd),
        ("A_PWD", admin_pwd.map(s).unwrap_or(Value::None)),
        ("VERSION", s(version)),
    ])
}

/// A sent message, decoded.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub ch: Channel,
    pub to: Identity,
    pub frames: Vec<Frame>,
}

impl Sent {
    /// The command kind frame 0 holds (`None` for a Node, a Commit or anything else).
    pub(crate) fn kind(&self) -> Option<CommandKind> {
        match decode(&self.frames[0], &Limits::default()) {
            Ok(Value::Int(n)) => CommandKind::from_num(n),
            _ => None,
        }
    }
    pub(crate) fn data(&self) -> Value {
        decode(self.frames.last().expect("frames"), &Limits::default()).expect("server pickle")
    }
    pub(crate) fn owner(&self) -> String {
        String::from_utf8_lossy(&self.frames[1]).into_owned()
    }
}

pub(crate) fn cfg() -> SessionConfig {
    SessionConfig {
        admin_password: Some(ADMIN_PWD.into()),
        timeout_ms: 2000,
        ..SessionConfig::default()
    }
}

pub(crate) struct H {
    pub s: Session,
    pub now: Millis,
    pub actions: Vec<Action>,
}

impl H {
    pub(crate) fn new() -> H {
        H::with(cfg())
    }
    pub(crate) fn with(c: SessionConfig) -> H {
        H {
            s: Session::new(c),
            now: 1_000_000,
            actions: Vec::new(),
        }
    }
    fn drain(&mut self) -> Vec<Action> {
        let mut got = Vec::new();
        while let Some(a) = self.s.poll_action() {
            got.push(a);
        }
        self.actions.extend(got.iter().cloned());
        got
    }
    pub(crate) fn frame(
        &mut self,
        ch: Channel,
        from: &Identity,
        frames: Vec<Frame>,
    ) -> Vec<Action> {
        self.s.handle_frame(self.now, ch, from, frames);
        self.drain()
    }
    /// A message that came on a connection from `addr` (libzmq's `Peer-Address`).
    pub(crate) fn frame_from(
        &mut self,
        ch: Channel,
        from: &Identity,
        addr: &str,
        frames: Vec<Frame>,
    ) -> Vec<Action> {
        let addr: crate::session::io::PeerAddr = Arc::from(addr);
        self.s
            .handle_frame_from(self.now, ch, from, Some(&addr), frames);
        self.drain()
    }
    pub(crate) fn cmd(&mut self, from: &Identity, frames: Vec<Frame>) -> Vec<Action> {
        self.frame(Channel::Command, from, frames)
    }
    pub(crate) fn data(&mut self, from: &Identity, frames: Vec<Frame>) -> Vec<Action> {
        self.frame(Channel::Data, from, frames)
    }
    pub(crate) fn hb(&mut self, from: &Identity, frame: &[u8]) -> Vec<Action> {
        self.frame(Channel::Heartbeat, from, vec![Arc::from(frame)])
    }
    /// Advances the clock, ticking at every deadline on the way (as the shell would).
    pub(crate) fn advance(&mut self, ms: Millis) -> Vec<Action> {
        let end = self.now + ms;
        let mut got = Vec::new();
        for _ in 0..10_000 {
            match self.s.next_deadline() {
                Some(d) if d <= end => {
                    self.now = d.max(self.now);
                    self.s.handle_tick(self.now);
                    got.extend(self.drain());
                }
                _ => break,
            }
        }
        self.now = end;
        self.s.handle_tick(self.now);
        got.extend(self.drain());
        got
    }

    /// Advances like [`H::advance`] in 100 ms steps, with the clients in `alive` answering each
    /// PING with a PONG 1 ms later (what `ttl.py` does).
    pub(crate) fn advance_answering(&mut self, ms: Millis, alive: &[Identity]) -> Vec<Action> {
        let end = self.now + ms;
        let mut got = Vec::new();
        while self.now < end {
            let step = self.advance(100.min(end - self.now));
            for who in alive {
                let pinged = sends_to(&step, who)
                    .iter()
                    .any(|m| m.ch == Channel::Heartbeat && &m.frames[0][..] == b"PING");
                if pinged {
                    self.now += 1;
                    got.extend(self.hb(who, b"PONG"));
                }
            }
            got.extend(step);
        }
        got
    }

    /// Logs in from `addr` and returns the Auth answer.
    pub(crate) fn login_from(&mut self, who: &Identity, name: &str, addr: &str) -> String {
        let data = auth_data(name, None, Value::None, "0.9.10");
        let acts = self.frame_from(
            Channel::Command,
            who,
            addr,
            cmd(CommandKind::Auth, name, &data),
        );
        auth_answer(&acts, who)
    }

    /// Logs in and returns the Auth answer.
    pub(crate) fn login(&mut self, who: &Identity, name: &str, admin: bool) -> String {
        let data = auth_data(name, admin.then_some(ADMIN_PWD), Value::None, "0.9.10");
        let acts = self.cmd(who, cmd(CommandKind::Auth, name, &data));
        auth_answer(&acts, who)
    }

    /// A client logs in, starts its heartbeat and uploads `nodes` (uuid, data) as the scene.
    pub(crate) fn host(&mut self, who: &Identity, name: &str, nodes: &[(&str, Value)]) {
        assert_eq!(self.login(who, name, true), "LOBBY");
        self.hb(who, b"INIT");
        let uuids = Value::list(nodes.iter().map(|(u, _)| s(u)).collect());
        let init = sdict(vec![
            ("STATE", s("INIT")),
            ("SIZE", Value::Int(nodes.len() as i64)),
            ("NODES", uuids),
        ]);
        self.cmd(who, cmd(CommandKind::ServerSnapshot, "server", &init));
        for (u, d) in nodes {
            let chunks = node_frames(u, "COMMON", &[], d);
            let set = sdict(vec![
                ("STATE", s("SET")),
                (
                    "DATA",
                    Value::list(chunks.iter().map(|f| Value::Bytes(f.clone())).collect()),
                ),
            ]);
            self.cmd(who, cmd(CommandKind::ServerSnapshot, "server", &set));
        }
        self.cmd(
            who,
            cmd(
                CommandKind::ServerSnapshot,
                "server",
                &sdict(vec![("STATE", s("END"))]),
            ),
        );
    }

    /// A logged-in client starts its heartbeat and asks for the catalog: the Snapshot answers
    /// it got (the catalog, then any SETs pushed ahead of its GETs).
    pub(crate) fn request_init(&mut self, who: &Identity, name: &str) -> Vec<Sent> {
        self.hb(who, b"INIT");
        let acts = self.cmd(
            who,
            cmd(
                CommandKind::Snapshot,
                name,
                &sdict(vec![("STATE", s("REQUEST_INIT"))]),
            ),
        );
        sends_to(&acts, who)
            .into_iter()
            .filter(|m| m.kind() == Some(CommandKind::Snapshot))
            .collect()
    }

    /// A client joins a running session as the replication client does (login, heartbeat,
    /// catalog, a GET per node in pop order, DONE); returns every SET it got, pushed or
    /// answered.
    pub(crate) fn join(&mut self, who: &Identity, name: &str) -> Vec<Sent> {
        assert_eq!(self.login(who, name, false), "RUNNING");
        let mut answers = self.request_init(who, name).into_iter();
        let catalog = answers.next().expect("catalog").data();
        // SETs pushed ahead of the GETs (difference 13).
        let mut got: Vec<Sent> = answers.collect();
        if let Some(Value::List(items)) = catalog.get_str_key("CATALOG") {
            // The client's pop order: the last uuid first.
            for u in items.iter().rev() {
                let get = sdict(vec![("STATE", s("GET")), ("ID", u.clone())]);
                let acts = self.cmd(who, cmd(CommandKind::Snapshot, name, &get));
                got.extend(sends(&acts).into_iter().filter(|m| m.to == *who));
            }
        }
        self.cmd(
            who,
            cmd(
                CommandKind::Snapshot,
                name,
                &sdict(vec![("STATE", s("DONE"))]),
            ),
        );
        got
    }
}

pub(crate) fn sends(actions: &[Action]) -> Vec<Sent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                channel,
                to,
                frames,
            } => Some(Sent {
                ch: *channel,
                to: to.clone(),
                frames: frames.to_vec(),
            }),
            _ => None,
        })
        .collect()
}

pub(crate) fn sends_to(actions: &[Action], to: &Identity) -> Vec<Sent> {
    sends(actions).into_iter().filter(|m| m.to == *to).collect()
}

pub(crate) fn logs(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn logged(actions: &[Action], needle: &str) -> bool {
    logs(actions).iter().any(|l| l.contains(needle))
}

pub(crate) fn persisted(actions: &[Action]) -> Vec<Change> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Persist(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn auth_answer(actions: &[Action], to: &Identity) -> String {
    sends_to(actions, to)
        .into_iter()
        .find(|m| m.kind() == Some(CommandKind::Auth))
        .and_then(|m| m.data().as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Reads `key` of a dict value.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get_str_key(key)
        .unwrap_or_else(|| panic!("no {key} in {v:?}"))
}

pub(crate) fn node_value(name: &str, x: i64) -> Value {
    sdict(vec![("name", s(name)), ("x", Value::Int(x))])
}

pub(crate) fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        other => panic!("not an int: {other:?}"),
    }
}
