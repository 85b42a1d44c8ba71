//! `Delta._do_ignore_order`: the `iterable_items_added_at_indexes` /
//! `iterable_items_removed_at_indexes` groups that `DeepDiff(..., ignore_order=True,
//! report_repetition=True)` produces. replication never sends them, but deepdiff carries them, so
//! they are applied with deepdiff's algorithm: the list is rebuilt by placing fixed items at their
//! new indexes and filling the gaps with the old items that are neither removed nor re-placed.

use super::apply::{path_text, Engine};
use super::error::{DeltaError, PyErr};
use super::literal::Lit;
use super::path::{parse, Elem};
use super::place::Node;
use super::pyops::{py_eq, py_len, truthy};
use super::read::{dict_items, Group};
use crate::pickle::value::Value;

const NAME: &str = "ignore_order";

/// The per-path dicts of one group, or the exception `.keys()` raises on a non-dict.
fn group_items(g: &Group, name: &str) -> Result<Vec<(Value, Value)>, DeltaError> {
    match g {
        Group::Absent => Ok(Vec::new()),
        Group::Entries(e) => Ok(e
            .iter()
            .map(|x| (x.path.clone(), x.value.clone()))
            .collect()),
        Group::Other(v) => Err(DeltaError::raised(format!(
            "{name}: AttributeError: '{}' object has no attribute 'keys'",
            v.type_name()
        ))),
    }
}

fn per_path(
    items: &[(Value, Value)],
    path: &Value,
    name: &str,
) -> Result<Vec<(Value, Value)>, DeltaError> {
    match items.iter().find(|(k, _)| py_eq(k, path)) {
        None => Ok(Vec::new()),
        Some((_, v)) => dict_items(v).ok_or_else(|| {
            DeltaError::raised(format!(
                "{name}: AttributeError: '{}' object has no attribute 'values'",
                v.type_name()
            ))
        }),
    }
}

fn take(map: &mut Vec<(Value, Value)>, key: &Value) -> Option<Value> {
    super::pyops::add_work(map.len());
    let pos = map.iter().position(|(k, _)| py_eq(k, key))?;
    Some(map.remove(pos).1)
}

/// `"{}[0]".format(path)`.
fn index0_path(path: &Value) -> Value {
    let mut s = match path {
        Value::Str(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => super::repr::repr_lossy(other),
    };
    s.push_str("[0]");
    Value::str(&s)
}

impl Engine {
    pub(super) fn ignore_order(
        &mut self,
        added: &Group,
        removed: &Group,
    ) -> Result<(), DeltaError> {
        let fixed_all = group_items(added, "iterable_items_added_at_indexes")?;
        let removed_all = group_items(removed, "iterable_items_removed_at_indexes")?;
        let mut paths: Vec<Value> = Vec::new();
        for (p, _) in fixed_all.iter().chain(removed_all.iter()) {
            if !paths.iter().any(|q| py_eq(q, p)) {
                paths.push(p.clone());
            }
        }
        for path in paths {
            let text = path_text(&path);
            let probe = index0_path(&path);
            let elems = parse(&probe, self.dialect);
            let Some(d) = self.details(&path_text(&probe), &elems)? else {
                continue;
            };
            let mut fixed = per_path(&fixed_all, &path, "iterable_items_added_at_indexes")?;
            let mut remove = per_path(&removed_all, &path, "iterable_items_removed_at_indexes")?;
            let fixed_values: Vec<Value> = fixed.iter().map(|(_, v)| v.clone()).collect();
            let obj = match &d.obj {
                Node::Delta => None,
                node => Some(self.root.value_of(node).map_err(|e| e.raise(&text))?),
            };
            let raise = |e: PyErr| e.raise(&format!("{NAME} {text}"));
            let mut there_are_old = obj.as_ref().is_none_or(truthy);
            let mut new_obj: Vec<Value> = Vec::new();
            let mut old_index: i64 = -1;
            let mut max_len: Option<i64> = None;
            while there_are_old || !fixed.is_empty() {
                if super::pyops::work_exceeded() {
                    return Err(DeltaError::unsupported(format!(
                        "{NAME} {text}: too costly"
                    )));
                }
                let idx = Value::Int(new_obj.len() as i64);
                if let Some(v) = take(&mut fixed, &idx) {
                    new_obj.push(v);
                } else if there_are_old {
                    let Some(o) = &obj else {
                        return Err(raise(PyErr::type_err(
                            "object of type 'Delta' has no len()",
                        )));
                    };
                    let max = match max_len {
                        Some(m) => m,
                        None => {
                            let m = py_len(o).map_err(raise)? as i64 - 1;
                            max_len = Some(m);
                            m
                        }
                    };
                    let mut next = None;
                    while old_index < max {
                        old_index += 1;
                        let key = Elem {
                            key: Lit::Val(Value::Int(old_index)),
                            attr: false,
                        };
                        let node = Node::Detached(o.clone());
                        let cur = self
                            .root
                            .child(&node, &key)
                            .and_then(|c| self.root.value_of(&c))
                            .map_err(raise)?;
                        super::pyops::add_work(fixed_values.len());
                        if super::pyops::work_exceeded() {
                            return Err(DeltaError::unsupported(format!(
                                "{NAME} {text}: too costly"
                            )));
                        }
                        if fixed_values.iter().any(|f| py_eq(f, &cur)) {
                            continue;
                        }
                        if let Some(expected) = take(&mut remove, &Value::Int(old_index)) {
                            if py_eq(&cur, &expected) {
                                continue;
                            }
                            self.log(format!("Failed to remove index[{old_index}] on {text}."));
                        }
                        next = Some(cur);
                        break;
                    }
                    match next {
                        Some(v) => new_obj.push(v),
                        None => there_are_old = false,
                    }
                } else {
                    self.log(format!("Delta added to an incompatible object at {text}."));
                    let (_, v) = fixed.remove(0);
                    new_obj.push(v);
                }
            }
            let value = match &obj {
                Some(Value::Tuple(_)) => Value::tuple(new_obj),
                _ => Value::list(new_obj),
            };
            match (&d.parent, &d.pelem) {
                (Some(parent), Some(pelem)) => {
                    let mut p = parent.clone();
                    self.simple_set(&mut p, pelem, value, &text)?;
                }
                _ => {
                    return Err(DeltaError::raised(format!(
                        "{NAME} {text}: DeltaError: invalid action"
                    )))
                }
            }
        }
        Ok(())
    }
}
