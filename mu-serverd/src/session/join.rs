//! Snapshot (type 7): a client joining a running session pulls the scene one node per round
//! trip (REQUEST_INIT -> catalog, GET -> one node or `b'removed'`, DONE -> ACTIVE). With a join
//! window (difference 13, [`super::push`]) the SETs are pushed in the client's pop order ahead
//! of its GETs, and a GET the push already answered gets nothing more.
//!
//! Each client's join is its own: nothing in it touches another client. It is refused while
//! there is no complete scene (WAITING, or SRV_SYNC: the uploader's partial scene), where the
//! client waits in the lobby for the catalog the server sends once the upload is DONE.

use super::catalog;
use super::io::{Channel, Identity, SessionState};
use super::push::{self, GetVerdict, JoinPush};
use super::wire::sdict;
use super::Session;
use crate::objects::{self, CommandKind};
use crate::pickle::Value;
use log::Level;

impl Session {
    pub(super) fn on_join(&mut self, from: &Identity, data: &Value) {
        if self.repo.state() != SessionState::Active {
            let who = self.who(from);
            self.log(
                Level::Warn,
                format!(
                    "Snapshot from {who} refused: no scene to join yet (session {:?})",
                    self.repo.state()
                ),
            );
            return;
        }
        match data.get_str_key("STATE").and_then(Value::as_str) {
            Some("REQUEST_INIT") => {
                let who = self.who(from);
                self.log(
                    Level::Info,
                    format!(
                        "{who} joins: sending the catalog of {} nodes",
                        self.repo.len()
                    ),
                );
                self.send_catalog(std::slice::from_ref(from));
            }
            Some("GET") => match data.get_str_key("ID").and_then(Value::as_str) {
                Some(uuid) => {
                    let uuid = uuid.to_owned();
                    self.on_get(from, &uuid);
                }
                None => {
                    let who = self.who(from);
                    self.log(
                        Level::Warn,
                        format!("Snapshot GET from {who} refused: ID is not a uuid"),
                    );
                }
            },
            Some("DONE") => {
                self.joins.remove(from);
                self.set_active(from, "joined the running session")
            }
            other => {
                let who = self.who(from);
                self.log(
                    Level::Warn,
                    format!("Snapshot from {who} refused: unknown STATE {other:?}"),
                );
            }
        }
    }

    /// `Snapshot {STATE: 'INIT', CATALOG: [every uuid]}` to each of `to`, dependencies last
    /// ([`catalog`]), then the first window of SETs.
    pub(super) fn send_catalog(&mut self, to: &[Identity]) {
        if to.is_empty() {
            return;
        }
        let built = catalog::Built::of(&mut self.catalog, &self.repo);
        let frames = built.frames.clone();
        let push = (self.cfg.join_window.nodes > 0 && built.order.len() > 0).then(|| {
            // What the join holds besides its SETs counts in its window: the pop order (shared
            // by the joiners of this shape, counted for each) until the join ends, the INIT
            // message until the joiner's first GET.
            JoinPush::new(
                built.order.clone(),
                built.order.heap_bytes(),
                built.init_bytes + push::PER_SET_OVERHEAD,
                self.now,
            )
        });
        for id in to {
            self.send(Channel::Command, id, frames.clone());
            self.joins.remove(id);
            if let Some(p) = &push {
                self.joins.insert(id.clone(), p.clone());
                self.push_ahead(id);
            }
        }
    }

    /// A GET: answered, or already answered by the push (which then moves on).
    fn on_get(&mut self, from: &Identity, uuid: &str) {
        let Some(push) = self.joins.get_mut(from) else {
            self.send_node(from, uuid);
            return;
        };
        match push.on_get(uuid, self.now, self.cfg.join_window.bytes) {
            GetVerdict::AlreadySent => {}
            GetVerdict::AnswerInOrder => {
                self.send_node(from, uuid);
            }
            GetVerdict::OutOfOrder => {
                self.joins.remove(from);
                let who = self.who(from);
                self.log(
                    Level::Info,
                    format!(
                        "{who} asked for node {uuid} out of the catalog's pop order: \
                         one SET per GET from now on"
                    ),
                );
                self.send_node(from, uuid);
                return;
            }
        }
        if self.joins.get(from).is_some_and(JoinPush::finished) {
            self.joins.remove(from);
        } else {
            self.push_ahead(from);
        }
    }

    /// Sends the SETs the joiner's window has room for, in its pop order: within its own
    /// window ([`push`], [`super::pace`]) and its equal share of the session-wide budget, and
    /// at most [`push::TURN_SETS`] in this call; a window with room left queues the joiner for
    /// [`Session::continue_push`]. Returns the SETs pushed.
    fn push_ahead(&mut self, to: &Identity) -> usize {
        let window = self.cfg.join_window;
        let share =
            window.bytes.saturating_mul(push::SESSION_BUDGET_WINDOWS) / self.joins.len().max(1);
        // Bounded: each round either pushes one node or stops.
        for n in 0..push::TURN_SETS.min(window.nodes) {
            let Some(uuid) = self
                .joins
                .get(to)
                .and_then(|p| p.next(window, share))
                .map(str::to_owned)
            else {
                return n;
            };
            let size = self.send_node(to, &uuid) + push::PER_SET_OVERHEAD;
            let Some(p) = self.joins.get_mut(to) else {
                return n + 1;
            };
            p.pushed(size, self.now);
            if p.all_sent() {
                let (peak, target) = (p.peak() / 1024, p.target() / 1024);
                let who = self.who(to);
                self.log(
                    Level::Info,
                    format!(
                        "{who}: the last SET of its catalog is pushed; the push-ahead window \
                         held at most {peak} KiB (aiming at {target} KiB of SETs at the end)"
                    ),
                );
            }
        }
        let room = self
            .joins
            .get(to)
            .is_some_and(|p| p.next(window, share).is_some());
        if room && !self.push_turns.contains(to) {
            self.push_turns.push_back(to.clone());
        }
        push::TURN_SETS.min(window.nodes)
    }

    /// One turn of pushing for the joiners whose window still has room (the driver calls it
    /// through `handle_tick` once [`Session::next_deadline`] says it is due, i.e. after it has
    /// read its sockets): round robin, [`push::TURN_SETS`] each, at most
    /// [`push::TURN_SETS_TOTAL`] in all; a joiner still with room goes to the back.
    pub(super) fn continue_push(&mut self) {
        let mut spent = 0;
        for _ in 0..self.push_turns.len() {
            if spent >= push::TURN_SETS_TOTAL {
                return;
            }
            let Some(id) = self.push_turns.pop_front() else {
                return;
            };
            if self.joins.contains_key(&id) {
                spent += self.push_ahead(&id);
            }
        }
    }

    /// Sends the SET answering a GET of `uuid`; returns its size in bytes.
    fn send_node(&mut self, to: &Identity, uuid: &str) -> usize {
        let frames = match self.repo.fresh_data(uuid) {
            Some(data) => {
                let Some(node) = self.repo.get(uuid) else {
                    return 0;
                };
                // The reply pickle is written around the node's frames directly: no `Value`
                // tree and no general encoder per GET (a join sends one reply per node).
                let frame0 = objects::type_frame(objects::T_NODE).unwrap_or_default();
                objects::build_snapshot_set(
                    "server",
                    &[
                        frame0,
                        uuid.as_bytes(),
                        node.owner.as_bytes(),
                        node.deps_bytes(),
                        &data,
                    ],
                )
            }
            None => {
                let who = self.who(to);
                self.log(
                    Level::Debug,
                    format!("{who} - Snapshot: node {uuid} no longer exists"),
                );
                let data = sdict(vec![
                    ("STATE", Value::str("SET")),
                    ("DATA", Value::bytes(b"removed")),
                ]);
                objects::build_command(CommandKind::Snapshot, "server", &data)
            }
        };
        let size = frames.iter().map(|f| f.len()).sum();
        self.send(Channel::Command, to, frames);
        size
    }
}
