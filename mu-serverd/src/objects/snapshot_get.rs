//! The one command a join sends per node: `Snapshot {'STATE': 'GET', 'ID': uuid}`
//! (`interface.py` `get_snapshot`). A client joining a 10,000-node scene sends 10,000 of them,
//! one per round trip, so the server's share of each round trip is what the join costs. This
//! reads the exact bytes CPython's protocol-4 pickler writes for that dict without the general
//! decoder (callgrind: ~9,000 instructions per GET there). Anything else, and anything a limit
//! or an error could apply to, is `None`: the general decoder then decides, so the value is
//! always the one `pickle::decode` gives. It sits next to [`super::snapshot`], the writer of
//! the SET that answers it.

use super::deps::protocol4_body;
use crate::pickle::opcodes::{MEMOIZE, SETITEMS, SHORT_BINUNICODE, STOP};
use crate::pickle::{Limits, Value};

/// After `PROTO 4 [FRAME n]` ([`protocol4_body`]): `EMPTY_DICT MEMOIZE MARK 'STATE' MEMOIZE 'GET' MEMOIZE 'ID' MEMOIZE`
/// and the opcode of the id string.
const HEAD: &[u8] = b"}\x94(\x8c\x05STATE\x94\x8c\x03GET\x94\x8c\x02ID\x94";

/// What the pickle creates: the dict and four strings; five memo entries; depth 1.
const ITEMS: usize = 5;

/// The decoded GET, or `None` when these are not exactly the bytes described above.
pub fn read_snapshot_get(bytes: &[u8], limits: &Limits) -> Option<Value> {
    if bytes.len() > limits.max_input
        || limits.max_depth < 1
        || limits.max_items < ITEMS
        || limits.max_memo < ITEMS
    {
        return None;
    }
    let rest = protocol4_body(bytes)?
        .strip_prefix(HEAD)?
        .strip_prefix(&[SHORT_BINUNICODE])?;
    let (&n, rest) = rest.split_first()?;
    let (id, tail) = rest.split_at_checked(usize::from(n))?;
    if tail != [MEMOIZE, SETITEMS, STOP] {
        return None;
    }
    // Text the general decoder accepts but `str` cannot hold (surrogates) goes there.
    let id = std::str::from_utf8(id).ok()?;
    Some(Value::dict(vec![
        (Value::str("STATE"), Value::str("GET")),
        (Value::str("ID"), Value::str(id)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::super::tests::unhex;
    use super::*;
    use crate::pickle;

    /// `pickle.dumps({'STATE': 'GET', 'ID': id}, protocol=P).hex()` from CPython 3.11 for, in
    /// order: a uuid (P=4), `''`, `'né'`, the protocol-5 form of `'ab'`, and the keys in the
    /// other order (`{'ID': 'ab', 'STATE': 'GET'}`, P=4).
    const CPYTHON: [&str; 5] = [
        "8004953f000000000000007d94288c055354415445948c03474554948c024944948c2436663163306236652d336434632d346235652d396137662d30633264346536663861396294752e",
        "8004951b000000000000007d94288c055354415445948c03474554948c024944948c0094752e",
        "8004951e000000000000007d94288c055354415445948c03474554948c024944948c036ec3a994752e",
        "8005951d000000000000007d94288c055354415445948c03474554948c024944948c02616294752e",
        "8004951d000000000000007d94288c024944948c026162948c055354415445948c0347455494752e",
    ];

    /// Whenever the fast path answers, the general decoder (and the plain-data check) gives
    /// the same answer.
    fn agrees(b: &[u8], limits: &Limits) -> bool {
        match read_snapshot_get(b, limits) {
            Some(fast) => {
                let slow = pickle::decode(b, limits);
                let same = slow.as_ref().is_ok_and(|s| s.strict_eq(&fast));
                assert!(same, "{b:02x?}: fast {fast:?}, decoder {slow:?}");
                assert!(pickle::check_plain(&fast).is_ok());
                true
            }
            None => false,
        }
    }

    #[test]
    fn cpython_gets_are_read_and_agree_with_the_decoder() {
        let lim = Limits::default();
        let taken: Vec<bool> = CPYTHON.iter().map(|h| agrees(&unhex(h), &lim)).collect();
        // Protocol 5 has the same body; other key orders go to the decoder.
        assert_eq!(taken, [true, true, true, false, false]);
        let v = read_snapshot_get(&unhex(CPYTHON[2]), &lim);
        assert_eq!(
            v.as_ref()
                .and_then(|v| v.get_str_key("ID"))
                .and_then(Value::as_str),
            Some("né")
        );
    }

    #[test]
    fn the_protocol_5_form_goes_to_the_decoder() {
        // P=5 differs only in the PROTO byte, which the fast path reads as 4: not taken, and
        // the decoder reads it. This pins that choice (real clients pickle with protocol 4).
        let b = unhex(CPYTHON[3]);
        assert!(read_snapshot_get(&b, &Limits::default()).is_none());
        assert!(pickle::decode(&b, &Limits::default()).is_ok());
    }

    #[test]
    fn every_one_byte_change_and_truncation_agrees_with_the_decoder() {
        let lim = Limits::default();
        let good = unhex(CPYTHON[0]);
        let mut taken = 0;
        for i in 0..good.len() {
            for b in 0..=255u8 {
                let mut m = good.clone();
                m[i] = b;
                taken += usize::from(agrees(&m, &lim));
            }
            taken += usize::from(agrees(&good[..i], &lim));
        }
        // The original at every position, plus the id's bytes changed to other valid text and
        // frame lengths that are still honest.
        assert!(taken > good.len(), "{taken}");
    }

    #[test]
    fn tight_limits_leave_it_to_the_decoder() {
        let b = unhex(CPYTHON[0]);
        let tight = [
            Limits {
                max_items: ITEMS - 1,
                ..Limits::default()
            },
            Limits {
                max_memo: ITEMS - 1,
                ..Limits::default()
            },
            Limits {
                max_depth: 0,
                ..Limits::default()
            },
            Limits {
                max_input: b.len() - 1,
                ..Limits::default()
            },
        ];
        for lim in tight {
            assert!(read_snapshot_get(&b, &lim).is_none(), "{lim:?}");
        }
    }
}
