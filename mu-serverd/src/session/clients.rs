//! The logged-in clients, keyed by routing identity, with what UpdateClientsState reports about
//! them and the traffic counters the control socket shows.

use super::io::{Identity, Millis, PeerAddr};
use super::wire::sdict;
use crate::pickle::Value;
use std::collections::HashMap;

/// `STATE_LOBBY` / `STATE_ACTIVE` of the replication library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStatus {
    Lobby,
    Active,
}

impl ClientStatus {
    pub fn code(self) -> i64 {
        match self {
            ClientStatus::Lobby => 10,
            ClientStatus::Active => 2,
        }
    }
}

/// Messages and bytes, in and out, as the core saw them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub msgs_in: u64,
    pub bytes_in: u64,
    pub msgs_out: u64,
    pub bytes_out: u64,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub name: String,
    pub admin: bool,
    pub status: ClientStatus,
    /// 999 until the heartbeat measured it (as the reference).
    pub latency: u64,
    /// Dict items, merged with Python `dict.update` semantics.
    pub metadata: Vec<(Value, Value)>,
    /// The pickled size of each item of `metadata` (same order), and their sum: what
    /// `max_metadata_bytes_per_user` is checked against.
    pub metadata_sizes: Vec<u64>,
    pub metadata_bytes: u64,
    pub since: Millis,
    pub traffic: Traffic,
    /// The address it logged in from: its identity is accepted from there only (difference 15).
    pub address: Option<PeerAddr>,
}

impl Client {
    pub fn new(name: String, admin: bool, now: Millis) -> Self {
        Client {
            name,
            admin,
            status: ClientStatus::Lobby,
            latency: 999,
            metadata: Vec::new(),
            metadata_sizes: Vec::new(),
            metadata_bytes: 0,
            since: now,
            traffic: Traffic::default(),
            address: None,
        }
    }

    /// `metadata.update(items)`: existing keys keep their place, new keys are appended.
    /// `sizes`: each item's pickled size (see `Session::metadata_room`). The key comparisons
    /// are charged to the work meter (`pickle::budget`; keys can be memo DAGs); when it runs
    /// out nothing changes and the answer is false.
    pub fn merge_metadata(&mut self, items: &[(Value, Value)], sizes: &[u64]) -> bool {
        let mut merged = self.metadata.clone();
        let mut merged_sizes = self.metadata_sizes.clone();
        let mut merged_bytes = self.metadata_bytes;
        for ((k, v), size) in items.iter().zip(sizes) {
            match merged.iter().position(|(mk, _)| mk.strict_eq(k)) {
                Some(i) => {
                    merged[i].1 = v.clone();
                    merged_bytes -= merged_sizes[i];
                    merged_sizes[i] = *size;
                }
                None => {
                    merged.push((k.clone(), v.clone()));
                    merged_sizes.push(*size);
                }
            }
            merged_bytes += size;
        }
        if crate::pickle::budget::exhausted() {
            return false;
        }
        self.metadata = merged;
        self.metadata_sizes = merged_sizes;
        self.metadata_bytes = merged_bytes;
        true
    }

    /// At least what `metadata_bytes` would be after [`Client::merge_metadata`] of these items:
    /// exact unless the update names a key twice (a pickle can; a Python dict cannot), which
    /// is then counted twice rather than searched for (linear, not quadratic, in the items).
    pub fn metadata_bytes_after(&self, items: &[(Value, Value)], sizes: &[u64]) -> u64 {
        let mut replaced = vec![false; self.metadata.len()];
        let mut bytes = self.metadata_bytes;
        for ((k, _), size) in items.iter().zip(sizes) {
            if let Some(i) = self.metadata.iter().position(|(mk, _)| mk.strict_eq(k)) {
                if !std::mem::replace(&mut replaced[i], true) {
                    bytes -= self.metadata_sizes[i];
                }
            }
            bytes += size;
        }
        bytes
    }

    /// The entry UpdateClientsState carries for this client, in the reference's key order.
    pub fn state_value(&self) -> Value {
        sdict(vec![
            ("id", Value::str(&self.name)),
            ("admin", Value::Bool(self.admin)),
            (
                "latency",
                Value::Int(i64::try_from(self.latency).unwrap_or(i64::MAX)),
            ),
            ("status", Value::Int(self.status.code())),
            ("metadata", Value::dict(self.metadata.clone())),
        ])
    }
}

/// Clients in login order (the order UpdateClientsState lists them). They live in a vector so
/// that a fan-out visits them without hashing; the index finds one by identity.
#[derive(Default)]
pub struct Clients {
    list: Vec<(Identity, Client)>,
    index: HashMap<Identity, usize>,
}

impl Clients {
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn get(&self, id: &[u8]) -> Option<&Client> {
        let i = *self.index.get(id)?;
        self.list.get(i).map(|(_, c)| c)
    }
    pub fn get_mut(&mut self, id: &[u8]) -> Option<&mut Client> {
        let i = *self.index.get(id)?;
        self.list.get_mut(i).map(|(_, c)| c)
    }
    pub fn contains(&self, id: &[u8]) -> bool {
        self.index.contains_key(id)
    }
    pub fn by_name(&self, name: &str) -> Option<&Identity> {
        self.list
            .iter()
            .find(|(_, c)| c.name == name)
            .map(|(id, _)| id)
    }
    pub fn insert(&mut self, id: Identity, client: Client) {
        match self.index.get(&id) {
            Some(&i) => self.list[i].1 = client,
            None => {
                self.index.insert(id.clone(), self.list.len());
                self.list.push((id, client));
            }
        }
    }
    /// Keeps the login order of the others (rare: a leave re-numbers the index).
    pub fn remove(&mut self, id: &[u8]) -> Option<Client> {
        let i = self.index.remove(id)?;
        let (_, c) = self.list.remove(i);
        for (_, slot) in self.index.iter_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(c)
    }
    /// Identities in login order.
    pub fn ids(&self) -> Vec<Identity> {
        self.list.iter().map(|(id, _)| id.clone()).collect()
    }
    /// Visits every client in login order, mutably.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&Identity, &mut Client)) {
        for (id, c) in &mut self.list {
            f(id, c);
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (&Identity, &Client)> {
        self.list.iter().map(|(id, c)| (id, c))
    }
    pub fn clear(&mut self) {
        self.list.clear();
        self.index.clear();
    }
}
