//! The group steps of the apply engine: `_do_values_or_type_changed`, `_do_item_added`,
//! `_do_item_removed`, `_do_set_or_frozenset_item`, `_do_iterable_opcodes` and the merging of
//! `iterable_item_moved` into the removal/addition groups, each mirroring deepdiff's method.

use super::apply::{path_text, Details, Engine, CONVERSION_BUDGET, REBUILD_BUDGET, UNABLE_TO_GET};
use super::convert::{convert, PyType};
use super::error::{DeltaError, PyErr, PyExc};
use super::literal::Lit;
use super::path::{parse, Dialect, Elem};
use super::place::Node;
use super::pyops::{py_eq, truthy};
use super::read::{dict_items, Entry, Group};
use super::sorting::sorted_entries;
use crate::pickle::value::Value;

impl Engine {
    pub(super) fn entries<'g>(
        &self,
        group: &'g Group,
        name: &str,
    ) -> Result<Option<&'g [Entry]>, DeltaError> {
        match group {
            Group::Absent => Ok(None),
            Group::Entries(e) if e.is_empty() => Ok(None),
            Group::Entries(e) => Ok(Some(e)),
            Group::Other(v) if !truthy(v) => Ok(None),
            Group::Other(v) => Err(DeltaError::raised(format!(
                "{name}: AttributeError: '{}' object has no attribute 'items'",
                v.type_name()
            ))),
        }
    }

    /// `_do_values_or_type_changed` for `values_changed` / `type_changes`.
    pub(super) fn values_or_types(
        &mut self,
        group: &Group,
        name: &str,
        is_type_change: bool,
    ) -> Result<(), DeltaError> {
        let Some(entries) = self.entries(group, name)? else {
            return Ok(());
        };
        for entry in entries {
            let text = path_text(&entry.path);
            let Some(d) = self.details(&text, &entry.elems)? else {
                continue;
            };
            let Some(fields) = dict_items(&entry.value) else {
                return Err(DeltaError::raised(format!(
                    "{name} {text}: AttributeError: '{}' object has no attribute 'get'",
                    entry.value.type_name()
                )));
            };
            let field = |n: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(n))
                    .map(|(_, v)| v.clone())
            };
            let current = match self.root.child(&d.obj, &d.elem) {
                Ok(c) => self.root.value_of(&c).map_err(|e| e.raise(&text))?,
                Err(_) => {
                    self.log(format!("{UNABLE_TO_GET} {text}"));
                    continue;
                }
            };
            let new_value = match field("new_value") {
                Some(v) => v,
                None if is_type_change => {
                    let converted = match field("new_type") {
                        Some(t) => convert(&PyType::from_value(&t), &current),
                        None => Err(PyErr::key("'new_type'")),
                    };
                    match converted {
                        Ok(Value::Bytes(b)) if b.len() > self.conversion_budget => {
                            return Err(DeltaError::unsupported(format!(
                                "{name} {text}: bytes() conversions exceed {CONVERSION_BUDGET} bytes"
                            )))
                        }
                        Ok(v) => {
                            if let Value::Bytes(b) = &v {
                                self.conversion_budget -= b.len();
                            }
                            v
                        }
                        Err(e) if e.exc == PyExc::Unsupported => {
                            return Err(e.raise(&format!("{name} {text}")))
                        }
                        Err(e) => {
                            self.type_change_failed(&d, &text, e)?;
                            continue;
                        }
                    }
                }
                None => {
                    return Err(DeltaError::raised(format!(
                        "{name} {text}: KeyError: 'new_value'"
                    )))
                }
            };
            self.set_new_value(&d, new_value, &text)?;
        }
        Ok(())
    }

    /// The except branch of a failed conversion: its message evaluates `obj[elem]`, which itself
    /// raises for attribute paths and for the root (`self['root']`).
    pub(super) fn type_change_failed(
        &mut self,
        d: &Details,
        text: &str,
        e: PyErr,
    ) -> Result<(), DeltaError> {
        let as_item = Elem {
            key: d.elem.key.clone(),
            attr: false,
        };
        let reported = match self.root.child(&d.obj, &as_item) {
            Ok(c) => self.root.value_of(&c),
            Err(e2) => Err(e2),
        };
        let context = format!("while reporting a failed type change at {text}");
        match reported {
            Err(e2) => return Err(e2.raise(&context)),
            // The message formats `obj[elem]` with `str()`, which raises on its own for an int
            // over 4,300 digits (anywhere inside it): then the apply fails, as in deepdiff.
            Ok(v) => {
                if let Some(e2) = super::repr::str_raises(&v) {
                    return Err(e2.raise(&context));
                }
            }
        }
        self.log(format!(
            "Unable to do the type change for {text} due to {e}"
        ));
        Ok(())
    }

    /// `_do_item_added` (iterable items with insert semantics, dict items, attributes).
    pub(super) fn item_added(
        &mut self,
        entries: &[Entry],
        sort: bool,
        insert: bool,
        name: &str,
    ) -> Result<(), DeltaError> {
        let order: Vec<&Entry> = if sort {
            sorted_entries(entries, false, self.dialect).map_err(|e| e.raise(name))?
        } else {
            entries.iter().collect()
        };
        for entry in order {
            let text = path_text(&entry.path);
            let Some(d) = self.details(&text, &entry.elems)? else {
                continue;
            };
            if insert {
                let len = self
                    .root
                    .len(&d.obj)
                    .map_err(|e| e.raise(&format!("{name} {text}")))?;
                let lt = match &d.elem.key {
                    Lit::Val(v) => super::pyops::py_lt(v, &Value::Int(len as i64)),
                    Lit::Opaque { desc, .. } => {
                        Err(PyErr::type_err(format!("'<' not supported for {desc}")))
                    }
                }
                .map_err(|e| e.raise(&format!("{name} {text}")))?;
                if lt {
                    let mut obj = d.obj.clone();
                    self.root
                        .insert(&mut obj, &d.elem.key, Value::None)
                        .map_err(|e| e.raise(&format!("{name} {text}")))?;
                }
            }
            self.set_new_value(&d, entry.value.clone(), &text)?;
        }
        Ok(())
    }

    /// `_do_item_removed` (iterable items, dict items, attributes).
    pub(super) fn item_removed(&mut self, entries: &[Entry], name: &str) -> Result<(), DeltaError> {
        let order = sorted_entries(entries, true, self.dialect).map_err(|e| e.raise(name))?;
        for entry in order {
            let text = path_text(&entry.path);
            let Some(d) = self.details(&text, &entry.elems)? else {
                continue;
            };
            let expected = &entry.value;
            if self.dialect == Dialect::V5_7_0 {
                if self.root.child(&d.obj, &d.elem).is_err() {
                    self.log(format!("{UNABLE_TO_GET} {text}"));
                    continue;
                }
                let elem = d.elem.clone();
                self.del_elem(&d, &elem, &text)?;
                continue;
            }
            let (mut found, look) = match self.root.child(&d.obj, &d.elem) {
                Ok(c) => {
                    let v = self.root.value_of(&c).map_err(|e| e.raise(&text))?;
                    (true, !py_eq(&v, expected))
                }
                Err(_) => (false, true),
            };
            let mut elem = Some(d.elem.clone());
            if look && self.root.is_type(&d.obj, "list") && !self.compare_func_used {
                elem = super::listops::closest_index(self.root.get(&d.obj), &d.elem.key, expected)
                    .map_err(|e| e.raise(&format!("{name} {text}")))?
                    .map(|i| Elem {
                        key: Lit::Val(Value::Int(i as i64)),
                        attr: false,
                    });
                if elem.is_some() {
                    found = true;
                }
            }
            // `if current_old_value is not_found or elem is None: continue`: a `None` key is
            // never removed (8.1.1 quirk: `root[None]` entries are skipped).
            let (true, Some(elem)) = (found, elem) else {
                continue;
            };
            if matches!(elem.key, Lit::Val(Value::None)) {
                continue;
            }
            self.del_elem(&d, &elem, &text)?;
        }
        Ok(())
    }

    /// `_do_set_or_frozenset_item`: nothing here is guarded, so most failures raise.
    pub(super) fn set_items(
        &mut self,
        group: &Group,
        name: &str,
        union: bool,
    ) -> Result<(), DeltaError> {
        let Some(entries) = self.entries(group, name)? else {
            return Ok(());
        };
        for entry in entries {
            let text = path_text(&entry.path);
            if super::pyops::work_exceeded() {
                return Err(DeltaError::unsupported(format!(
                    "{name} {text}: too costly"
                )));
            }
            let elements = entry
                .elems
                .clone()
                .map_err(|e| e.raise(&format!("{name} {text}")))?;
            let n = elements.len();
            let mut parent = self
                .root
                .walk(&elements[..n - 1])
                .map_err(|e| e.raise(&format!("{name} {text}")))?;
            let elem = elements[n - 1].clone();
            let current = match self.root.child(&parent, &elem) {
                Ok(c) => self.root.value_of(&c).map_err(|e| e.raise(&text))?,
                Err(_) => {
                    self.log(format!("{UNABLE_TO_GET} {text}"));
                    let f = if union { "union" } else { "difference" };
                    return Err(DeltaError::raised(format!(
                        "{name} {text}: AttributeError: '_NotFound' object has no attribute '{f}'"
                    )));
                }
            };
            let new = super::listops::set_op(&current, &entry.value, union)
                .map_err(|e| e.raise(&format!("{name} {text}")))?;
            self.simple_set(&mut parent, &elem, new, &text)?;
        }
        Ok(())
    }

    /// `_do_iterable_opcodes` (8.x), including its tuple defect: the *original* tuple is written
    /// into the slot of the object that contains it.
    pub(super) fn opcodes(&mut self, group: &Group) -> Result<(), DeltaError> {
        let name = "_iterable_opcodes";
        let Some(entries) = self.entries(group, name)? else {
            return Ok(());
        };
        for entry in entries {
            let text = path_text(&entry.path);
            let Some(d) = self.details(&text, &entry.elems)? else {
                continue;
            };
            let (mut parent, pelem) = match (d.parent.clone(), d.pelem.clone()) {
                (Some(p), Some(e)) => (p, e),
                _ => (Node::Delta, Elem::root()),
            };
            let obj = self
                .root
                .walk(&d.elements)
                .map_err(|e| e.raise(&format!("{name} {text}")))?;
            let current = self.root.value_of(&obj).map_err(|e| e.raise(&text))?;
            let transformed = super::listops::rebuild(&current, &entry.value)
                .map_err(|e| e.raise(&format!("{name} {text}")))?;
            self.rebuild_budget = self
                .rebuild_budget
                .checked_sub(transformed.len())
                .ok_or_else(|| {
                    DeltaError::unsupported(format!(
                        "{name}: opcodes rebuild more than {REBUILD_BUDGET} items in total"
                    ))
                })?;
            if let Value::Tuple(_) = current {
                self.simple_set(&mut parent, &pelem, current, &text)?;
                continue;
            }
            match (obj, &current) {
                (Node::At(steps), Value::List(_)) => {
                    self.root.replace(&steps, Value::list(transformed));
                }
                (Node::Detached(_), Value::List(_)) => {}
                _ => {
                    return Err(DeltaError::raised(format!(
                        "{name} {text}: TypeError: '{}' object does not support slice assignment",
                        current.type_name()
                    )))
                }
            }
        }
        Ok(())
    }

    /// `_do_post_process`: lists that were tuples become tuples again. Iterating the map while
    /// `_coerce_obj` adds to it raises like CPython's dict (8.1.1) or OrderedDict (5.7.0).
    /// `iterable_item_moved` entries merged into a removal/addition group (`dict.update`).
    pub(super) fn merged(
        &self,
        base: &Group,
        moved: &Group,
        name: &str,
        added: Option<bool>,
    ) -> Result<Option<Vec<Entry>>, DeltaError> {
        let mut out: Vec<Entry> = match base {
            Group::Absent => Vec::new(),
            Group::Entries(e) => e.clone(),
            Group::Other(v) => {
                if matches!(moved, Group::Entries(m) if !m.is_empty()) || truthy(v) {
                    return Err(DeltaError::raised(format!(
                        "{name}: AttributeError: '{}' object has no attribute 'update'",
                        v.type_name()
                    )));
                }
                Vec::new()
            }
        };
        if let Some(moved_entries) = self.entries(moved, "iterable_item_moved")? {
            for m in moved_entries {
                let Some(fields) = dict_items(&m.value) else {
                    return Err(DeltaError::raised(
                        "iterable_item_moved: TypeError: entry is not subscriptable",
                    ));
                };
                let get = |n: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k.as_str() == Some(n))
                        .map(|(_, v)| v.clone())
                };
                let (path, value) = match added {
                    None => (m.path.clone(), get("value")),
                    Some(placeholder) => (
                        get("new_path").ok_or_else(|| {
                            DeltaError::raised("iterable_item_moved: KeyError: 'new_path'")
                        })?,
                        if placeholder {
                            Some(Value::None)
                        } else {
                            get("value")
                        },
                    ),
                };
                let value = value
                    .ok_or_else(|| DeltaError::raised("iterable_item_moved: KeyError: 'value'"))?;
                if !super::pyops::is_hashable(&path) {
                    return Err(DeltaError::raised(
                        "iterable_item_moved: TypeError: unhashable path",
                    ));
                }
                super::pyops::add_work(out.len());
                if super::pyops::work_exceeded() {
                    return Err(DeltaError::unsupported("iterable_item_moved: too costly"));
                }
                match out.iter_mut().find(|e| py_eq(&e.path, &path)) {
                    Some(e) => e.value = value,
                    None => out.push(Entry {
                        elems: parse(&path, self.dialect),
                        path,
                        value,
                    }),
                }
            }
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }
}
