//! deepdiff path strings (`root['a'][3]["it's"].x`) parsed into elements, with the rules of
//! deepdiff 8.1.1 (`path._path_to_elements`: quote-kind tracking, U+1D1C0 escape, quotes stripped
//! when `literal_eval` fails) or 5.7.0 (any quote toggles, backslash escape, raw text on failure).
//! Both versions' quirks are kept on purpose: a path that deepdiff mis-parses must be mis-parsed
//! the same way, or the server's copy would differ from every client's.

use super::error::PyErr;
use super::literal::{literal_eval, Lit, LitErr};
use super::pyops::{code_points, str_from_cps};
use crate::pickle::value::Value;

/// Which deepdiff's rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    V8_1_1,
    V5_7_0,
}

/// One path element: `obj[key]` (`attr == false`) or `getattr(obj, key)`.
#[derive(Clone, Debug)]
pub(crate) struct Elem {
    pub key: Lit,
    pub attr: bool,
}

impl Elem {
    pub(crate) fn root() -> Elem {
        Elem {
            key: Lit::Val(Value::str("root")),
            attr: true,
        }
    }
}

const ESCAPE_8: u32 = 0x1d1c0;

/// `_path_to_elements(path)` (with the `('root', GETATTR)` first element).
pub(crate) fn parse(path: &Value, dialect: Dialect) -> Result<Vec<Elem>, PyErr> {
    let mut elements = Vec::with_capacity(4);
    elements.push(Elem::root());
    match path {
        Value::Str(s) => {
            let cps = code_points(s.as_bytes());
            let rest = if cps.len() > 4 { &cps[4..] } else { &[][..] };
            scan(rest, dialect, &mut elements)?;
            Ok(elements)
        }
        Value::Bytes(b) if b.len() <= 4 => Ok(elements),
        Value::Bytes(_) => Err(PyErr::type_err(
            "can only concatenate str (not \"int\") to str",
        )),
        Value::Tuple(_) => Err(PyErr::new(
            super::error::PyExc::Unsupported,
            "pre-parsed (tuple) paths are not supported",
        )),
        other => Err(PyErr::type_err(format!(
            "'{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Inside {
    No,
    Bracket,
    Dot,
}

fn scan(path: &[u32], dialect: Dialect, out: &mut Vec<Elem>) -> Result<(), PyErr> {
    let q1 = '\'' as u32;
    let q2 = '"' as u32;
    let escape = match dialect {
        Dialect::V8_1_1 => ESCAPE_8,
        Dialect::V5_7_0 => '\\' as u32,
    };
    let mut elem: Vec<u32> = Vec::with_capacity(path.len());
    let mut inside = Inside::No;
    let mut prev: Option<u32> = None;
    let mut brackets = 0usize;
    let mut in_quotes = false;
    let mut quote_used: Option<u32> = None;
    for &c in path {
        if prev == Some(escape) {
            elem.push(c);
        } else if c == q1 || c == q2 {
            elem.push(c);
            let toggles = match dialect {
                Dialect::V8_1_1 => !(in_quotes && quote_used != Some(c)),
                Dialect::V5_7_0 => true,
            };
            if toggles {
                in_quotes = !in_quotes;
                if in_quotes {
                    quote_used = Some(c);
                } else {
                    add(out, &elem, inside, dialect)?;
                    elem.clear();
                    quote_used = None;
                }
            }
        } else if in_quotes {
            elem.push(c);
        } else if c == '[' as u32 {
            match inside {
                Inside::Dot => {
                    add(out, &elem, inside, dialect)?;
                    inside = Inside::Bracket;
                    elem.clear();
                }
                Inside::Bracket => elem.push(c),
                Inside::No => {
                    inside = Inside::Bracket;
                    brackets += 1;
                    elem.clear();
                }
            }
        } else if c == '.' as u32 {
            match inside {
                Inside::Bracket => elem.push(c),
                Inside::Dot => {
                    add(out, &elem, inside, dialect)?;
                    elem.clear();
                }
                Inside::No => {
                    inside = Inside::Dot;
                    elem.clear();
                }
            }
        } else if c == ']' as u32 {
            // `brackets` only ever holds '[' entries: pop one, then "if brackets" is "if > 0"
            brackets = brackets.saturating_sub(1);
            if brackets > 0 {
                elem.push(c);
            } else {
                add(out, &elem, inside, dialect)?;
                elem.clear();
                inside = Inside::No;
            }
        } else {
            elem.push(c);
        }
        prev = Some(c);
    }
    if !elem.is_empty() {
        add(out, &elem, inside, dialect)?;
    }
    Ok(())
}

/// `_add_to_elements`.
fn add(out: &mut Vec<Elem>, elem: &[u32], inside: Inside, dialect: Dialect) -> Result<(), PyErr> {
    if elem.is_empty() {
        return Ok(());
    }
    if elem.len() >= 2 && elem[0] == '_' as u32 && elem[1] == '_' as u32 {
        return Ok(());
    }
    let attr = inside == Inside::Dot;
    let raw = |e: &[u32]| Lit::Val(str_from_cps(e));
    let key = match dialect {
        Dialect::V8_1_1 => {
            let skip_eval = elem.contains(&ESCAPE_8) || elem.contains(&('\\' as u32));
            let evaluated = if skip_eval {
                Err(LitErr::Fallback)
            } else {
                literal_eval(elem)
            };
            match evaluated {
                Ok(v) => v,
                Err(LitErr::Raise(e)) => return Err(e),
                Err(LitErr::Fallback) => {
                    let first = elem[0];
                    if first == elem[elem.len() - 1]
                        && (first == '"' as u32 || first == '\'' as u32)
                    {
                        let inner = if elem.len() >= 2 {
                            &elem[1..elem.len() - 1]
                        } else {
                            &[][..]
                        };
                        raw(inner)
                    } else {
                        raw(elem)
                    }
                }
            }
        }
        Dialect::V5_7_0 => match literal_eval(elem) {
            Ok(v) => v,
            Err(LitErr::Raise(e)) => return Err(e),
            Err(LitErr::Fallback) => raw(elem),
        },
    };
    out.push(Elem { key, attr });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &str, d: Dialect) -> Vec<String> {
        parse(&Value::str(p), d)
            .unwrap()
            .iter()
            .map(|e| format!("{}{:?}", if e.attr { "." } else { "" }, e.key))
            .collect()
    }

    #[test]
    fn paths_8_1_1_track_quote_kind() {
        assert_eq!(
            keys("root['a'][3][\"it's\"]", Dialect::V8_1_1),
            [
                ".Val(Str(\"root\"))",
                "Val(Str(\"a\"))",
                "Val(Int(3))",
                "Val(Str(\"it's\"))"
            ]
        );
        assert_eq!(
            keys("root['say \"hi\"']", Dialect::V8_1_1)[1],
            "Val(Str(\"say \\\"hi\\\"\"))"
        );
        assert_eq!(
            keys("root['a\\b']", Dialect::V8_1_1)[1],
            "Val(Str(\"a\\\\b\"))"
        );
        assert_eq!(keys("root[x]", Dialect::V8_1_1)[1], "Val(Str(\"x\"))");
        assert_eq!(keys("root.__x", Dialect::V8_1_1).len(), 1);
        assert_eq!(keys("root['__x']", Dialect::V8_1_1).len(), 2);
        assert_eq!(keys("root[a[0]]", Dialect::V8_1_1)[1], "Val(Str(\"a[0\"))");
    }

    #[test]
    fn keys_with_both_quotes_split_like_8_1_1() {
        let k = keys("root[\"a'b\"c\"]", Dialect::V8_1_1);
        assert_eq!(k.len(), 3, "{k:?}");
        assert_eq!(k[1], "Val(Str(\"a'b\"))");
    }

    #[test]
    fn paths_5_7_0_toggle_on_any_quote_and_eval_backslashes() {
        let k = keys("root['it's']", Dialect::V5_7_0);
        assert_eq!(
            k,
            [
                ".Val(Str(\"root\"))",
                "Val(Str(\"it\"))",
                "Val(Str(\"s']\"))"
            ]
        );
        assert_eq!(
            keys("root['a\\b']", Dialect::V5_7_0)[1],
            "Val(Str(\"a\\u{8}\"))"
        );
        assert_eq!(
            keys("root['new\nline']", Dialect::V5_7_0)[1],
            "Val(Str(\"'new\\nline'\"))"
        );
    }

    #[test]
    fn non_string_paths() {
        assert!(parse(&Value::None, Dialect::V8_1_1).is_err());
        assert_eq!(
            parse(&Value::bytes(b"ab"), Dialect::V8_1_1).unwrap().len(),
            1
        );
        assert_eq!(
            parse(&Value::str("root"), Dialect::V8_1_1).unwrap().len(),
            1
        );
    }
}
