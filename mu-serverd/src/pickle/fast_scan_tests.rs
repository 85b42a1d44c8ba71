//! Unit tests of the validator's shortcut ([`super`]): what it accepts, that it never accepts
//! what the full interpreter refuses, and that it gives up ("not sure") on what it does not
//! model. In their own file so `fast_scan.rs` reads as the shortcut alone.

use super::*;

fn lim() -> Limits {
    Limits::default()
}

thread_local! {
    static BUFS: std::cell::RefCell<Buffers> = Default::default();
}

/// The shortcut with one set of buffers reused across every call of a test, as the relay
/// reuses them.
fn surely_plain(input: &[u8], limits: &Limits) -> bool {
    BUFS.with(|b| super::surely_plain(input, limits, &mut b.borrow_mut()))
}

/// What CPython's pickler writes for plain values takes the shortcut (otherwise it would
/// silently never be used); anything it does not model goes to the interpreter.
#[test]
fn takes_cpythons_plain_output_and_nothing_it_does_not_model() {
    // {'a': [1.5, 'x'], 'b': (1, None, True), 'c': b'zz', 'd': {}} by CPython 3.11, protocol 4
    let plain = b"\x80\x04\x953\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(G?\xf8\x00\x00\x00\x00\x00\x00\x8c\x01x\x94e\x8c\x01b\x94K\x01N\x88\x87\x94\x8c\x01c\x94C\x02zz\x94\x8c\x01d\x94}\x94u.";
    assert!(surely_plain(plain, &lim()));
    assert!(super::super::check_plain_bytes(plain, &lim()).is_ok());
    // The same list twice (a memo GET): not modelled.
    let shared = b"\x80\x04]\x94(]\x94h\x01e.";
    assert!(!surely_plain(shared, &lim()));
    // os.system: not modelled (and refused by the interpreter).
    let call = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x07echo hi\x85R.";
    assert!(!surely_plain(call, &lim()));
    // A list as a dict key, odd SETITEMS, APPENDS on a dict, truncation: not sure.
    assert!(!surely_plain(b"\x80\x04}(]K\x01u.", &lim()));
    assert!(!surely_plain(b"\x80\x04}(K\x01u.", &lim()));
    assert!(!surely_plain(b"\x80\x04}(K\x01e.", &lim()));
    for cut in 0..plain.len() - 1 {
        assert!(!surely_plain(&plain[..cut], &lim()), "cut at {cut}");
    }
    // Depth: max_depth nested lists are fine, one more is not sure.
    let max = lim().max_depth as usize;
    let mut deep = b"\x80\x04".to_vec();
    deep.extend(std::iter::repeat_n(b']', max));
    deep.extend(std::iter::repeat_n(b'a', max - 1));
    deep.push(b'.');
    assert!(surely_plain(&deep, &lim()));
    let mut deeper = b"\x80\x04".to_vec();
    deeper.extend(std::iter::repeat_n(b']', max + 1));
    deeper.extend(std::iter::repeat_n(b'a', max));
    deeper.push(b'.');
    assert!(!surely_plain(&deeper, &lim()));
}

const SEED2: &[u8] = b"\x80\x04\x95\x23\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x28\x5d\x94\x28\x4b\x01\x4b\x02\x65\x4b\x03\x8c\x02\xc3\xa9\x94\x86\x94\x7d\x94\x8c\x01\x6b\x94\x5d\x94\x28\x4e\x89\x65\x73\x65\x2e";
const SEED3: &[u8] = b"\x80\x04\x95\x16\x00\x00\x00\x00\x00\x00\x00\x47\x3f\xf0\x00\x00\x00\x00\x00\x00\x43\x01\x78\x94\x8c\x01\x74\x94\x85\x94\x87\x94\x2e";
const SEED4: &[u8] = b"\x80\x04\x95\xef\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x04\x6e\x61\x6d\x65\x94\x8c\x0a\x43\x75\x62\x65\x2e\x30\x30\x30\x30\x31\x94\x8c\x07\x74\x79\x70\x65\x5f\x69\x64\x94\x8c\x10\x62\x70\x79\x2e\x74\x79\x70\x65\x73\x2e\x4f\x62\x6a\x65\x63\x74\x94\x8c\x08\x6c\x6f\x63\x61\x74\x69\x6f\x6e\x94\x5d\x94\x28\x47\x00\x00\x00\x00\x00\x00\x00\x00\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x47\xc0\x02\x00\x00\x00\x00\x00\x00\x65\x8c\x0c\x6d\x61\x74\x72\x69\x78\x5f\x77\x6f\x72\x6c\x64\x94\x5d\x94\x28\x5d\x94\x28\x47\x3f\xf0\x00\x00\x00\x00\x00\x00\x47\x00\x00\x00\x00\x00\x00\x00\x00\x65\x5d\x94\x28\x47\x00\x00\x00\x00\x00\x00\x00\x00\x47\x3f\xf0\x00\x00\x00\x00\x00\x00\x65\x65\x8c\x0d\x68\x69\x64\x65\x5f\x76\x69\x65\x77\x70\x6f\x72\x74\x94\x89\x8c\x0a\x70\x61\x72\x65\x6e\x74\x5f\x75\x69\x64\x94\x4e\x8c\x09\x6d\x6f\x64\x69\x66\x69\x65\x72\x73\x94\x7d\x94\x8c\x0d\x76\x65\x72\x74\x65\x78\x5f\x67\x72\x6f\x75\x70\x73\x94\x5d\x94\x8c\x01\x6e\x94\x4b\x07\x8c\x03\x62\x69\x67\x94\x4a\x70\x11\x01\x00\x75\x2e";

/// `[i / 3 for i in range(12)] + list(range(250, 262)) + [70000, 70001]`: runs of BINFLOAT,
/// BININT1, BININT2 and BININT in one MARK ... APPENDS batch.
const SEED5: &[u8] = b"\x80\x04\x95\x99\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x28\x47\x00\x00\x00\x00\x00\x00\x00\x00\x47\x3f\xd5\x55\x55\x55\x55\x55\x55\x47\x3f\xe5\x55\x55\x55\x55\x55\x55\x47\x3f\xf0\x00\x00\x00\x00\x00\x00\x47\x3f\xf5\x55\x55\x55\x55\x55\x55\x47\x3f\xfa\xaa\xaa\xaa\xaa\xaa\xab\x47\x40\x00\x00\x00\x00\x00\x00\x00\x47\x40\x02\xaa\xaa\xaa\xaa\xaa\xab\x47\x40\x05\x55\x55\x55\x55\x55\x55\x47\x40\x08\x00\x00\x00\x00\x00\x00\x47\x40\x0a\xaa\xaa\xaa\xaa\xaa\xab\x47\x40\x0d\x55\x55\x55\x55\x55\x55\x4b\xfa\x4b\xfb\x4b\xfc\x4b\xfd\x4b\xfe\x4b\xff\x4d\x00\x01\x4d\x01\x01\x4d\x02\x01\x4d\x03\x01\x4d\x04\x01\x4d\x05\x01\x4a\x70\x11\x01\x00\x4a\x71\x11\x01\x00\x65\x2e";

/// The interpreter's verdict, without the shortcut.
fn interpreter_says_plain(b: &[u8], limits: &Limits) -> bool {
    let mut bufs = super::super::scan::ScanBuffers::default();
    let sink = super::super::scan::ScanSink::new(b, limits.max_depth, &mut bufs);
    matches!(super::super::vm::run(b, limits, sink), Ok(None))
}

/// Runs of numbers are read in one go and still counted item by item against the limits.
#[test]
fn number_runs_are_plain_and_count_against_max_items() {
    assert!(surely_plain(SEED5, &lim()));
    assert!(interpreter_says_plain(SEED5, &lim()));
    // 1 list + 26 numbers = 27 items, plus the opcodes that push nothing (PROTO, FRAME,
    // MEMOIZE, MARK, APPENDS, STOP): enough at 40, not at 20.
    let enough = Limits {
        max_items: 40,
        ..Limits::default()
    };
    let short = Limits {
        max_items: 20,
        ..Limits::default()
    };
    assert!(surely_plain(SEED5, &enough));
    assert!(!surely_plain(SEED5, &short));
    // A float cut short inside a run is not plain.
    let cut = SEED5.iter().position(|&b| b == BININT1).unwrap_or(0) - 3;
    let mut b = SEED5[..cut].to_vec();
    b.extend_from_slice(b"e.");
    assert!(!surely_plain(&b, &lim()));
}

/// One-sided equivalence on 60,000 mutations (byte replaced, inserted, deleted, truncated)
/// of CPython-made pickles, with default and with tight limits: whatever the shortcut
/// accepts, the interpreter accepts.
#[test]
fn accepts_only_what_the_interpreter_accepts() {
    // pickle.dumps(..., protocol=4) by CPython 3.11 of: the dict above; [[1, 2], (3, 'é'),
    // {'k': [None, False]}]; (1.0, b'x', ('t',)); a 1 KiB-like object dict; number runs.
    let seeds: [&[u8]; 5] = [
        b"\x80\x04\x953\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(G?\xf8\x00\x00\x00\x00\x00\x00\x8c\x01x\x94e\x8c\x01b\x94K\x01N\x88\x87\x94\x8c\x01c\x94C\x02zz\x94\x8c\x01d\x94}\x94u.",
        SEED2,
        SEED3,
        SEED4,
        SEED5,
    ];
    let tight = Limits {
        max_depth: 3,
        max_items: 24,
        max_memo: 6,
        ..Limits::default()
    };
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n.max(1) as u64) as usize
    };
    let mut accepted = 0;
    for round in 0..60_000 {
        let seed = seeds[round % seeds.len()];
        let mut b = seed.to_vec();
        for _ in 0..1 + rnd(3) {
            let at = rnd(b.len());
            match rnd(4) {
                0 => b[at] = rnd(256) as u8,
                1 => b.insert(at, rnd(256) as u8),
                2 if b.len() > 1 => {
                    b.remove(at);
                }
                _ => b.truncate(at),
            }
            if b.is_empty() {
                b.push(b'.');
            }
        }
        for limits in [lim(), tight] {
            if surely_plain(&b, &limits) {
                accepted += 1;
                assert!(
                    interpreter_says_plain(&b, &limits),
                    "shortcut accepted what the interpreter does not: {b:02x?}"
                );
            }
        }
    }
    // The mutations must also reach the accepting side, or this test proves nothing.
    assert!(accepted > 1_000, "only {accepted} mutations accepted");
}
