//! Measurement, not a test (ignored by default): what the by-reference send path
//! (`zmq_msg_init_data` holding an `Arc`) saves over the copying path when one frame goes to
//! K peers over loopback TCP. Run:
//! `cargo test --release -p mu-serverd --test shell_zerocopy_bench -- --ignored --nocapture`
//! Ports 22400-22499.

use mu_serverd::session::io::Frame;
use mu_serverd::shell::zmsg;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PEERS: usize = 8;

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `zmq::Socket::send(&[u8])`: the crate's copying path.
    Crate,
    /// `zmq_msg_init_size` + memcpy.
    Copy,
    /// `zmq_msg_init_data` holding an `Arc` reference.
    ByRef,
}

fn run(port: u16, size: usize, count: usize, mode: Mode) -> Duration {
    let ctx = zmq::Context::new();
    let mut router = ctx.socket(zmq::ROUTER).unwrap();
    router.set_router_mandatory(true).unwrap();
    router.set_linger(0).unwrap();
    router.set_sndhwm(0).unwrap();
    router.bind(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let readers: Vec<_> = (0..PEERS)
        .map(|k| {
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                let s = ctx.socket(zmq::DEALER).unwrap();
                s.set_identity(&[k as u8 + 1; 4]).unwrap();
                s.set_rcvhwm(0).unwrap();
                s.set_linger(0).unwrap();
                s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
                s.send("hi", 0).unwrap();
                let mut m = zmq::Message::new();
                for _ in 0..count {
                    s.recv(&mut m, 0).unwrap();
                }
            })
        })
        .collect();
    for _ in 0..PEERS {
        router.recv_multipart(0).unwrap();
    }
    let frame: Frame = Arc::from(vec![7u8; size]);
    let ids: Vec<Frame> = (0..PEERS)
        .map(|k| Arc::from(vec![k as u8 + 1; 4]))
        .collect();
    let t0 = Instant::now();
    for _ in 0..count {
        for id in &ids {
            loop {
                let r = zmsg::send_frame(&mut router, id, true).and_then(|_| match mode {
                    Mode::Crate => zmsg::send_frame_copy(&router, &frame, false),
                    Mode::Copy => zmsg::send_frame_with(&mut router, &frame, false, false),
                    Mode::ByRef => zmsg::send_frame_with(&mut router, &frame, false, true),
                });
                match r {
                    Ok(()) => break,
                    Err(zmq::Error::EAGAIN) => std::thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }
    for r in readers {
        r.join().unwrap();
    }
    t0.elapsed()
}

const DEFAULT_SIZES: [(usize, usize); 6] = [
    (64, 20_000),
    (256, 20_000),
    (1024, 20_000),
    (4096, 10_000),
    (64 * 1024, 2_000),
    (1 << 20, 200),
];

#[test]
#[ignore]
fn zero_copy_vs_copy_fanout() {
    let mut port = 22400;
    let sizes: Vec<(usize, usize)> = match std::env::var("MU_BENCH_SIZES") {
        // e.g. MU_BENCH_SIZES=4096:10000,16384:5000
        Ok(v) => v
            .split(',')
            .filter_map(|p| p.split_once(':'))
            .filter_map(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .collect(),
        Err(_) => DEFAULT_SIZES.to_vec(),
    };
    for (size, count) in sizes {
        for mode in [Mode::Crate, Mode::Copy, Mode::ByRef] {
            let mut times = Vec::new();
            for _ in 0..3 {
                times.push(run(port, size, count, mode));
                port += 1;
            }
            times.sort();
            let t = times[1];
            let msgs = (count * PEERS) as f64;
            eprintln!(
                "size {size:>8} B x {PEERS} peers, {:<6}: median {:>8.1} ms, {:>9.0} msg/s, {:>7.1} MB/s delivered",
                format!("{mode:?}"),
                t.as_secs_f64() * 1e3,
                msgs / t.as_secs_f64(),
                msgs * size as f64 / t.as_secs_f64() / 1e6
            );
        }
    }
}
