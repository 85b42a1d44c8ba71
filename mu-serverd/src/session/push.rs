//! Push-ahead join (difference 13): the window of Snapshot SETs sent to a joining client before
//! the GETs that ask for them.
//!
//! The replication client (0.9.10 up to 0.10.3, `interface.py` `handle_client_snapshot`) pops
//! the uuid at the end of the INIT catalog, sends GET, and on each SET checks that the node is
//! the one it popped before popping the next. A SET that arrives before its GET is read as the
//! answer to it, so sending SETs unasked in exactly that pop order (`catalog[-1]`,
//! `catalog[-2]`, ...) turns a join of N round trips into one of about N / window. Each GET
//! that matches the next expected uuid was already answered: it only moves the window on.
//!
//! This module is the bookkeeping alone (no repository, no frames): the session asks it what
//! to push next and tells it what it pushed and which GET came in.

use super::io::Millis;
use super::pace::Pace;
use std::collections::VecDeque;
use std::sync::Arc;

/// What a pushed SET holds in the server beyond its frames' bytes, counted in the byte budget
/// so that `bytes` bounds the memory: the SET is copied into libzmq messages (four 64-byte
/// message slots in libzmq's pipes per SET, with the identity frame, plus allocation headers).
/// Measured with `mu-bench --phases wan` (docs/performance.md): RSS grew by 6.2 MiB over a
/// 4 MiB budget of ~3,700 SETs of 1.1 KiB counted without it, about 620 bytes per SET.
pub(crate) const PER_SET_OVERHEAD: usize = 640;

/// All joiners together hold at most this many times [`Window::bytes`] ahead: with many
/// joiners at once each gets an equal share (a studio at 9 am: 20 joiners do not hold 20
/// windows).
pub(crate) const SESSION_BUDGET_WINDOWS: usize = 4;

/// Most SETs one call pushes for one joiner (a catalog, a GET, a turn of
/// `Session::continue_push`): a joiner's first window is ~600 SETs, and twenty joiners at once
/// would otherwise hold the loop for ~12,000 SETs while relayed Nodes and Commits wait. The rest
/// goes in later turns, after the shell has read its sockets, round robin over the joiners.
pub(crate) const TURN_SETS: usize = 16;

/// Most SETs one turn of `Session::continue_push` pushes over all joiners.
pub(crate) const TURN_SETS_TOTAL: usize = 256;

/// How far ahead of a joiner's GETs the server may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// SETs sent and not yet asked for (0: push-ahead is off).
    pub nodes: usize,
    /// Most bytes those SETs may hold (frames plus [`PER_SET_OVERHEAD`] each); within it,
    /// each joiner's window follows its own [`Pace`]. One SET is always allowed, whatever its
    /// size.
    pub bytes: usize,
}

impl Window {
    pub const OFF: Window = Window { nodes: 0, bytes: 0 };
}

/// What to do with a joiner's GET.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum GetVerdict {
    /// The next expected uuid, already pushed: nothing to send.
    AlreadySent,
    /// The next expected uuid, not pushed yet (the window was full): answer it; it now counts
    /// as sent and asked.
    AnswerInOrder,
    /// Not the uuid the client's pop order gives: this peer does not join like the replication
    /// client; answer this GET and every later one as the reference does, and push no more.
    OutOfOrder,
}

/// A catalog in the client's pop order (last uuid first), stored as one string and the end of
/// each uuid in it: two allocations for the whole catalog instead of one per uuid (10,000
/// uuids: ~440 KB instead of ~800 KB), shared by the joiners it was sent to at once.
#[derive(Debug)]
pub(crate) struct PopOrder {
    text: String,
    ends: Vec<usize>,
}

impl PopOrder {
    /// `catalog` in the order the INIT message lists it.
    pub(crate) fn new<'a>(catalog: impl DoubleEndedIterator<Item = &'a str>) -> PopOrder {
        let (mut text, mut ends) = (String::new(), Vec::new());
        for u in catalog.rev() {
            text.push_str(u);
            ends.push(text.len());
        }
        text.shrink_to_fit();
        ends.shrink_to_fit();
        PopOrder { text, ends }
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `i`-th uuid the client pops.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        self.text.get(start..end)
    }

    /// What it holds on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

/// One joiner's progress through its catalog.
#[derive(Clone, Debug)]
pub(crate) struct JoinPush {
    /// The catalog in the client's pop order.
    order: Arc<PopOrder>,
    /// Bytes counted in the window besides the SETs ahead: the pop order for the whole join,
    /// and the INIT message until the joiner's first GET (by then it has read it).
    held: usize,
    init_bytes: usize,
    /// SETs sent so far (`order[..sent]`), pushed or answered.
    sent: usize,
    /// GETs matched so far (`order[..asked]`); `asked <= sent`.
    asked: usize,
    /// Sizes and push times of the SETs sent and not yet asked for (`order[asked..sent]`),
    /// and the sum of the sizes.
    ahead: VecDeque<(usize, Millis)>,
    ahead_bytes: usize,
    /// The joiner's bandwidth-delay estimate: the bytes its window aims at.
    pace: Pace,
    /// When the message before the next expected GET's SET was sent (the INIT, then each
    /// SET in turn). The client sends GET k once it has handled SET k-1 (it pops and asks
    /// before it reads), so GET k times the round trip of SET k-1, not of SET k: a SET
    /// pushed a round trip after its predecessor is asked for about when it arrives.
    prev_sent_at: Millis,
    /// The most bytes the window held at once (SETs ahead plus what the join holds).
    peak: usize,
}

impl JoinPush {
    /// A join through `order` whose INIT was sent at `now`; `whole_join` bytes count in the
    /// window until the join ends (the pop order's share), `until_first_get` until the
    /// joiner's first GET (its INIT).
    pub(crate) fn new(
        order: Arc<PopOrder>,
        whole_join: usize,
        until_first_get: usize,
        now: Millis,
    ) -> JoinPush {
        JoinPush {
            prev_sent_at: now,
            peak: 0,
            held: whole_join + until_first_get,
            init_bytes: until_first_get,
            order,
            sent: 0,
            asked: 0,
            ahead: VecDeque::new(),
            ahead_bytes: 0,
            pace: Pace::default(),
        }
    }

    /// The uuid to push next if the window has room for it: SETs of at most the joiner's
    /// [`Pace`] target and `share` bytes (its part of the session-wide budget), and with what
    /// the join holds (its catalog), at most `w.bytes` -- except that SETs may always fill a
    /// quarter of `w.bytes`, so a catalog as large as the ceiling does not turn the join back
    /// into one SET per round trip.
    pub(crate) fn next(&self, w: Window, share: usize) -> Option<&str> {
        let within_ceiling =
            self.ahead_bytes + self.held < w.bytes || self.ahead_bytes < w.bytes / 4;
        let room = self.ahead.len() < w.nodes
            && (self.ahead.is_empty()
                || (self.ahead_bytes < self.pace.target().min(share) && within_ceiling));
        if !room {
            return None;
        }
        self.order.get(self.sent)
    }

    /// The SET of [`JoinPush::next`] was sent at `now`, `size` bytes.
    pub(crate) fn pushed(&mut self, size: usize, now: Millis) {
        if self.sent < self.order.len() {
            self.sent += 1;
            self.ahead.push_back((size, now));
            self.ahead_bytes += size;
            self.peak = self.peak.max(self.ahead_bytes + self.held);
        }
    }

    /// A GET for `uuid` came in at `now`.
    /// `cap` is the most the caller would let the window hold (its [`Pace`] aims below it).
    pub(crate) fn on_get(&mut self, uuid: &str, now: Millis, cap: usize) -> GetVerdict {
        if self.order.get(self.asked).is_none_or(|u| u != uuid) {
            return GetVerdict::OutOfOrder;
        }
        // The client read the INIT message before it sent its first GET.
        self.held -= std::mem::take(&mut self.init_bytes);
        self.asked += 1;
        if self.asked > self.sent {
            self.sent = self.asked;
            self.prev_sent_at = now;
            return GetVerdict::AnswerInOrder;
        }
        if let Some((size, at)) = self.ahead.pop_front() {
            self.ahead_bytes -= size;
            self.pace.acked(size, self.prev_sent_at, now, cap);
            self.prev_sent_at = at;
        }
        GetVerdict::AlreadySent
    }

    /// Every SET was sent (some may not be asked for yet).
    pub(crate) fn all_sent(&self) -> bool {
        self.sent == self.order.len()
    }

    /// Every SET was sent and asked for: the joiner's DONE is next.
    pub(crate) fn finished(&self) -> bool {
        self.asked == self.order.len()
    }

    /// SETs sent and not yet asked for, and their bytes.
    pub(crate) fn ahead(&self) -> (usize, usize) {
        (self.ahead.len(), self.ahead_bytes)
    }

    /// The most bytes the window held at once, counted as [`JoinPush::next`] counts them.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// The bytes the window aims at, before the caller's caps.
    pub(crate) fn target(&self) -> usize {
        self.pace.target()
    }

    /// Bytes counted in the window besides those SETs (see [`JoinPush::new`]).
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Window = Window {
        nodes: 3,
        bytes: 100,
    };

    fn jp(cat: &[&str]) -> JoinPush {
        JoinPush::new(Arc::new(PopOrder::new(cat.iter().copied())), 0, 0, 0)
    }

    fn fill(j: &mut JoinPush, w: Window, size: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..100 {
            let Some(u) = j.next(w, usize::MAX).map(str::to_owned) else {
                break;
            };
            j.pushed(size, 0);
            out.push(u);
        }
        out
    }

    #[test]
    fn pushes_in_pop_order_and_each_get_moves_the_window_by_one() {
        let cat = ["a", "b", "c", "d", "e"];
        let mut j = jp(&cat);
        assert_eq!(fill(&mut j, W, 10), ["e", "d", "c"]);
        assert_eq!(j.on_get("e", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(fill(&mut j, W, 10), ["b"]);
        assert_eq!(j.on_get("d", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(j.on_get("c", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(fill(&mut j, W, 10), ["a"]);
        assert_eq!(j.ahead(), (2, 20));
        assert_eq!(j.on_get("b", 0, usize::MAX), GetVerdict::AlreadySent);
        assert!(!j.finished());
        assert_eq!(j.on_get("a", 0, usize::MAX), GetVerdict::AlreadySent);
        assert!(j.finished());
        assert_eq!(fill(&mut j, W, 10), Vec::<String>::new());
        assert_eq!(j.ahead(), (0, 0));
    }

    #[test]
    fn the_byte_budget_stops_the_window_but_one_set_always_goes() {
        let cat = ["a", "b", "c"];
        let mut j = jp(&cat);
        // 60 + 60 passes 100: the second is the last one allowed.
        assert_eq!(fill(&mut j, W, 60), ["c", "b"]);
        assert_eq!(j.on_get("c", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(fill(&mut j, W, 60), ["a"]);
        // A node bigger than the whole budget still goes when nothing is ahead.
        let mut big = jp(&cat);
        assert_eq!(fill(&mut big, W, 1000), ["c"]);
        assert_eq!(big.on_get("c", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(fill(&mut big, W, 1000), ["b"]);
    }

    #[test]
    fn the_catalog_counts_in_the_window_and_the_init_only_until_the_first_get() {
        let cat = ["a", "b", "c", "d", "e", "f"];
        let order = Arc::new(PopOrder::new(cat.iter().copied()));
        // 30 bytes for the whole join, 40 until the first GET: 30 left of the 100 at first.
        let mut j = JoinPush::new(order, 30, 40, 0);
        assert_eq!(j.held(), 70);
        let w = Window {
            nodes: 10,
            bytes: 100,
        };
        assert_eq!(fill(&mut j, w, 20), ["f", "e"]);
        assert_eq!(j.on_get("f", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(j.held(), 30);
        // 20 ahead + 30 held: room for 50 more bytes, i.e. three SETs of 20 (the last passes).
        assert_eq!(fill(&mut j, w, 20), ["d", "c", "b"]);
        assert_eq!(j.ahead(), (4, 80));
        // A catalog bigger than the window: the SETs still get a quarter of it (25 bytes).
        let mut k = JoinPush::new(Arc::new(PopOrder::new(cat.iter().copied())), 500, 0, 0);
        assert_eq!(fill(&mut k, w, 20), ["f", "e"]);
        assert_eq!(k.on_get("f", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(fill(&mut k, w, 20), ["d"]);
    }

    /// A join of `n` SETs of 1,000 bytes by the replication client's loop (pop, GET, wait for
    /// the SET, handle it in `cost_us`) on a link of `rtt_ms`: returns the window's target at
    /// the end and the join's time in ms.
    fn client_join(n: usize, rtt_ms: u64, cost_us: u64) -> (usize, u64) {
        let names: Vec<String> = (0..n).map(|i| format!("u{i:06}")).collect();
        let mut j = JoinPush::new(
            Arc::new(PopOrder::new(names.iter().map(String::as_str))),
            0,
            0,
            0,
        );
        let w = Window {
            nodes: usize::MAX,
            bytes: 64 << 20,
        };
        let half = rtt_ms * 500;
        let mut sent_at: Vec<u64> = Vec::with_capacity(n);
        let push_all = |j: &mut JoinPush, sent_at: &mut Vec<u64>, t_us: u64| {
            while j.next(w, usize::MAX).is_some() {
                j.pushed(1000, t_us / 1000);
                sent_at.push(t_us);
            }
        };
        push_all(&mut j, &mut sent_at, 0);
        // The client got the INIT at `half`; then GET k leaves once SET k-1 is handled.
        let mut client = half;
        for (k, uuid) in names.iter().rev().enumerate() {
            let at_server = client + half;
            if j.on_get(uuid, at_server / 1000, w.bytes) == GetVerdict::AnswerInOrder {
                sent_at.push(at_server);
            }
            push_all(&mut j, &mut sent_at, at_server);
            client = client.max(sent_at[k] + half) + cost_us;
        }
        (j.target(), client / 1000)
    }

    #[test]
    fn a_fast_client_on_a_long_link_opens_the_window_wide() {
        // A SET every 10 us = 100,000 bytes/ms; 100 ms: twice the BDP is 20 MB.
        let (target, ms) = client_join(30_000, 100, 10);
        assert!((15_000_000..=25_000_000).contains(&target), "{target}");
        // 30 MB at 100 MB/s is 300 ms of the client's time, plus the round trips to open.
        assert!(ms < 1000, "{ms} ms");
        // The real client's pace keeps it small: 4,000 bytes/ms, 2 x BDP = 800 KB.
        let (target, _) = client_join(10_000, 100, 250);
        assert!((600_000..=1_000_000).contains(&target), "{target}");
    }

    #[test]
    fn the_pop_order_is_the_catalog_reversed() {
        let cat = ["a1", "", "ccc", "d"];
        let o = PopOrder::new(cat.iter().copied());
        let got: Vec<&str> = (0..o.len()).filter_map(|i| o.get(i)).collect();
        assert_eq!(got, ["d", "ccc", "", "a1"]);
        assert_eq!(o.get(4), None);
        assert!(o.heap_bytes() >= 6 + 4 * std::mem::size_of::<usize>());
    }

    #[test]
    fn a_window_of_zero_pushes_nothing_and_answers_each_get_in_order() {
        let cat = ["a", "b"];
        let mut j = jp(&cat);
        assert!(fill(&mut j, Window::OFF, 1).is_empty());
        assert_eq!(j.on_get("b", 0, usize::MAX), GetVerdict::AnswerInOrder);
        assert_eq!(j.on_get("a", 0, usize::MAX), GetVerdict::AnswerInOrder);
        assert!(j.finished());
    }

    #[test]
    fn a_get_out_of_the_pop_order_is_reported() {
        let cat = ["a", "b", "c"];
        let mut j = jp(&cat);
        fill(&mut j, W, 1);
        // Catalog order instead of pop order (a hand-made peer).
        assert_eq!(j.on_get("a", 0, usize::MAX), GetVerdict::OutOfOrder);
        // The same uuid twice.
        let mut k = jp(&cat);
        fill(&mut k, W, 1);
        assert_eq!(k.on_get("c", 0, usize::MAX), GetVerdict::AlreadySent);
        assert_eq!(k.on_get("c", 0, usize::MAX), GetVerdict::OutOfOrder);
        // A GET past the end of the catalog.
        let mut e = jp(&["a"]);
        assert_eq!(e.on_get("a", 0, usize::MAX), GetVerdict::AnswerInOrder);
        assert_eq!(e.on_get("a", 0, usize::MAX), GetVerdict::OutOfOrder);
    }
}
