//! The journal's writer and reader against each other: order, sequence numbers, pre-encoded
//! records, torn tails, failed appends.

use super::*;
use crate::session::io::SessionState;
use crate::store::testutil::tempdir;
use std::sync::Arc;

fn stored(i: u8) -> Change {
    Change::NodeStored {
        uuid: format!("n{i}"),
        owner: "COMMON".into(),
        deps: Arc::from(&b"\x80\x04N."[..]),
        data: Arc::from(vec![i; 100]),
    }
}

#[test]
fn appends_read_back_in_order_with_sequence_numbers() {
    let d = tempdir("journal-rt");
    let mut w = JournalWriter::create(&d, 5, 100).unwrap();
    w.append(&Change::State(SessionState::Active)).unwrap();
    for i in 0..10 {
        w.append(&stored(i)).unwrap();
    }
    w.sync().unwrap();
    let r = read(w.path()).unwrap();
    assert_eq!((r.generation, r.first_seq), (5, 100));
    assert_eq!(r.entries.len(), 11);
    assert!(r
        .entries
        .iter()
        .enumerate()
        .all(|(i, (s, _))| *s == 100 + i as u64));
    assert!(r.damage.is_none());
    assert_eq!(r.good_len, w.len());
    assert_eq!(r.file_len, w.len());
}

#[test]
fn a_pre_encoded_change_is_the_record_push_writes() {
    let d = tempdir("journal-encoded");
    let mut a = JournalWriter::create(&d, 1, 300).unwrap();
    let mut b = JournalWriter::create(&d, 2, 300).unwrap();
    for i in 0..3 {
        let c = stored(i);
        a.push(&c).unwrap();
        let mut payload = Vec::new();
        format::encode(&ChangeRec::from_change(&c), &mut payload).unwrap();
        b.reserve(payload.len());
        b.push_encoded(&payload).unwrap();
    }
    assert_eq!(a.pending, b.pending);
    b.flush_pending().unwrap();
    let r = read(b.path()).unwrap();
    assert_eq!(r.entries.len(), 3);
    assert_eq!(r.entries[2].0, 302);
}

#[test]
fn a_torn_tail_keeps_every_whole_record() {
    let d = tempdir("journal-torn");
    let mut w = JournalWriter::create(&d, 1, 1).unwrap();
    let mut ends = vec![w.len()];
    for i in 0..4 {
        w.append(&stored(i)).unwrap();
        ends.push(w.len());
    }
    let full = fs::read(w.path()).unwrap();
    let path = w.path().to_path_buf();
    drop(w);
    // Cut the file at every byte inside the last record.
    for cut in ends[3] + 1..ends[4] {
        fs::write(&path, &full[..cut as usize]).unwrap();
        let r = read(&path).unwrap();
        assert_eq!(r.entries.len(), 3, "cut {cut}");
        assert_eq!(r.good_len, ends[3]);
        assert!(matches!(r.damage, Some(Damage::Truncated { .. })));
        truncate(&path, r.good_len).unwrap();
        let again = read(&path).unwrap();
        assert_eq!(again.entries.len(), 3);
        assert!(again.damage.is_none());
    }
}

#[test]
fn a_failed_append_leaves_no_partial_record() {
    let d = tempdir("journal-fail");
    let mut w = JournalWriter::create(&d, 1, 1).unwrap();
    w.append(&stored(1)).unwrap();
    let before = w.len();
    // Make writes fail: swap the file for a read-only handle to the same path.
    w.file = File::open(w.path()).unwrap();
    assert!(w.append(&stored(2)).is_err());
    assert_eq!(w.len(), before);
    assert_eq!(
        w.next_seq(),
        3,
        "the failed record consumed its sequence number"
    );
    let r = read(w.path()).unwrap();
    assert_eq!(r.entries.len(), 1);
}
