//! The full `literal_eval` parser: expressions, tuples, displays (lists, sets, dicts: opaque),
//! numbers with their signs and imaginary parts, adjacent strings. Run when the shortcut
//! ([`super::simple`]) cannot answer.

use super::lit::{Lit, LitErr};
use super::num::parse_number;
use super::string::one_string;
use crate::delta::error::PyErr;
use crate::delta::num::PyInt;
use crate::delta::pyops::str_from_cps;
use crate::pickle::value::Value;
use std::sync::Arc;

const MAX_DEPTH: usize = 100;

struct P<'a> {
    s: &'a [u32],
    i: usize,
    depth: usize,
}

fn ch(c: char) -> u32 {
    c as u32
}

/// The full parser behind [`super::literal_eval`].
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
            one_string(self.s, &mut self.i, q, is_bytes, raw, &mut text)?;
        }
        match bytes {
            None => Err(LitErr::Fallback),
            Some(true) => Ok(Lit::Val(Value::Bytes(Arc::from(
                text.iter().map(|c| *c as u8).collect::<Vec<u8>>(),
            )))),
            Some(false) => Ok(Lit::Val(str_from_cps(&text))),
        }
    }
}

fn lit_hashable(l: &Lit) -> bool {
    match l {
        Lit::Val(v) => crate::delta::pyops::is_hashable(v),
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
