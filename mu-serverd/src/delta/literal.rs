//! A subset of Python's `ast.literal_eval`, as deepdiff's path parser applies it to each path
//! element (`root[1.5]` → float, `root['a']` → str, `root[x]` → raw text `'x'`).
//!
//! What matters is the *classification*: text that CPython evaluates to a literal must give the
//! same value, and text it rejects (`SyntaxError`/`ValueError`) must be rejected so the caller
//! falls back to the raw text. Literals that cannot be dict keys or list indexes in the data
//! (complex numbers, dicts, sets, `...`) are returned as [`Lit::Opaque`], which fails every lookup
//! like the real object would. `\N{...}` escapes are refused as unsupported.

use super::error::{PyErr, PyExc};
use super::literal_num::parse_number;
use super::literal_simple::simple_literal;
use super::num::PyInt;
use super::pyops::str_from_cps;
use crate::pickle::value::Value;
use std::sync::Arc;

/// A literal's value.
#[derive(Clone, Debug)]
pub enum Lit {
    Val(Value),
    /// A literal that is not a plain data key (complex, dict, set, list, Ellipsis).
    Opaque {
        desc: &'static str,
        hashable: bool,
    },
}

/// Why evaluation failed.
#[derive(Clone, Debug)]
pub enum LitErr {
    /// `SyntaxError`/`ValueError`: deepdiff keeps the raw text.
    Fallback,
    /// Another exception escapes `literal_eval` (e.g. `TypeError: unhashable type`).
    Raise(PyErr),
}

const MAX_DEPTH: usize = 100;

struct P<'a> {
    s: &'a [u32],
    i: usize,
    depth: usize,
}

fn ch(c: char) -> u32 {
    c as u32
}

/// `ast.literal_eval(text)` for text given as code points.
pub fn literal_eval(text: &[u32]) -> Result<Lit, LitErr> {
    if text.contains(&0) || text.iter().any(|c| (0xd800..0xe000).contains(c)) {
        return Err(LitErr::Fallback);
    }
    match simple_literal(text) {
        Some(v) => Ok(v),
        None => parse_literal(text),
    }
}

/// The full parser behind [`literal_eval`].
pub(super) fn parse_literal(text: &[u32]) -> Result<Lit, LitErr> {
    let mut start = 0;
    while start < text.len() && (text[start] == ch(' ') || text[start] == ch('\t')) {
        start += 1;
    }
    let mut p = P {
        s: &text[start..],
        i: 0,
        depth: 0,
    };
    let v = p.expr_list(true)?;
    p.ws(true);
    if p.i != p.s.len() {
        return Err(LitErr::Fallback);
    }
    Ok(v)
}

impl P<'_> {
    fn peek(&self) -> Option<u32> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self, allow_newline: bool) {
        while let Some(c) = self.peek() {
            if c == ch(' ')
                || c == ch('\t')
                || c == 0x0c
                || (allow_newline && (c == ch('\n') || c == ch('\r')))
            {
                self.i += 1;
            } else {
                break;
            }
        }
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(ch(c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// `a, b, c` (a tuple when a comma appears), or a single expression.
    fn expr_list(&mut self, top: bool) -> Result<Lit, LitErr> {
        let nl = !top || self.depth > 0;
        self.ws(nl);
        let first = self.atom_expr()?;
        self.ws(nl);
        if self.peek() != Some(ch(',')) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(',') {
            self.ws(nl);
            match self.peek() {
                None => break,
                Some(c) if c == ch(')') || c == ch(']') || c == ch('}') => break,
                _ => {}
            }
            items.push(self.atom_expr()?);
            self.ws(nl);
        }
        Ok(make_tuple(items))
    }

    fn atom_expr(&mut self) -> Result<Lit, LitErr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(LitErr::Fallback);
        }
        let r = self.atom_expr_inner();
        self.depth -= 1;
        r
    }

    fn atom_expr_inner(&mut self) -> Result<Lit, LitErr> {
        let c = self.peek().ok_or(LitErr::Fallback)?;
        if c == ch('-')
            || c == ch('+')
            || is_digit(c)
            || c == ch('.') && self.s.get(self.i + 1).is_some_and(|d| is_digit(*d))
        {
            return self.signed_number();
        }
        if c == ch('(') {
            self.i += 1;
            self.ws(true);
            if self.eat(')') {
                return Ok(Lit::Val(Value::tuple(vec![])));
            }
            let v = self.expr_list(false)?;
            self.ws(true);
            if !self.eat(')') {
                return Err(LitErr::Fallback);
            }
            return Ok(v);
        }
        if c == ch('[') || c == ch('{') {
            return self.display();
        }
        if c == ch('.') {
            if self.s[self.i..].starts_with(&[ch('.'), ch('.'), ch('.')]) {
                self.i += 3;
                return Ok(Lit::Opaque {
                    desc: "ellipsis",
                    hashable: true,
                });
            }
            return Err(LitErr::Fallback);
        }
        if is_name_start(c) {
            let start = self.i;
            while self.peek().is_some_and(is_name_char) {
                self.i += 1;
            }
            let name: String = self.s[start..self.i]
                .iter()
                .filter_map(|c| char::from_u32(*c))
                .collect();
            if matches!(self.peek(), Some(q) if q == ch('\'') || q == ch('"')) {
                self.i = start;
                return self.strings();
            }
            return match name.as_str() {
                "True" => Ok(Lit::Val(Value::Bool(true))),
                "False" => Ok(Lit::Val(Value::Bool(false))),
                "None" => Ok(Lit::Val(Value::None)),
                _ => Err(LitErr::Fallback),
            };
        }
        if c == ch('\'') || c == ch('"') {
            return self.strings();
        }
        Err(LitErr::Fallback)
    }

    /// `[...]`, `{...}`: lists, sets and dicts are opaque; an unhashable key or set element raises.
    fn display(&mut self) -> Result<Lit, LitErr> {
        let open = self.peek().unwrap_or(0);
        self.i += 1;
        let close = if open == ch('[') { ch(']') } else { ch('}') };
        let mut n = 0;
        let mut is_dict = false;
        loop {
            self.ws(true);
            if self.peek() == Some(close) {
                self.i += 1;
                break;
            }
            let item = self.atom_expr()?;
            self.ws(true);
            if open == ch('{') && (n == 0 || is_dict) && self.eat(':') {
                is_dict = true;
                if !lit_hashable(&item) {
                    return Err(LitErr::Raise(PyErr::type_err("unhashable type")));
                }
                self.ws(true);
                self.atom_expr()?;
                self.ws(true);
            } else if is_dict {
                return Err(LitErr::Fallback);
            } else if open == ch('{') && !lit_hashable(&item) {
                return Err(LitErr::Raise(PyErr::type_err("unhashable type")));
            }
            n += 1;
            self.ws(true);
            if self.eat(',') {
                continue;
            }
            self.ws(true);
            if self.eat_code(close) {
                break;
            }
            return Err(LitErr::Fallback);
        }
        let desc = if open == ch('[') {
            "list"
        } else if is_dict || n == 0 {
            "dict"
        } else {
            "set"
        };
        Ok(Lit::Opaque {
            desc,
            hashable: false,
        })
    }

    fn eat_code(&mut self, c: u32) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// `[+-] number [(+|-) imaginary]`.
    fn signed_number(&mut self) -> Result<Lit, LitErr> {
        let mut neg = false;
        let mut signed = false;
        if self.peek() == Some(ch('-')) || self.peek() == Some(ch('+')) {
            neg = self.peek() == Some(ch('-'));
            signed = true;
            self.i += 1;
            self.ws(false);
        }
        let (num, imag) = self.number()?;
        let _ = signed;
        let save = self.i;
        self.ws(false);
        if matches!(self.peek(), Some(c) if c == ch('+') || c == ch('-')) {
            self.i += 1;
            self.ws(false);
            let (_, imag2) = self.number()?;
            if !imag2 {
                return Err(LitErr::Fallback);
            }
            return Ok(Lit::Opaque {
                desc: "complex",
                hashable: true,
            });
        }
        self.i = save;
        if imag {
            return Ok(Lit::Opaque {
                desc: "complex",
                hashable: true,
            });
        }
        Ok(Lit::Val(match num {
            Value::Float(f) if neg => Value::Float(-f),
            Value::Int(i) if neg => PyInt::from_i128(-(i as i128)).to_value(),
            Value::BigInt(b) if neg => {
                let mut p = PyInt::from_le_twos(&b.0);
                p.neg = !p.is_zero();
                p.to_value()
            }
            v => v,
        }))
    }

    /// An unsigned number token; returns (value, is_imaginary).
    fn number(&mut self) -> Result<(Value, bool), LitErr> {
        let start = self.i;
        while let Some(c) = self.peek() {
            let prev = if self.i > start {
                self.s[self.i - 1]
            } else {
                0
            };
            let exp_sign = (c == ch('+') || c == ch('-'))
                && (prev == ch('e') || prev == ch('E'))
                && !self.is_radix(start);
            if is_name_char(c) || c == ch('.') || exp_sign {
                self.i += 1;
            } else {
                break;
            }
        }
        let tok: String = self.s[start..self.i]
            .iter()
            .filter_map(|c| char::from_u32(*c))
            .collect();
        parse_number(&tok).ok_or(LitErr::Fallback)
    }

    fn is_radix(&self, start: usize) -> bool {
        self.s.get(start) == Some(&ch('0'))
            && matches!(self.s.get(start + 1), Some(c) if "xXoObB".contains(char::from_u32(*c).unwrap_or(' ')))
    }

    /// One or more adjacent string literals (implicit concatenation).
    fn strings(&mut self) -> Result<Lit, LitErr> {
        let mut text: Vec<u32> = Vec::new();
        let mut bytes: Option<bool> = None;
        loop {
            self.ws(self.depth > 1);
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c < 0x80 && (c as u8).is_ascii_alphabetic())
            {
                self.i += 1;
            }
            let prefix: String = self.s[start..self.i]
                .iter()
                .map(|c| (*c as u8 as char).to_ascii_lowercase())
                .collect();
            let q = match self.peek() {
                Some(q) if q == ch('\'') || q == ch('"') => q,
                _ => {
                    self.i = start;
                    break;
                }
            };
            let (is_bytes, raw) = match prefix.as_str() {
                "" | "u" => (false, false),
                "r" => (false, true),
                "b" => (true, false),
                "br" | "rb" => (true, true),
                _ => return Err(LitErr::Fallback), // f-strings and names are not literals
            };
            if bytes.is_some_and(|b| b != is_bytes) {
                return Err(LitErr::Fallback);
            }
            bytes = Some(is_bytes);
            self.one_string(q, is_bytes, raw, &mut text)?;
        }
        match bytes {
            None => Err(LitErr::Fallback),
            Some(true) => Ok(Lit::Val(Value::Bytes(Arc::from(
                text.iter().map(|c| *c as u8).collect::<Vec<u8>>(),
            )))),
            Some(false) => Ok(Lit::Val(str_from_cps(&text))),
        }
    }

    fn one_string(
        &mut self,
        q: u32,
        is_bytes: bool,
        raw: bool,
        out: &mut Vec<u32>,
    ) -> Result<(), LitErr> {
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        loop {
            let c = self.peek().ok_or(LitErr::Fallback)?;
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return Ok(());
            }
            if (c == ch('\n') || c == ch('\r')) && !triple {
                return Err(LitErr::Fallback);
            }
            if is_bytes && c >= 0x80 {
                return Err(LitErr::Fallback);
            }
            self.i += 1;
            if c != ch('\\') {
                out.push(if c == ch('\r') { ch('\n') } else { c });
                continue;
            }
            let e = self.peek().ok_or(LitErr::Fallback)?;
            if raw {
                out.push(c);
                out.push(e);
                self.i += 1;
                continue;
            }
            self.i += 1;
            let simple = match char::from_u32(e).unwrap_or('\0') {
                '\n' => Some(None),
                '\\' => Some(Some(ch('\\'))),
                '\'' => Some(Some(ch('\''))),
                '"' => Some(Some(ch('"'))),
                'a' => Some(Some(7)),
                'b' => Some(Some(8)),
                'f' => Some(Some(12)),
                'n' => Some(Some(10)),
                'r' => Some(Some(13)),
                't' => Some(Some(9)),
                'v' => Some(Some(11)),
                _ => None,
            };
            if let Some(s) = simple {
                if let Some(v) = s {
                    out.push(v);
                }
                continue;
            }
            if (ch('0')..=ch('7')).contains(&e) {
                let mut v = e - ch('0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d) if (ch('0')..=ch('7')).contains(&d) => {
                            v = v * 8 + (d - ch('0'));
                            self.i += 1;
                        }
                        _ => break,
                    }
                }
                if is_bytes {
                    v &= 0xff;
                }
                out.push(v);
                continue;
            }
            let hex_len = match char::from_u32(e).unwrap_or('\0') {
                'x' => 2,
                'u' if !is_bytes => 4,
                'U' if !is_bytes => 8,
                'N' if !is_bytes => {
                    return Err(LitErr::Raise(PyErr::new(
                        PyExc::Unsupported,
                        "\\N{...} escapes in paths are not supported",
                    )))
                }
                _ => 0,
            };
            if hex_len == 0 {
                out.push(c);
                out.push(e);
                continue;
            }
            let mut v: u32 = 0;
            for _ in 0..hex_len {
                let d = self
                    .peek()
                    .and_then(char::from_u32)
                    .and_then(|d| d.to_digit(16))
                    .ok_or(LitErr::Fallback)?;
                v = v * 16 + d;
                self.i += 1;
            }
            if v > 0x10ffff {
                return Err(LitErr::Fallback);
            }
            out.push(v);
        }
    }
}

fn lit_hashable(l: &Lit) -> bool {
    match l {
        Lit::Val(v) => super::pyops::is_hashable(v),
        Lit::Opaque { hashable, .. } => *hashable,
    }
}

fn make_tuple(items: Vec<Lit>) -> Lit {
    if items.iter().all(|l| matches!(l, Lit::Val(_))) {
        Lit::Val(Value::tuple(
            items
                .into_iter()
                .filter_map(|l| match l {
                    Lit::Val(v) => Some(v),
                    Lit::Opaque { .. } => None,
                })
                .collect(),
        ))
    } else {
        let hashable = items.iter().all(lit_hashable);
        Lit::Opaque {
            desc: "tuple",
            hashable,
        }
    }
}

fn is_digit(c: u32) -> bool {
    (ch('0')..=ch('9')).contains(&c)
}
fn is_name_start(c: u32) -> bool {
    c == ch('_') || c >= 0x80 || (c as u8).is_ascii_alphabetic()
}
fn is_name_char(c: u32) -> bool {
    is_name_start(c) || is_digit(c)
}

/// Convenience for tests and the path parser: text as `&str`.
pub fn literal_eval_str(s: &str) -> Result<Lit, LitErr> {
    let cps: Vec<u32> = s.chars().map(|c| c as u32).collect();
    literal_eval(&cps)
}

#[cfg(test)]
mod tests {
    use super::*;

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
