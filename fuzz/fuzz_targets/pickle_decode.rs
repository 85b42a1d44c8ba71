//! Fuzzes the pickle decoder, the plain-data validator, the object parser and the message
//! policy the server runs (`Message::check`, made of the session's own `objects::check_node_data`,
//! `command_data`, `node_frames`, `read_deps` and `Delta::from_bytes`): no input may panic, the
//! fast validator must agree with `decode` + `check_plain`, and whatever decodes must survive an
//! encode/decode round trip unchanged (byte-equal re-encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mu_serverd::objects;
use mu_serverd::pickle::{self, canonical, Limits};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_input: 1 << 20,
        max_items: 1 << 16,
        ..Limits::default()
    };
    let decoded = pickle::decode(data, &limits);
    let slow = decoded
        .as_ref()
        .map_err(|_| ())
        .and_then(|v| pickle::check_plain(v).map_err(|_| ()));
    let fast = pickle::check_plain_bytes(data, &limits);
    assert_eq!(
        slow.is_ok(),
        fast.is_ok(),
        "validator disagrees with decode+check_plain: {fast:?}"
    );
    if let Ok(v) = &decoded {
        let _ = pickle::check_delta(v);
        // Byte-equal re-encoding: same values and the same sharing (linear, unlike a deep
        // comparison of a graph with aliasing).
        let first = pickle::encode(v);
        let again = pickle::decode(
            &first,
            &Limits {
                max_items: 1 << 24,
                ..limits
            },
        )
        .expect("own encoding decodes");
        assert_eq!(pickle::encode(&again), first);
        let _ = canonical::builtin_reductions(v);
    }
    // The same bytes as a multipart message: split at every 0xff byte.
    let frames: Vec<objects::Frame> = data.split(|&b| b == 0xff).map(Arc::from).collect();
    if let Ok(m) = objects::parse(&frames) {
        let _ = m.check(&limits);
    }
});
