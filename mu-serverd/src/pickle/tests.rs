//! Unit tests of the codec on hand-written pickles (the differential tests against live
//! CPython are in `mu-serverd/tests/pickle_*.rs`).

use super::*;
use std::sync::Arc;

fn lim() -> Limits {
    Limits::default()
}

fn kind_of(bytes: &[u8]) -> DecodeErrorKind {
    match decode(bytes, &lim()) {
        Err(e) => e.kind,
        Ok(v) => panic!("expected an error, decoded {v:?}"),
    }
}

#[test]
fn decodes_protocol_4_container_and_memo_sharing() {
    // pickle.dumps({'al': a, 'al2': a}, 4) with a = [1.5]
    let b = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x02al\x94]\x94G?\xf8\x00\x00\x00\x00\x00\x00a\x8c\x03al2\x94h\x02u.";
    let v = decode(b, &lim()).unwrap();
    let Value::Dict(d) = &v else { panic!("{v:?}") };
    assert_eq!(d.len(), 2);
    match (&d[0].1, &d[1].1) {
        (Value::List(a), Value::List(b)) => assert!(Arc::ptr_eq(a, b)),
        other => panic!("{other:?}"),
    }
    assert!(check_plain(&v).is_ok());
    assert!(check_plain_bytes(b, &lim()).is_ok());
}

#[test]
fn protocol_0_text_opcodes() {
    let b = b"(dp0\nVa\np1\n(lp2\nI1\naF2.5\naNaI01\naL1180591620717411303424L\naI-5\nasVu\np25\nV\\udcff\xe9\\U0001f600\np26\nsVal\np3\ng2\ns.";
    let v = decode(b, &lim()).unwrap();
    let Value::Dict(d) = &v else { panic!("{v:?}") };
    let Value::List(l) = &d[0].1 else { panic!() };
    assert!(l[0].strict_eq(&Value::Int(1)));
    assert!(l[1].strict_eq(&Value::Float(2.5)));
    assert!(l[3].strict_eq(&Value::Bool(true)));
    let mut two70 = vec![0u8; 8];
    two70.push(0x40);
    assert!(l[4].strict_eq(&Value::BigInt(BigInt(Arc::from(two70)))));
    assert!(l[5].strict_eq(&Value::Int(-5)));
    let Value::Str(s) = &d[1].1 else { panic!() };
    assert_eq!(
        s.as_bytes(),
        "\u{e9}\u{1F600}"
            .as_bytes()
            .iter()
            .fold(b"\xed\xb3\xbf".to_vec(), |mut a, b| {
                a.push(*b);
                a
            })
    );
    match (&d[0].1, &d[2].1) {
        (Value::List(a), Value::List(b)) => assert!(Arc::ptr_eq(a, b)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn protocol_2_bytes_and_sets_are_inert_calls_until_canonicalised() {
    // pickle.dumps([b'xy', {1, 2}], 2)
    assert_eq!(
        kind_of(b"\x80\x02\xff."),
        DecodeErrorKind::UnknownOpcode(0xff)
    );
    let b = b"\x80\x02]q\x00(c_codecs\nencode\nq\x01X\x02\x00\x00\x00xyq\x02X\x06\x00\x00\x00latin1q\x03\x86q\x04Rq\x05c__builtin__\nset\nq\x06]q\x07(K\x01K\x02e\x85q\x08Rq\te.";
    let v = decode(b, &lim()).unwrap();
    assert!(check_plain(&v).is_err());
    assert!(check_plain_bytes(b, &lim()).is_err());
    let c = canonical::builtin_reductions(&v);
    let expected = Value::list(vec![
        Value::bytes(b"xy"),
        Value::Set(Arc::new(vec![Value::Int(1), Value::Int(2)])),
    ]);
    assert!(c.strict_eq(&expected), "{c:?}");
}

#[test]
fn encode_round_trips_and_keeps_sharing() {
    let shared = Value::list(vec![Value::Float(-0.0), Value::Float(f64::NAN)]);
    let big: Vec<Value> = (0..2500).map(Value::Int).collect();
    let v = Value::dict(vec![
        (Value::str("a"), shared.clone()),
        (Value::str("b"), shared.clone()),
        (
            Value::tuple(vec![Value::Int(1), Value::str("k")]),
            Value::list(big),
        ),
        (
            Value::Int(i64::MIN),
            Value::Set(Arc::new(vec![Value::bytes(b"x")])),
        ),
        (Value::str("g"), Value::global("builtins", "int")),
        (Value::str("ba"), Value::ByteArray(Arc::from(&b"z"[..]))),
    ]);
    let bytes = encode(&v);
    let back = decode(&bytes, &lim()).unwrap();
    // The bytearray comes back as the inert call `builtins.bytearray(b'z')`.
    assert!(!back.strict_eq(&v));
    let back = canonical::builtin_reductions(&back);
    assert!(back.strict_eq(&v));
    let Value::Dict(d) = &back else { panic!() };
    match (&d[0].1, &d[1].1) {
        (Value::List(a), Value::List(b)) => assert!(Arc::ptr_eq(a, b)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_nesting_is_refused() {
    // The 10-million-deep cases are in tests/pickle_hostile.rs.
    let n = 100_000;
    let mut t = vec![0x80, 4, b')'];
    t.resize(t.len() + n, 0x85); // TUPLE1
    t.push(b'.');
    assert_eq!(kind_of(&t), DecodeErrorKind::TooDeep { max: 256 });
    assert!(check_plain_bytes(&t, &lim()).is_err());
    let mut l = vec![0x80, 4];
    l.resize(l.len() + n, b']'); // EMPTY_LIST
    l.resize(l.len() + n - 1, b'a'); // APPEND
    l.push(b'.');
    assert_eq!(kind_of(&l), DecodeErrorKind::TooDeep { max: 256 });
}

#[test]
fn hostile_lengths_and_memo() {
    let mut b = vec![0x80, 4, 0x8e]; // BINBYTES8 2^63
    b.extend_from_slice(&(1u64 << 63).to_le_bytes());
    b.push(b'.');
    assert!(
        matches!(kind_of(&b), DecodeErrorKind::LengthExceedsInput { len, .. } if len == 1 << 63)
    );
    let mut f = vec![0x80, 4, 0x95];
    f.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        kind_of(&f),
        DecodeErrorKind::LengthExceedsInput { .. }
    ));
    assert_eq!(kind_of(b"\x80\x04h\x07."), DecodeErrorKind::MemoMissing(7));
    assert_eq!(kind_of(b"\x80\x04]\x94h\x00a."), DecodeErrorKind::Cyclic);
    assert!(check_plain_bytes(b"\x80\x04]\x94h\x00a.", &lim()).is_err());
    assert_eq!(kind_of(b"\x80\x04N"), DecodeErrorKind::Truncated);
    assert_eq!(
        kind_of(b"\x80\x06N."),
        DecodeErrorKind::UnsupportedProtocol(6)
    );
    assert_eq!(kind_of(b"\x80\x04."), DecodeErrorKind::StackUnderflow);
    assert_eq!(
        kind_of(b"\x80\x04\x82\x01."),
        DecodeErrorKind::Unsupported(0x82)
    );
    assert_eq!(kind_of(b"\x80\x04}K\x01u."), DecodeErrorKind::MarkMissing);
    assert_eq!(kind_of(b"\x80\x04}(K\x01u."), DecodeErrorKind::OddItems);
    assert_eq!(kind_of(b"\x80\x04\x8c\x01\xff."), DecodeErrorKind::BadUtf8);
    let e = decode(b"\x80\x04}K\x01a.", &lim()).unwrap_err();
    assert_eq!(e.offset, 5);
    assert!(matches!(
        e.kind,
        DecodeErrorKind::BadOperand {
            opcode: b'a',
            found: "dict"
        }
    ));
}

#[test]
fn policy_names_what_it_refuses() {
    // os.system('echo hi') via STACK_GLOBAL + REDUCE
    let b = b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x07echo hi\x85R.";
    let v = decode(b, &lim()).unwrap();
    let e = check_plain(&v).unwrap_err();
    assert_eq!(e.refused, "call of global os.system");
    let Err(CheckError::Policy(p)) = check_plain_bytes(b, &lim()) else {
        panic!()
    };
    assert_eq!(p.refused, "call of global os.system");
    // An unhashable dict key is refused by both.
    let b = b"\x80\x04}]K\x01s.";
    assert!(check_plain(&decode(b, &lim()).unwrap()).is_err());
    assert!(check_plain_bytes(b, &lim()).is_err());
    // A global pushed and popped again is not part of the value.
    let b = b"\x80\x04\x8c\x02os\x8c\x06system\x930N.";
    assert!(check_plain(&decode(b, &lim()).unwrap()).is_ok());
    assert!(check_plain_bytes(b, &lim()).is_ok());
}

#[test]
fn delta_policy_allows_deepdiffs_vocabulary_only() {
    let none_type = Value::PersId(Arc::new(Value::str("<<NoneType>>")));
    let tc = Value::dict(vec![(
        Value::str("type_changes"),
        Value::dict(vec![(
            Value::str("root['x']"),
            Value::dict(vec![
                (Value::str("old_type"), none_type),
                (Value::str("new_type"), Value::global("builtins", "str")),
            ]),
        )]),
    )]);
    assert!(check_delta(&tc).is_ok());
    assert!(check_plain(&tc).is_err());
    let bad = Value::list(vec![Value::global("builtins", "eval")]);
    assert_eq!(
        check_delta(&bad).unwrap_err().refused,
        "global builtins.eval"
    );
    let op = Value::Object(Arc::new(Object {
        call: Call::NewObj {
            cls: Value::global("deepdiff.helper", "Opcode"),
            args: Value::tuple(vec![
                Value::str("equal"),
                Value::Int(0),
                Value::Int(1),
                Value::Int(0),
                Value::Int(1),
                Value::None,
                Value::None,
            ]),
            kwargs: None,
        },
        build: vec![],
        list_items: vec![],
        dict_items: vec![],
        set_items: vec![],
    }));
    assert!(check_delta(&op).is_ok());
    let bytes = encode(&op);
    assert!(check_delta(&decode(&bytes, &lim()).unwrap()).is_ok());
}

#[test]
fn float_batches_take_the_fast_path_with_the_same_results() {
    // [1.5, 2.5, 7] as CPython writes it, then the same batch aimed at a dict.
    let list = b"\x80\x04]\x94(G?\xf8\x00\x00\x00\x00\x00\x00G@\x04\x00\x00\x00\x00\x00\x00K\x07e.";
    let v = decode(list, &lim()).unwrap();
    let expected = Value::list(vec![Value::Float(1.5), Value::Float(2.5), Value::Int(7)]);
    assert!(v.strict_eq(&expected), "{v:?}");
    let only_floats = b"\x80\x04](G?\xf8\x00\x00\x00\x00\x00\x00G@\x04\x00\x00\x00\x00\x00\x00e.";
    let v = decode(only_floats, &lim()).unwrap();
    assert!(v.strict_eq(&Value::list(vec![Value::Float(1.5), Value::Float(2.5)])));
    assert!(check_plain_bytes(only_floats, &lim()).is_ok());
    let ints = b"\x80\x04](K\x01K\x02K\xffe.";
    let v = decode(ints, &lim()).unwrap();
    assert!(v.strict_eq(&Value::list(vec![
        Value::Int(1),
        Value::Int(2),
        Value::Int(255)
    ])));
    let on_dict = b"\x80\x04}(G?\xf8\x00\x00\x00\x00\x00\x00G@\x04\x00\x00\x00\x00\x00\x00e.";
    let e = decode(on_dict, &lim()).unwrap_err();
    assert_eq!(e.offset, 22);
    assert!(matches!(
        e.kind,
        DecodeErrorKind::BadOperand {
            opcode: b'e',
            found: "dict"
        }
    ));
    // A budget too small for the batch fails exactly as the general path does.
    let tight = Limits {
        max_items: 2,
        ..Limits::default()
    };
    assert_eq!(
        decode(only_floats, &tight).unwrap_err().kind,
        DecodeErrorKind::TooManyItems { max: 2 }
    );
}

#[test]
fn one_allocation_behind_two_kinds_keeps_both_kinds() {
    // bytearray(b'') rewritten from protocol 3 shares its buffer with the bytes object b''.
    let buf: Arc<[u8]> = Arc::from(&b"ab"[..]);
    let items = Arc::new(vec![Value::Int(1)]);
    let v = Value::list(vec![
        Value::Bytes(buf.clone()),
        Value::ByteArray(buf),
        Value::List(items.clone()),
        Value::Set(items),
    ]);
    let back = canonical::builtin_reductions(&decode(&encode(&v), &lim()).unwrap());
    assert!(back.strict_eq(&v), "{back:?}");
}

#[test]
fn a_global_name_shared_with_a_str_re_encodes_identically() {
    // STACK_GLOBAL whose module string is also a value elsewhere (BINGET of the same str).
    let b = b"\x80\x04]\x94(\x8c\x02os\x94\x8c\x06system\x93h\x01e.";
    let v = decode(b, &lim()).unwrap();
    let first = encode(&v);
    assert_eq!(encode(&decode(&first, &lim()).unwrap()), first);
}

#[test]
fn validator_sees_changes_made_after_a_container_was_placed() {
    // d = {}; l = []; d['a'] = l; then l (fetched back from the memo) gets os.system appended.
    // The validator sums up containers as they are linked; this late change must still count.
    let b = b"\x80\x04}\x94\x8c\x01a]\x94sh\x01\x8c\x02os\x8c\x06system\x93a0.";
    let v = decode(b, &lim()).unwrap();
    assert!(check_plain(&v).is_err());
    let Err(CheckError::Policy(p)) = check_plain_bytes(b, &lim()) else {
        panic!("late change not seen")
    };
    assert_eq!(p.refused, "global os.system");
    // The same list made too deep after it was placed.
    let mut deep = b"\x80\x04}\x94\x8c\x01a]\x94sh\x01".to_vec();
    let max = lim().max_depth as usize;
    deep.extend(std::iter::repeat_n(b']', max - 1));
    deep.extend(std::iter::repeat_n(b'a', max - 1));
    deep.extend(b"0.");
    let slow = decode(&deep, &lim()).map(|_| ()).unwrap_err().kind;
    let fast = match check_plain_bytes(&deep, &lim()) {
        Err(CheckError::Decode(e)) => e.kind,
        other => panic!("too deep accepted: {other:?}"),
    };
    assert!(matches!(slow, DecodeErrorKind::TooDeep { .. }), "{slow:?}");
    assert!(matches!(fast, DecodeErrorKind::TooDeep { .. }), "{fast:?}");
}

#[test]
fn unshared_empty_lists_share_one_allocation_and_edits_copy_it() {
    // [[], [], a, a, [], []] with a = [] referenced twice (`h` GET), each `] MEMOIZE` as
    // CPython writes them.
    let v = decode(b"\x80\x04]\x94(]\x94]\x94]\x94h\x03]\x94]\x94e.", &lim()).unwrap();
    let Value::List(items) = &v else {
        panic!("{v:?}")
    };
    let lists: Vec<&Arc<Vec<Value>>> = items
        .iter()
        .map(|x| match x {
            Value::List(l) => l,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lists.len(), 6);
    // The unshared ones are the stand-in; the one referenced twice is its own object.
    assert!(value::is_distinct_empty_list(lists[0]) && value::is_distinct_empty_list(lists[1]));
    assert!(!value::is_distinct_empty_list(lists[2]));
    assert!(Arc::ptr_eq(lists[2], lists[3]));
    // Editing one place copies the stand-in and leaves every other empty list alone.
    let mut first = Value::List(lists[0].clone());
    if let Value::List(l) = &mut first {
        Arc::make_mut(l).push(Value::Int(1));
    }
    assert!(lists[1].is_empty() && value::is_distinct_empty_list(lists[1]));
    assert!(Value::distinct_empty_list().strict_eq(&Value::list(vec![])));
    // Memo-filled later (`h` GET then APPEND), and appended to itself: a node, then a cycle.
    let filled = decode(b"\x80\x04]\x94(]\x94e\x94h\x01K\x07a0.", &lim()).unwrap();
    let Value::List(outer) = &filled else {
        panic!("{filled:?}")
    };
    assert!(matches!(&outer[0], Value::List(l) if l.len() == 1));
    assert_eq!(kind_of(b"\x80\x04]\x94h\x00a."), DecodeErrorKind::Cyclic);
}

#[test]
fn capped_encodings_agree_with_encode_and_stop_at_the_cap() {
    let shared = Value::list(vec![Value::str("abc"); 3]);
    let v = Value::dict(vec![
        (Value::str("a"), shared.clone()),
        (Value::str("b"), shared),
        (Value::str("c"), Value::bytes(&[7; 300])),
        (Value::str("d"), Value::distinct_empty_list()),
    ]);
    let full = encode(&v);
    let n = full.len();
    assert_eq!(encoded_len(&v, n), Ok(n));
    assert_eq!(encode_capped(&v, n).as_deref(), Ok(&full[..]));
    assert_eq!(encoded_len(&v, n - 1), Err(TooLarge { cap: n - 1 }));
    assert_eq!(encode_capped(&v, n - 1), Err(TooLarge { cap: n - 1 }));
    // A 2^40-leaf memo DAG is small to encode, and counted as small.
    let mut dag = Value::Int(1);
    for _ in 0..40 {
        dag = Value::tuple(vec![dag.clone(), dag]);
    }
    let len = encoded_len(&dag, 4096).expect("a few hundred bytes");
    assert_eq!(len, encode(&dag).len());
}
