//! The IO shell in the mode the daemon runs it: selective pumps (`Shell::set_selective`, every
//! poll event passed to `Shell::note_event`), where a wake-up touches only the sockets that
//! fired, were sent on or have parked messages, and a message that journals nothing is
//! answered before its socket is read again.
//! - no stall: one-at-a-time round trips on every channel, answered on the *next* channel (so
//!   replies go out on sockets whose ZMQ_FD did not fire), while other clients flood all three
//!   channels; the loop sleeps without a timeout, so a socket left with an unprocessed edge
//!   hangs its client until the client's 10 s limit fails the test;
//! - journal order: a reply whose message journaled a change (before or after queueing the
//!   reply) never reaches the client before that change's flush, and replies arrive in request
//!   order, although unjournaled replies are sent at once.
//!
//! Ports 26580-26599.

mod shell_support;

use mu_serverd::session::io::{Action, Change, Channel, Frame, Identity, Millis, SendFailure};
use mu_serverd::session::io::{Journal, SceneRecord};
use mu_serverd::shell::Core;
use shell_support::{dealer, echo_client, no_journal, Persist, Server};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CHANNELS: [Channel; 3] = [Channel::Command, Channel::Data, Channel::Heartbeat];

fn index(ch: Channel) -> usize {
    CHANNELS.iter().position(|c| *c == ch).unwrap()
}

/// Echoes `seq` messages on the same channel; answers `hop` messages on the next channel.
struct Hop {
    out: VecDeque<Action>,
}

impl Core for Hop {
    fn handle_frame(&mut self, _: Millis, channel: Channel, from: &Identity, frames: Vec<Frame>) {
        let channel = if frames.first().map(|f| &f[..]) == Some(b"hop") {
            CHANNELS[(index(channel) + 1) % 3]
        } else {
            channel
        };
        self.out.push_back(Action::Send {
            channel,
            to: from.clone(),
            frames: frames.into(),
        });
    }
    fn handle_tick(&mut self, _: Millis) {}
    fn handle_send_failure(&mut self, _: Millis, _: Channel, _: &Identity, f: SendFailure) {
        panic!("peer failed: {f:?}");
    }
    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }
    fn next_deadline(&self) -> Option<Millis> {
        None
    }
}

fn recv_within(s: &zmq::Socket, what: &str) -> Result<Vec<Vec<u8>>, String> {
    // A socket the server left with an unprocessed edge shows up as no reply here.
    if s.poll(zmq::POLLIN, 10_000).map_err(|e| e.to_string())? == 0 {
        return Err(format!("{what}: no reply for 10 s: stall"));
    }
    s.recv_multipart(0).map_err(|e| e.to_string())
}

/// `n` round trips, one at a time, cycling through the channels; each is answered on the next
/// channel.
fn hop_client(port: u16, n: u32) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let socks: Vec<zmq::Socket> = (0..3).map(|i| dealer(&ctx, &[9u8; 16], port + i)).collect();
    // An echo on each channel first: the server knows every route before replies cross over.
    for (i, s) in socks.iter().enumerate() {
        s.send_multipart([b"seq".to_vec(), vec![0; 4]], 0).unwrap();
        recv_within(s, &format!("echo on channel {i}"))?;
    }
    for k in 0..n {
        let i = (k % 3) as usize;
        let body = k.to_le_bytes().to_vec();
        socks[i]
            .send_multipart([b"hop".to_vec(), body.clone()], 0)
            .unwrap();
        let m = recv_within(&socks[(i + 1) % 3], &format!("hop {k}"))?;
        if m != [b"hop".to_vec(), body] {
            return Err(format!("hop {k}: wrong reply {m:?}"));
        }
    }
    Ok(())
}

#[test]
fn selective_pumps_never_stall() {
    let port = 26580;
    let core = Hop {
        out: VecDeque::new(),
    };
    let server = Server::start(port, 1_000_000, core, no_journal(), true);
    let hop = std::thread::spawn(move || hop_client(port, 3_000));
    let floods: Vec<_> = (1..=2u8)
        .map(|c| std::thread::spawn(move || echo_client(port, 10_000, c, 200)))
        .collect();
    let hop = hop.join().unwrap();
    let floods: Vec<_> = floods.into_iter().map(|c| c.join().unwrap()).collect();
    let stats = server.stop();
    hop.expect("hop client");
    for r in floods {
        r.expect("flood client");
    }
    eprintln!("wakeups {} stalls {}", stats.wakeups, stats.stalls);
    assert_eq!(
        stats.stalls, 0,
        "a wake-up by timeout found messages a missed edge had hid"
    );
}

/// Requests `[kind, seq]` on the command channel: `plain` is echoed; `before` queues its reply
/// and then journals a change; `after` journals a change and then queues its reply.
struct Journaled {
    out: VecDeque<Action>,
}

impl Core for Journaled {
    fn handle_frame(&mut self, _: Millis, channel: Channel, from: &Identity, frames: Vec<Frame>) {
        let kind = frames.first().map(|f| f.to_vec()).unwrap_or_default();
        let seq = frames.get(1).map(|f| f.to_vec()).unwrap_or_default();
        let change = Change::NodeDeleted {
            uuid: String::from_utf8_lossy(&seq).into_owned(),
        };
        let send = Action::Send {
            channel,
            to: from.clone(),
            frames: frames.into(),
        };
        match &kind[..] {
            b"before" => {
                self.out.push_back(send);
                self.out.push_back(Action::Persist(change));
            }
            b"after" => {
                self.out.push_back(Action::Persist(change));
                self.out.push_back(send);
            }
            _ => self.out.push_back(send),
        }
    }
    fn handle_tick(&mut self, _: Millis) {}
    fn handle_send_failure(&mut self, _: Millis, _: Channel, _: &Identity, f: SendFailure) {
        panic!("peer failed: {f:?}");
    }
    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }
    fn next_deadline(&self) -> Option<Millis> {
        None
    }
}

/// A journal whose flush takes 2 ms and then publishes the highest request number recorded.
struct SlowJournal {
    flushed: Arc<AtomicU32>,
    recorded: u32,
}

impl Journal for SlowJournal {
    fn record(&mut self, change: &Change) {
        match change {
            Change::NodeDeleted { uuid } => {
                self.recorded = self.recorded.max(uuid.parse().unwrap());
            }
            other => panic!("unexpected change {other:?}"),
        }
    }
    fn record_scene(&mut self, _: &SceneRecord) {
        panic!("unexpected scene");
    }
    fn record_sender(&mut self, _: Option<&str>) {}
    fn flush(&mut self) {
        std::thread::sleep(Duration::from_millis(2));
        self.flushed.fetch_max(self.recorded, Ordering::SeqCst);
    }
}

#[test]
fn journaled_replies_wait_for_their_flush_and_keep_their_order() {
    let port = 26583;
    // Highest request number whose change has been flushed; flushing takes 2 ms, so a reply
    // sent before its flush reaches the client while the flush is still running.
    let flushed = Arc::new(AtomicU32::new(0));
    let persist: Persist = Box::new(SlowJournal {
        flushed: flushed.clone(),
        recorded: 0,
    });
    let core = Journaled {
        out: VecDeque::new(),
    };
    let server = Server::start(port, 1_000_000, core, persist, true);
    let ctx = zmq::Context::new();
    let s = dealer(&ctx, &[7u8; 16], port);
    let kinds: [&[u8]; 4] = [b"plain", b"before", b"plain", b"after"];
    let mut next = 1u32;
    for burst in 0..40 {
        // A burst lands in one receive batch: journaled and plain requests mixed.
        let n = 1 + burst % 9;
        let first = next;
        for _ in 0..n {
            let kind = kinds[(next as usize + burst as usize) % 4];
            s.send_multipart([kind.to_vec(), next.to_string().into_bytes()], 0)
                .unwrap();
            next += 1;
        }
        for want in first..next {
            let m = recv_within(&s, &format!("request {want}")).unwrap();
            let seq: u32 = String::from_utf8_lossy(&m[1]).parse().unwrap();
            assert_eq!(seq, want, "replies out of request order");
            if m[0] != b"plain" {
                let done = flushed.load(Ordering::SeqCst);
                assert!(
                    done >= seq,
                    "reply to journaled request {seq} arrived before its flush (flushed {done})"
                );
            }
        }
    }
    server.stop();
}
