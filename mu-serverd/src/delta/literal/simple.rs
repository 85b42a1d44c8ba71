//! The shortcut in front of the `literal_eval` parser: the two shapes nearly every path element
//! of a Commit has (`'name'` and `12`). Reading a small delta spent most of its time parsing
//! those with the full parser ([`super::parse`]).

use super::lit::Lit;
use crate::delta::pyops::str_from_cps;
use crate::pickle::value::Value;

fn ch(c: char) -> u32 {
    c as u32
}

/// The two shapes nearly every path element of a Commit has, `'name'` and `12`, evaluated
/// without the parser (it was most of the cost of reading a small delta). `None` for anything
/// else, including every text where Python's tokenizer could see more than that: a quote of the
/// same kind or a backslash inside the string, a line break, leading zeros, surrounding spaces,
/// an integer that might not fit `i64`.
pub(super) fn simple_literal(text: &[u32]) -> Option<Lit> {
    let (&first, &last) = (text.first()?, text.last()?);
    if first == ch('\'') || first == ch('"') {
        let inner = text.get(1..text.len().checked_sub(1)?)?;
        let plain = |c: &u32| *c != first && *c != ch('\\') && *c != ch('\n') && *c != ch('\r');
        return (text.len() >= 2 && last == first && inner.iter().all(plain))
            .then(|| Lit::Val(str_from_cps(inner)));
    }
    let digit = |c: &u32| (ch('0')..=ch('9')).contains(c);
    if text.len() <= 18 && text.iter().all(digit) && (text.len() == 1 || first != ch('0')) {
        let n = text
            .iter()
            .fold(0i64, |n, &c| n * 10 + i64::from(c - ch('0')));
        return Some(Lit::Val(Value::Int(n)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse_literal;
    use super::*;

    /// Where the shortcut answers, the parser gives the same value, over every short text of
    /// quotes, digits, escapes, spaces and line breaks (a few thousand texts).
    #[test]
    fn the_shortcut_agrees_with_the_parser() {
        let alphabet: Vec<u32> = "'\"0 1a\\\n9\r_".chars().map(|c| c as u32).collect();
        let (mut texts, mut answered) = (vec![vec![]], 0);
        for _ in 0..4 {
            let longer: Vec<Vec<u32>> = texts
                .iter()
                .flat_map(|t: &Vec<u32>| alphabet.iter().map(move |&c| [&t[..], &[c]].concat()))
                .collect();
            texts.extend(longer);
        }
        texts.push("123456789012345678".chars().map(|c| c as u32).collect());
        texts.push("'it\"s ok'".chars().map(|c| c as u32).collect());
        for t in &texts {
            if let Some(Lit::Val(fast)) = simple_literal(t) {
                answered += 1;
                match parse_literal(t) {
                    Ok(Lit::Val(full)) => assert!(fast.strict_eq(&full), "{t:?}"),
                    other => panic!("{t:?}: shortcut {fast:?}, parser {other:?}"),
                }
            }
        }
        assert!(answered > 100, "{answered} of {}", texts.len());
    }
}
