//! Totals, not only per-message caps (issue 14): however small each message, one client must
//! not make the server hold unbounded memory. The session holds at most `max_nodes` nodes and
//! `max_session_bytes` bytes of node pickles; one user's metadata at most
//! `max_metadata_bytes_per_user` bytes and all users' together `max_metadata_bytes_total`
//! (it is re-sent to every client every second). A message that would pass a total is refused
//! whole: one log line naming the user and the limit, nothing stored, nothing relayed, the
//! sender stays connected. The protocol has no answer for a refused update or metadata; a
//! refused upload is answered `REJECTED` (see `upload.rs`).

use super::codec;
use super::io::Identity;
use super::Session;
use crate::pickle::Value;

impl Session {
    /// Would the repository stay within its totals if a node that counts `old` bytes (`None`:
    /// a new node) came to count `new`? A Commit counts its delta and dependency bytes on top
    /// of what the node holds (`Repository` counts it so until the node is encoded again).
    /// `Err` is the reason for the log line. The callers pass what their own lookup found, so
    /// the relay path looks the node up once.
    pub(super) fn room_for_node(&self, old: Option<u64>, new: u64) -> Result<(), String> {
        if old.is_none() && self.repo.len() as u64 >= self.cfg.max_nodes {
            return Err(format!(
                "the session holds {} nodes (limit max_nodes = {})",
                self.repo.len(),
                self.cfg.max_nodes
            ));
        }
        let old = old.unwrap_or(0);
        let after = (self.repo.stored_bytes() + new).saturating_sub(old);
        if new > old && after > self.cfg.max_session_bytes {
            return Err(format!(
                "the session would hold {after} bytes of nodes (limit max_session_bytes = {})",
                self.cfg.max_session_bytes
            ));
        }
        Ok(())
    }

    /// The pickled size of each item of an UpdateUserMetadata, if merging them keeps `from`'s
    /// metadata and everyone's within their totals. Costs one encoding of the items (the
    /// message's own size), not of the metadata already held.
    pub(super) fn metadata_room(
        &self,
        from: &Identity,
        items: &[(Value, Value)],
    ) -> Result<Vec<u64>, String> {
        let Some(client) = self.clients.get(from) else {
            return Err("not logged in".into());
        };
        let sizes: Vec<u64> = items
            .iter()
            .map(|(k, v)| (codec::encode(k).len() + codec::encode(v).len()) as u64)
            .collect();
        let after = client.metadata_bytes_after(items, &sizes);
        let limit = self.cfg.max_user_metadata_bytes;
        if after > limit && after > client.metadata_bytes {
            return Err(format!(
                "{}'s metadata would hold {after} bytes (limit max_metadata_bytes_per_user = {limit})",
                client.name
            ));
        }
        let others: u64 = self
            .clients
            .iter()
            .filter(|(id, _)| *id != from)
            .map(|(_, c)| c.metadata_bytes)
            .sum();
        let total = others + after;
        let limit = self.cfg.max_metadata_bytes_total;
        if total > limit && after > client.metadata_bytes {
            return Err(format!(
                "all users' metadata would hold {total} bytes (limit max_metadata_bytes_total = {limit})"
            ));
        }
        Ok(sizes)
    }
}
