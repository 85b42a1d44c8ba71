//! Results: one row per measured quantity, one cell per server, medians over runs; printed as a
//! Markdown table (with the mu-serverd/reference gain and mu-serverd's share of the ceiling) and
//! written as JSON. Errors (a lost message, a failed login) are kept in the cell and shown.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::servers::Kind;

/// One run of one row against one server.
#[derive(Clone, Debug)]
pub struct Measure {
    pub value: f64,
    /// Server CPU during the measurement, in cores (1.0 = one core busy).
    pub server_cores: Option<f64>,
    /// The load generator's own CPU (all mu-bench threads), in cores.
    pub gen_cores: Option<f64>,
}

#[derive(Default, Debug)]
pub struct Cell {
    pub runs: Vec<Measure>,
    pub errors: Vec<String>,
}

pub struct Row {
    pub id: String,
    pub label: String,
    pub unit: &'static str,
    pub higher_is_better: bool,
    pub cells: BTreeMap<Kind, Cell>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl Cell {
    pub fn median(&self) -> Option<f64> {
        median(self.runs.iter().map(|m| m.value).collect())
    }
    fn med_of(&self, f: impl Fn(&Measure) -> Option<f64>) -> Option<f64> {
        median(self.runs.iter().filter_map(f).collect())
    }
    /// A cell is good when it has at least one run and no error.
    pub fn ok(&self) -> bool {
        !self.runs.is_empty() && self.errors.is_empty()
    }
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
}

impl Report {
    /// The row `id`, created on first use.
    pub fn row(&mut self, id: &str, label: &str, unit: &'static str, higher: bool) -> &mut Row {
        if let Some(i) = self.rows.iter().position(|r| r.id == id) {
            return &mut self.rows[i];
        }
        self.rows.push(Row {
            id: id.to_string(),
            label: label.to_string(),
            unit,
            higher_is_better: higher,
            cells: BTreeMap::new(),
        });
        self.rows.last_mut().expect("just pushed")
    }

    pub fn record(
        &mut self,
        id: &str,
        label: &str,
        unit: &'static str,
        higher: bool,
        kind: Kind,
        m: Measure,
    ) {
        self.row(id, label, unit, higher)
            .cells
            .entry(kind)
            .or_default()
            .runs
            .push(m);
    }

    pub fn fail(
        &mut self,
        id: &str,
        label: &str,
        unit: &'static str,
        higher: bool,
        kind: Kind,
        e: String,
    ) {
        self.row(id, label, unit, higher)
            .cells
            .entry(kind)
            .or_default()
            .errors
            .push(e);
    }

    /// Markdown table. `gain` = how many times better mu-serverd is than the reference (>1 is
    /// better, for either direction of "better"); `% ceil` = mu-serverd as a share of the ceiling.
    pub fn table(&self, kinds: &[Kind]) -> String {
        let mut out = String::from("| measure | unit |");
        for k in kinds {
            let _ = write!(out, " {} |", k.label());
        }
        let names: Vec<&str> = kinds.iter().map(|k| k.short()).collect();
        let _ = write!(
            out,
            " mu/ref gain | mu % of ceiling | server cores ({0}) | generator cores ({0}) |\n|---|---|",
            names.join(" / ")
        );
        for _ in kinds {
            out.push_str("---:|");
        }
        out.push_str("---:|---:|---|---|\n");
        for r in &self.rows {
            let _ = write!(out, "| {} | {} |", r.label, r.unit);
            for k in kinds {
                let s = match r.cells.get(k) {
                    None => "–".to_string(),
                    Some(c) if !c.errors.is_empty() => format!("FAILED: {}", c.errors.join("; ")),
                    Some(c) => c.median().map(fmt_num).unwrap_or_else(|| "–".into()),
                };
                let _ = write!(out, " {s} |");
            }
            let med = |k: Kind| r.cells.get(&k).filter(|c| c.ok()).and_then(Cell::median);
            let better = |a: f64, b: f64| if r.higher_is_better { a / b } else { b / a };
            let gain = match (med(Kind::Mu), med(Kind::Reference)) {
                (Some(m), Some(rf)) if m > 0.0 && rf > 0.0 => format!("{:.2}x", better(m, rf)),
                _ => "–".into(),
            };
            let ceil = match (med(Kind::Mu), med(Kind::Ceiling)) {
                (Some(m), Some(c)) if m > 0.0 && c > 0.0 => {
                    format!("{:.0} %", 100.0 * better(m, c))
                }
                _ => "–".into(),
            };
            let cores = |f: fn(&Measure) -> Option<f64>| {
                let one = |k: &Kind| {
                    r.cells
                        .get(k)
                        .and_then(|c| c.med_of(f))
                        .map(|v| format!("{v:.2}"))
                        .unwrap_or_else(|| "–".into())
                };
                kinds.iter().map(one).collect::<Vec<_>>().join(" / ")
            };
            let _ = writeln!(
                out,
                " {gain} | {ceil} | {} | {} |",
                cores(|m| m.server_cores),
                cores(|m| m.gen_cores)
            );
        }
        out
    }

    pub fn json(&self, meta: &[(&str, String)]) -> String {
        let mut o = String::from("{\n");
        for (k, v) in meta {
            let _ = writeln!(o, "  {}: {},", jstr(k), jstr(v));
        }
        o.push_str("  \"rows\": [\n");
        for (i, r) in self.rows.iter().enumerate() {
            let _ = write!(
                o,
                "    {{\"id\": {}, \"label\": {}, \"unit\": {}, \"higher_is_better\": {}, \"servers\": {{",
                jstr(&r.id),
                jstr(&r.label),
                jstr(r.unit),
                r.higher_is_better
            );
            for (j, (k, c)) in r.cells.iter().enumerate() {
                let runs: Vec<String> = c.runs.iter().map(|m| jnum(Some(m.value))).collect();
                let errs: Vec<String> = c.errors.iter().map(|e| jstr(e)).collect();
                let _ = write!(
                    o,
                    "{}{}: {{\"median\": {}, \"runs\": [{}], \"server_cores\": {}, \"generator_cores\": {}, \"errors\": [{}]}}",
                    if j > 0 { ", " } else { "" },
                    jstr(k.label()),
                    jnum(c.median()),
                    runs.join(", "),
                    jnum(c.med_of(|m| m.server_cores)),
                    jnum(c.med_of(|m| m.gen_cores)),
                    errs.join(", ")
                );
            }
            let _ = writeln!(o, "}}}}{}", if i + 1 < self.rows.len() { "," } else { "" });
        }
        o.push_str("  ]\n}\n");
        o
    }
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn jnum(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "null".into(),
    }
}

pub fn jstr(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: f64) -> Measure {
        Measure {
            value: v,
            server_cores: Some(1.0),
            gen_cores: None,
        }
    }

    #[test]
    fn medians_gains_and_failures_in_table() {
        let mut r = Report::default();
        for v in [3.0, 1.0, 2.0] {
            r.record("a", "fan", "msg/s", true, Kind::Mu, m(v * 10.0));
            r.record("a", "fan", "msg/s", true, Kind::Reference, m(v));
            r.record("a", "fan", "msg/s", true, Kind::Ceiling, m(v * 20.0));
        }
        r.record("b", "lat", "ms", false, Kind::Mu, m(1.0));
        r.record("b", "lat", "ms", false, Kind::Reference, m(4.0));
        r.fail("c", "join", "s", false, Kind::Mu, "LOST 3 of 9".into());
        let t = r.table(&[Kind::Ceiling, Kind::Reference, Kind::Mu]);
        assert!(
            t.contains("| fan | msg/s | 40.0 | 2.00 | 20.0 | 10.00x | 50 % |"),
            "{t}"
        );
        assert!(t.contains("| lat | ms | – | 4.00 | 1.00 | 4.00x |"), "{t}");
        assert!(t.contains("FAILED: LOST 3 of 9"), "{t}");
        let j = r.json(&[("date", "x\"y".into())]);
        assert!(j.contains("\"date\": \"x\\\"y\""), "{j}");
        assert!(j.contains("\"median\": 20, \"runs\": [30, 10, 20]"), "{j}");
    }
}
