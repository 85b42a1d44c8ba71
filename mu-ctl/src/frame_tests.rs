//! Framing edge cases: partial reads, truncation, oversized and trailing bytes.

use super::*;
use crate::proto::Request;

#[test]
fn frame_layout_is_big_endian_length_then_body() {
    let f = encode(&Request::Hello { version: 1 }).expect("encode");
    assert_eq!(f, [0, 0, 0, 2, 0, 1]);
}

#[test]
fn decoder_handles_one_byte_at_a_time_and_back_to_back_frames() {
    let mut stream = encode(&Request::Users).expect("encode");
    stream.extend(
        encode(&Request::Kick {
            user: "bob".into(),
            reason: None,
        })
        .expect("encode"),
    );
    let mut dec = Decoder::new();
    let mut got = Vec::new();
    for b in &stream {
        dec.push(&[*b]).expect("push");
        while let Some(m) = dec.next_message::<Request>().expect("decode") {
            got.push(m);
        }
    }
    assert_eq!(
        got,
        [
            Request::Users,
            Request::Kick {
                user: "bob".into(),
                reason: None
            }
        ]
    );
    assert!(dec.finish().is_ok());
}

#[test]
fn oversized_length_is_refused_from_the_header_alone() {
    let mut dec = Decoder::new();
    // Only the 4 header bytes: the error comes before any body byte is buffered.
    match dec.push(&u32::MAX.to_be_bytes()) {
        Err(FrameError::TooLarge { len, max }) => {
            assert_eq!(len, u32::MAX as u64);
            assert_eq!(max, MAX_FRAME);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let limit_plus_one = (MAX_FRAME + 1).to_be_bytes();
    assert!(matches!(
        read_frame::<Request, _>(&mut &limit_plus_one[..]),
        Err(FrameError::TooLarge { .. })
    ));
    // Exactly the limit is allowed by the header check (the body then decides).
    let mut dec = Decoder::new();
    assert!(dec.push(&MAX_FRAME.to_be_bytes()).is_ok());
}

#[test]
fn encoding_a_message_over_the_limit_fails() {
    let huge = Request::Export {
        path: "x".repeat(MAX_FRAME as usize + 1),
    };
    assert!(matches!(encode(&huge), Err(FrameError::TooLarge { .. })));
}

#[test]
fn truncated_frames_are_reported_with_sizes() {
    let f = encode(&Request::Kick {
        user: "alice".into(),
        reason: None,
    })
    .expect("encode");
    let cut = &f[..f.len() - 2];
    match read_frame::<Request, _>(&mut &cut[..]) {
        Err(FrameError::Truncated { have, want }) => {
            assert_eq!((have, want), (f.len() - 2, f.len()));
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    let mut dec = Decoder::new();
    dec.push(cut).expect("push");
    assert!(dec
        .next_message::<Request>()
        .expect("no error yet")
        .is_none());
    assert!(matches!(dec.finish(), Err(FrameError::Truncated { .. })));
    // A cut inside the header.
    assert!(matches!(
        read_frame::<Request, _>(&mut &f[..2]),
        Err(FrameError::Truncated { have: 2, want: 4 })
    ));
    // Nothing at all is a clean end of stream.
    assert!(matches!(read_frame::<Request, _>(&mut &[][..]), Ok(None)));
}

#[test]
fn trailing_bytes_and_garbage_are_errors() {
    // Users (0x01) followed by one stray byte inside the frame.
    let f = [0u8, 0, 0, 2, 1, 0xff];
    assert!(matches!(
        read_frame::<Request, _>(&mut &f[..]),
        Err(FrameError::TrailingBytes { extra: 1 })
    ));
    // Kick announcing a 200-byte name in a 3-byte body.
    let g = [0u8, 0, 0, 3, 2, 200, 1];
    assert!(matches!(
        read_frame::<Request, _>(&mut &g[..]),
        Err(FrameError::Decode(_))
    ));
    let mut dec = Decoder::new();
    dec.push(&g).expect("push");
    assert!(dec.next_message::<Request>().is_err());
    assert_eq!(
        dec.buffered(),
        0,
        "a bad frame is consumed, not retried forever"
    );
}

#[test]
fn replies_have_their_own_larger_cap() {
    // A 2 MiB body: too large for a request, fine for a reply.
    let big = crate::proto::Reply::Done {
        message: "x".repeat(2 << 20),
    };
    assert!(matches!(encode(&big), Err(FrameError::TooLarge { .. })));
    let f = encode_max(&big, MAX_REPLY).expect("reply-sized");
    assert!(matches!(
        read_frame::<crate::proto::Reply, _>(&mut &f[..]),
        Err(FrameError::TooLarge { .. })
    ));
    let got = read_frame_max::<crate::proto::Reply, _>(&mut &f[..], MAX_REPLY).expect("read");
    assert_eq!(got, Some(big));
    let mut dec = Decoder::with_max(MAX_REPLY);
    assert!(dec.push(&(MAX_REPLY + 1).to_be_bytes()).is_err());
}
