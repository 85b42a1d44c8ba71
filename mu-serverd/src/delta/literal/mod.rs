//! A subset of Python's `ast.literal_eval`, as deepdiff's path parser applies it to each path
//! element (`root[1.5]` → float, `root['a']` → str, `root[x]` → raw text `'x'`).
//!
//! What matters is the *classification*: text that CPython evaluates to a literal must give the
//! same value, and text it rejects (`SyntaxError`/`ValueError`) must be rejected so the caller
//! falls back to the raw text. Literals that cannot be dict keys or list indexes in the data
//! (complex numbers, dicts, sets, `...`) are returned as [`Lit::Opaque`], which fails every lookup
//! like the real object would. `\N{...}` escapes are refused as unsupported.
//!
//! [`literal_eval`] tries the shortcut for the two shapes nearly every path element has
//! ([`simple`]), then the parser ([`parse`]); [`string`] reads one string literal's escapes,
//! [`num`] one number token.

mod lit;
mod num;
mod parse;
mod simple;
mod string;

pub(crate) use lit::{Lit, LitErr};

/// `ast.literal_eval(text)` for text given as code points.
pub(crate) fn literal_eval(text: &[u32]) -> Result<Lit, LitErr> {
    if text.contains(&0) || text.iter().any(|c| (0xd800..0xe000).contains(c)) {
        return Err(LitErr::Fallback);
    }
    match simple::simple_literal(text) {
        Some(v) => Ok(v),
        None => parse::parse_literal(text),
    }
}

/// Convenience for tests: text as `&str`.
#[cfg(test)]
fn literal_eval_str(s: &str) -> Result<Lit, LitErr> {
    let cps: Vec<u32> = s.chars().map(|c| c as u32).collect();
    literal_eval(&cps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::value::Value;

    fn val(s: &str) -> Value {
        match literal_eval_str(s) {
            Ok(Lit::Val(v)) => v,
            other => panic!("{s}: {other:?}"),
        }
    }
    fn falls_back(s: &str) -> bool {
        matches!(literal_eval_str(s), Err(LitErr::Fallback))
    }

    #[test]
    fn literal_eval_classifies_like_cpython() {
        assert!(val("1_0").strict_eq(&Value::Int(10)));
        assert!(val(" 1").strict_eq(&Value::Int(1)));
        assert!(val("1 ").strict_eq(&Value::Int(1)));
        assert!(val("-1.5").strict_eq(&Value::Float(-1.5)));
        assert!(val("1e+16").strict_eq(&Value::Float(1e16)));
        assert!(val("0x10").strict_eq(&Value::Int(16)));
        assert!(val("'a'  'b'").strict_eq(&Value::str("ab")));
        assert!(val("(1,2)").strict_eq(&Value::tuple(vec![Value::Int(1), Value::Int(2)])));
        assert!(val("1,").strict_eq(&Value::tuple(vec![Value::Int(1)])));
        assert!(val("None").strict_eq(&Value::None));
        assert!(val("'a\\x41\\n'").strict_eq(&Value::str("aA\n")));
        assert!(val("b'\\x00'").strict_eq(&Value::bytes(&[0])));
        assert!(val("'\\q'").strict_eq(&Value::str("\\q")));
        assert!(falls_back("-True"));
        assert!(falls_back("01"));
        assert!(falls_back("x"));
        assert!(falls_back("'a\rb'"));
        assert!(falls_back("'a\nb'"));
        assert!(falls_back("1 2"));
        assert!(falls_back("--1"));
        assert!(falls_back("f'x'"));
        assert!(matches!(literal_eval_str("..."), Ok(Lit::Opaque { .. })));
        assert!(matches!(
            literal_eval_str("1+2j"),
            Ok(Lit::Opaque {
                desc: "complex",
                ..
            })
        ));
        assert!(matches!(
            literal_eval_str("{[1]: 2}"),
            Err(LitErr::Raise(_))
        ));
    }
}
