//! The apply engine: `old + Delta(bytes)` as deepdiff 8.1.1 (or 5.7.0) runs it, step by step.
//!
//! Each function mirrors one method of deepdiff's `Delta` (named in its doc) with the same
//! order of operations, the same exceptions caught (then logged and skipped) and the same ones
//! let through (then `apply` fails). The quirks this reproduces on purpose are listed in
//! docs/delta.md; the unit tests in `tests.rs` pin each of them.

use super::convert::{convert, PyType};
use super::error::{DeltaError, PyErr, PyExc};
use super::literal::Lit;
use super::path::{parse, Dialect, Elem};
use super::place::{key_equals_len, Node, Root};
use super::pyops::{py_eq, truthy};
use super::read::{dict_items, Entry, Group};
use super::sorting::sorted_entries;
use crate::pickle::value::Value;

pub(super) const UNABLE_TO_GET: &str = "Unable to get the item at";

/// Bytes that `bytes(n)` conversions may create in one apply before the delta is refused.
pub(super) const CONVERSION_BUDGET: usize = 64 << 20;

/// List items `_iterable_opcodes` may rebuild in one apply before the delta is refused.
pub(super) const REBUILD_BUDGET: usize = 16_000_000;

/// `_get_elements_and_details`: the parent, the container `obj` and the final element.
pub(super) struct Details {
    pub elements: Vec<Elem>,
    pub parent: Option<Node>,
    pub pelem: Option<Elem>,
    pub obj: Node,
    pub elem: Elem,
}

/// A `post_process_paths_to_convert` entry: the path of a list that was a tuple.
struct PostEntry {
    elements: Vec<Elem>,
}

pub(super) struct Engine {
    pub root: Root,
    pub logs: Vec<String>,
    post: Vec<PostEntry>,
    pub dialect: Dialect,
    pub compare_func_used: bool,
    conversion_budget: usize,
    rebuild_budget: usize,
}

fn elem_eq(a: &Elem, b: &Elem) -> bool {
    a.attr == b.attr
        && match (&a.key, &b.key) {
            (Lit::Val(x), Lit::Val(y)) => py_eq(x, y),
            _ => false,
        }
}

pub(super) fn path_text(path: &Value) -> String {
    match path {
        Value::Str(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => format!("{other:?}"),
    }
}

fn elements_text(elements: &[Elem]) -> String {
    let parts: Vec<String> = elements.iter().map(|e| format!("{:?}", e.key)).collect();
    format!("({})", parts.join(", "))
}

/// What `'.'.join([i[0] for i in path])` does to a pre-parsed path: fails on non-str elements.
fn join_fails(elements: &[Elem]) -> bool {
    elements
        .iter()
        .any(|e| !matches!(&e.key, Lit::Val(Value::Str(_))))
}

impl Engine {
    pub fn new(old: Value, dialect: Dialect, compare_func_used: bool) -> Engine {
        Engine {
            root: Root { value: Some(old) },
            logs: Vec::new(),
            post: Vec::new(),
            dialect,
            compare_func_used,
            conversion_budget: CONVERSION_BUDGET,
            rebuild_budget: REBUILD_BUDGET,
        }
    }

    pub fn log(&mut self, msg: String) {
        self.logs.push(msg);
    }

    /// `_get_elements_and_details(path)`; `Ok(None)` when deepdiff logs and skips.
    pub fn details(
        &mut self,
        text: &str,
        elements: &Result<Vec<Elem>, PyErr>,
    ) -> Result<Option<Details>, DeltaError> {
        let elements = match elements {
            Ok(e) => e.clone(),
            Err(e) if e.exc == PyExc::Unsupported => return Err(e.clone().raise(text)),
            Err(e) => {
                self.log(format!("{UNABLE_TO_GET} {text}: {e}"));
                return Ok(None);
            }
        };
        let n = elements.len();
        let Some(elem) = elements.last().cloned() else {
            self.log(format!("{UNABLE_TO_GET} {text}: empty path"));
            return Ok(None);
        };
        if n == 1 {
            return Ok(Some(Details {
                elements,
                parent: None,
                pelem: None,
                obj: Node::Delta,
                elem,
            }));
        }
        let parent = match self.root.walk(&elements[..n - 2]) {
            Ok(p) => p,
            Err(e) => {
                self.log(format!("{UNABLE_TO_GET} {text}: {e}"));
                return Ok(None);
            }
        };
        let pelem = elements[n - 2].clone();
        let obj = match self.root.child(&parent, &pelem) {
            Ok(o) => o,
            Err(e) => {
                self.log(format!("{UNABLE_TO_GET} {text}: {e}"));
                return Ok(None);
            }
        };
        Ok(Some(Details {
            elements,
            parent: Some(parent),
            pelem: Some(pelem),
            obj,
            elem,
        }))
    }

    /// `_simple_set_elem_value`; returns whether the value was stored.
    pub fn simple_set(
        &mut self,
        node: &mut Node,
        e: &Elem,
        value: Value,
        text: &str,
    ) -> Result<bool, DeltaError> {
        match self.root.set(node, e, value.clone()) {
            Ok(()) => Ok(true),
            Err(err) if err.exc == PyExc::IndexError && !e.attr => {
                let len = self.root.len(node).unwrap_or(usize::MAX);
                if key_equals_len(&e.key, len) {
                    self.root.append(node, value);
                    Ok(true)
                } else {
                    self.log(format!(
                        "Key or index of {:?} is not found for {text} for setting operation.",
                        e.key
                    ));
                    Ok(false)
                }
            }
            Err(err) if err.is_lookup_like() => {
                self.log(format!("Failed to set {text} due to {err}"));
                Ok(false)
            }
            Err(err) => Err(err.raise(text)),
        }
    }

    /// `_simple_delete_elem`: KeyError/IndexError/AttributeError are logged, TypeError raises.
    fn simple_delete(&mut self, node: &mut Node, e: &Elem, text: &str) -> Result<(), DeltaError> {
        match self.root.delete(node, e) {
            Ok(()) => Ok(()),
            Err(err)
                if matches!(
                    err.exc,
                    PyExc::KeyError | PyExc::IndexError | PyExc::AttributeError
                ) =>
            {
                self.log(format!("Failed to set {text} due to {err}"));
                Ok(())
            }
            Err(err) => Err(err.raise(text)),
        }
    }

    fn post_insert(&mut self, elements: &[Elem]) {
        let key = &elements[..elements.len().saturating_sub(1)];
        let exists = self.post.iter().any(|p| {
            p.elements.len() == key.len() && p.elements.iter().zip(key).all(|(a, b)| elem_eq(a, b))
        });
        if !exists {
            self.post.push(PostEntry {
                elements: key.to_vec(),
            });
        }
    }

    fn tuple_items(&self, node: &Node) -> Option<Vec<Value>> {
        match self.root.get(node) {
            Some(Value::Tuple(t)) => Some(t.to_vec()),
            _ => None,
        }
    }

    /// `_set_new_value`: coerces a tuple container to a list first (`_coerce_obj`).
    pub fn set_new_value(
        &mut self,
        d: &Details,
        value: Value,
        text: &str,
    ) -> Result<(), DeltaError> {
        let mut obj = d.obj.clone();
        if let Some(items) = self.tuple_items(&obj) {
            self.post_insert(&d.elements);
            let list = Value::list(items);
            let stored = match (&d.parent, &d.pelem) {
                (Some(parent), Some(pelem)) => {
                    let mut p = parent.clone();
                    let attached = matches!(p, Node::At(_) | Node::Delta);
                    self.simple_set(&mut p, pelem, list.clone(), text)? && attached
                }
                _ => false,
            };
            if !(stored && matches!(obj, Node::At(_))) {
                obj = Node::Detached(list);
            }
        }
        self.simple_set(&mut obj, &d.elem, value, text)?;
        Ok(())
    }

    /// `_del_elem`: a tuple container becomes a list, loses the item, and is put back.
    fn del_elem(&mut self, d: &Details, elem: &Elem, text: &str) -> Result<(), DeltaError> {
        if let Some(items) = self.tuple_items(&d.obj) {
            self.post_insert(&d.elements);
            let mut local = Node::Detached(Value::list(items));
            self.simple_delete(&mut local, elem, text)?;
            if let (Some(parent), Some(pelem), Node::Detached(v)) = (&d.parent, &d.pelem, local) {
                let mut p = parent.clone();
                self.simple_set(&mut p, pelem, v, text)?;
            }
            return Ok(());
        }
        let mut obj = d.obj.clone();
        self.simple_delete(&mut obj, elem, text)
    }

    /// A group that is present but not a dict: `x.items()` raises when `x` is truthy.
    fn entries<'g>(&self, group: &'g Group, name: &str) -> Result<Option<&'g [Entry]>, DeltaError> {
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
    pub fn values_or_types(
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
    fn type_change_failed(&mut self, d: &Details, text: &str, e: PyErr) -> Result<(), DeltaError> {
        let as_item = Elem {
            key: d.elem.key.clone(),
            attr: false,
        };
        if let Err(e2) = self.root.child(&d.obj, &as_item) {
            return Err(e2.raise(&format!("while reporting a failed type change at {text}")));
        }
        self.log(format!(
            "Unable to do the type change for {text} due to {e}"
        ));
        Ok(())
    }

    /// `_do_item_added` (iterable items with insert semantics, dict items, attributes).
    pub fn item_added(
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
    pub fn item_removed(&mut self, entries: &[Entry], name: &str) -> Result<(), DeltaError> {
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
    pub fn set_items(&mut self, group: &Group, name: &str, union: bool) -> Result<(), DeltaError> {
        let Some(entries) = self.entries(group, name)? else {
            return Ok(());
        };
        for entry in entries {
            let text = path_text(&entry.path);
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
    pub fn opcodes(&mut self, group: &Group) -> Result<(), DeltaError> {
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
                    if let Some(slot) = self.root.get_mut(&steps) {
                        *slot = Value::list(transformed);
                    }
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
    pub fn post_process(&mut self) -> Result<(), DeltaError> {
        if self.post.is_empty() {
            return Ok(());
        }
        let size0 = self.post.len();
        let mut pos = 0;
        loop {
            match self.dialect {
                Dialect::V8_1_1 => {
                    if self.post.len() != size0 {
                        return Err(DeltaError::raised(
                            "post-process: RuntimeError: dictionary changed size during iteration",
                        ));
                    }
                    if pos >= self.post.len() {
                        break;
                    }
                }
                Dialect::V5_7_0 => {
                    if pos >= size0 {
                        break;
                    }
                    if self.post.len() != size0 {
                        return Err(DeltaError::raised(
                            "post-process: RuntimeError: OrderedDict mutated during iteration",
                        ));
                    }
                }
            }
            let elements = self.post[pos].elements.clone();
            pos += 1;
            self.post_one(&elements)?;
        }
        Ok(())
    }

    fn post_one(&mut self, elements: &[Elem]) -> Result<(), DeltaError> {
        let text = elements_text(elements);
        let Some(d) = self.details(&text, &Ok(elements.to_vec()))? else {
            return Ok(());
        };
        let current = match self.root.child(&d.obj, &d.elem) {
            Ok(c) => self.root.value_of(&c).map_err(|e| e.raise(&text))?,
            Err(_) => {
                if join_fails(elements) {
                    return Err(DeltaError::raised(format!(
                        "post-process {text}: TypeError: sequence item: expected str instance"
                    )));
                }
                self.log(format!("{UNABLE_TO_GET} {text}"));
                return Ok(());
            }
        };
        match convert(&PyType::Tuple, &current) {
            Ok(v) => self.set_new_value(&d, v, &text),
            Err(e) => self.type_change_failed(&d, &text, e),
        }
    }

    /// `iterable_item_moved` entries merged into a removal/addition group (`dict.update`).
    pub fn merged(
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
